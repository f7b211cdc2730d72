// The UI's only door to the shell. It wraps the generated `bindings.ts` (tauri-specta) so the
// rest of the UI never sees the transport: fallible commands resolve to their data or throw an
// `ApiError` carrying the shell's `AppError`; events are subscribed with a returned cleanup.
// When the shell regenerates `bindings.ts`, this is the only file that may need adjusting.
import { commands, events } from "../bindings";
import type { Result } from "../bindings";

// The UI's names for the shell's types, derived from the command and event signatures
// rather than imported by name: the generated file names its types after the Rust structs
// (`WalletView`, `AppState`, …), and this keeps those names out of the rest of the UI.
// A command returning `Result<T, AppError>` yields T; one generated as infallible (`Promise<T>`) yields T too.
type Data<F> = F extends (...args: never[]) => Promise<infer R> ? ([R] extends [Result<infer T, unknown>] ? T : R) : never;
type Payload<E> = E extends { listen: (cb: (e: { payload: infer P }) => void) => unknown } ? P : never;

export type AppError = Extract<Awaited<ReturnType<typeof commands.getStatus>>, { status: "error" }>["error"];
export type ErrorKind = AppError["kind"];
export type Status = Data<typeof commands.getStatus>;
export type NodeEvent = Payload<typeof events.nodeEvent>;
export type AppState = Status["state"];
/** The state the UI shows: the app's, of which the node's event states are a part. */
export type NodeState = AppState;
export type Reason = NonNullable<Status["reason"]>;
export type SampleEvent = Extract<Data<typeof commands.getRecentSamples>[number], { event: "sample" }>;
export type Measurement = SampleEvent["gpu_watts"];
export type Hardware = Data<typeof commands.getHardware>;
export type GpuInfo = NonNullable<Hardware["gpu"]>;
export type BenchSummary = Data<typeof commands.runBenchmark>;
export type BenchProgress = Payload<typeof events.benchProgress>;
export type NetworkInfo = Data<typeof commands.getNetwork>;
export type Market = Data<typeof commands.getMarket>;
export type ModelStorage = Data<typeof commands.getModels>;
export type CachedModel = ModelStorage["models"][number];
export type WalletInfo = NonNullable<Data<typeof commands.walletInfo>>;
export type NewWallet = Data<typeof commands.walletCreate>;
export type AddressCheck = Data<typeof commands.validateAddress>;
export type Balance = Data<typeof commands.getBalance>;
export type Withdrawal = Data<typeof commands.withdraw>;
export type WithdrawalStatus = Withdrawal["status"];
export type EnergyReport = Data<typeof commands.getEnergy>;
export type DayEnergy = EnergyReport["today"];
export type Settings = Data<typeof commands.getSettings>;
export type ScheduleWindow = NonNullable<Settings["schedule"]>["windows"][number];
export type Weekday = ScheduleWindow["days"][number];
export type AppInfo = Data<typeof commands.getAppInfo>;
export type UpdateStatus = Data<typeof commands.getUpdateStatus>;
export type InstallOutcome = Data<typeof commands.installUpdate>;
export type { Result };

/** A failed command: the shell's `AppError` (kind, sentence, optional settings key). */
export class ApiError extends Error {
  readonly kind: ErrorKind;
  readonly key: string | null;
  constructor(readonly error: AppError) {
    super(error.message);
    this.name = "ApiError";
    this.kind = error.kind;
    this.key = error.key ?? null;
  }
}

const KINDS: readonly ErrorKind[] = [
  "invalid_setting",
  "invalid_input",
  "keyring",
  "no_wallet",
  "wallet",
  "network",
  "no_gpu",
  "chain",
  "internal",
];

/** Normalises anything thrown by a command into an `AppError` (unknown shapes become `internal`). */
export function toAppError(e: unknown): AppError {
  if (e instanceof ApiError) return e.error;
  if (e && typeof e === "object" && "kind" in e && "message" in e) {
    const o = e as { kind: unknown; message: unknown; key?: unknown };
    const kind = KINDS.includes(o.kind as ErrorKind) ? (o.kind as ErrorKind) : "internal";
    return { kind, message: String(o.message), key: typeof o.key === "string" ? o.key : null } as AppError;
  }
  if (e instanceof Error) return { kind: "internal", message: e.message, key: null } as AppError;
  return { kind: "internal", message: String(e), key: null } as AppError;
}

