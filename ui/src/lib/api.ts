//! The UI's only door to the shell. It wraps the generated `bindings.ts` (tauri-specta) so the
//! rest of the UI never sees the transport: fallible commands resolve to their data or throw an
//! `ApiError` carrying the shell's `AppError`; events are subscribed with a returned cleanup.
//! When the shell regenerates `bindings.ts`, this is the only file that may need adjusting.
import { commands, events } from "../bindings";
import type {
  AppError,
  ErrorKind,
  Result,
  Settings,
  NodeEvent,
  Balance,
  Withdrawal,
  BenchProgress,
} from "../bindings";

export type * from "../bindings";

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
    return { kind, message: String(o.message), key: typeof o.key === "string" ? o.key : null };
  }
  if (e instanceof Error) return { kind: "internal", message: e.message, key: null };
  return { kind: "internal", message: String(e), key: null };
}

/** Unwraps a tauri-specta `Result`: data, or a thrown `ApiError`. */
export async function unwrap<T>(p: Promise<Result<T, AppError>>): Promise<T> {
  let r: Result<T, AppError>;
  try {
    r = await p;
  } catch (e) {
    throw new ApiError(toAppError(e));
  }
  if (r.status === "ok") return r.data;
  throw new ApiError(toAppError(r.error));
}

export const api = {
  getStatus: () => unwrap(commands.getStatus()),
  pause: (minutes: number | null) => unwrap(commands.pause(minutes)),
  resume: () => unwrap(commands.resume()),
  getHardware: () => unwrap(commands.getHardware()),
  runBenchmark: () => unwrap(commands.runBenchmark()),
  getNetwork: () => unwrap(commands.getNetwork()),
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
  withdrawalChanged: (cb: (e: Withdrawal) => void) =>
    subscribe<Withdrawal>((f) => events.withdrawalChanged.listen(f), cb),
};