function isResult(r: unknown): r is Result<unknown, unknown> {
  if (!r || typeof r !== "object" || !("status" in r)) return false;
  const s = (r as { status: unknown }).status;
  return (s === "ok" && "data" in r) || (s === "error" && "error" in r);
}

/**
 * Unwraps a tauri-specta `Result`: data, or a thrown `ApiError`. A command the generator
 * typed as infallible resolves to its value directly (a rejection still becomes an ApiError).
 */
export async function unwrap<T>(p: Promise<Result<T, AppError> | T>): Promise<T> {
  let r: Result<T, AppError> | T;
  try {
    r = await p;
  } catch (e) {
    throw new ApiError(toAppError(e));
  }
  if (!isResult(r)) return r as T;
  if (r.status === "ok") return r.data as T;
  throw new ApiError(toAppError(r.error));
}

export const api = {
  getStatus: () => unwrap(commands.getStatus()),
  pause: (minutes: number | null) => unwrap(commands.pause(minutes)),
  resume: () => unwrap(commands.resume()),
  getHardware: () => unwrap(commands.getHardware()),
  runBenchmark: () => unwrap(commands.runBenchmark()),
  getNetwork: () => unwrap(commands.getNetwork()),
  getMarket: () => unwrap(commands.getMarket()),
  getModels: () => unwrap(commands.getModels()),
  clearModels: () => unwrap(commands.clearModels()),
  walletInfo: () => unwrap(commands.walletInfo()),
  walletCreate: (words: 12 | 24) => unwrap(commands.walletCreate(words)),
  walletBackupChallenge: () => unwrap(commands.walletBackupChallenge()),
  walletConfirmBackup: (answers: string[]) => unwrap(commands.walletConfirmBackup(answers)),
  walletRevealPhrase: () => unwrap(commands.walletRevealPhrase()),
  walletImport: (secret: string) => unwrap(commands.walletImport(secret)),
  walletDelete: () => unwrap(commands.walletDelete()),
  validateAddress: (address: string) => unwrap(commands.validateAddress(address)),
  getBalance: () => unwrap(commands.getBalance()),
  withdraw: (to: string, amount: string) => unwrap(commands.withdraw(to, amount)),
  listWithdrawals: () => unwrap(commands.listWithdrawals()),
  getEnergy: (days: number) => unwrap(commands.getEnergy(days)),
  getRecentSamples: () => unwrap(commands.getRecentSamples()),
  getSettings: () => unwrap(commands.getSettings()),
  saveSettings: (settings: Settings) => unwrap(commands.saveSettings(settings)),
  getAppInfo: () => unwrap(commands.getAppInfo()),
  finishOnboarding: () => unwrap(commands.finishOnboarding()),
  setAutostart: (enabled: boolean) => unwrap(commands.setAutostart(enabled)),
  openLogsFolder: () => unwrap(commands.openLogsFolder()),
  getUpdateStatus: () => unwrap(commands.getUpdateStatus()),
  installUpdate: (confirmed: boolean) => unwrap(commands.installUpdate(confirmed)),
};

type Unlisten = () => void;

/** Subscribes to an event; the returned function unsubscribes, even if called before `listen` resolved. */
function subscribe<T>(
  listen: (cb: (e: { payload: T }) => void) => Promise<Unlisten>,
  cb: (payload: T) => void,
): Unlisten {
  let stopped = false;
  let un: Unlisten | null = null;
  listen((e) => {
    if (!stopped) cb(e.payload);
  })
    .then((u) => {
      if (stopped) u();
      else un = u;
    })
    .catch((e: unknown) => console.warn("event subscription failed", e));
  return () => {
    stopped = true;
    un?.();
    un = null;
  };
}

export const on = {
  nodeEvent: (cb: (e: NodeEvent) => void) => subscribe<NodeEvent>((f) => events.nodeEvent.listen(f), cb),
  benchProgress: (cb: (e: BenchProgress) => void) =>
    subscribe<BenchProgress>((f) => events.benchProgress.listen(f), cb),
  balanceChanged: (cb: (e: Balance) => void) => subscribe<Balance>((f) => events.balanceChanged.listen(f), cb),
  statusChanged: (cb: (e: Status) => void) => subscribe<Status>((f) => events.statusChanged.listen(f), cb),
  withdrawalChanged: (cb: (e: Withdrawal) => void) =>
    subscribe<Withdrawal>((f) => events.withdrawalChanged.listen(f), cb),
  updateChanged: (cb: (e: UpdateStatus) => void) =>
    subscribe<UpdateStatus>((f) => events.updateChanged.listen(f), cb),
};
