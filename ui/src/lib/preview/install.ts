// DEV-ONLY PREVIEW TRANSPORT. Lets `npm run dev` opened in a plain browser (no Tauri shell)
// show every screen with realistic sample data, so the UI can be looked at and screenshotted
// while the shell is built elsewhere. It mocks the IPC below `bindings.ts` with
// `@tauri-apps/api/mocks`, so `api.ts` and the screens run unchanged.
//
// It is loaded only from `main.ts` behind `import.meta.env.DEV && !window.__TAURI_INTERNALS__`,
// so production builds (`npm run build`) do not contain it, and no test uses it. Query
// parameters pick a scenario: `?onboarding`, `?state=paused|throttled|waiting|error`,
// `?lang=de`, `?nowallet`, `?unconfirmed` (a wallet whose backup is not confirmed), `?empty`
// (no history/samples), `?fresh` or `?fresh=N` (a first run: N seconds of samples, 7 if not
// given, a few Wh today and tiny earnings, nothing on earlier days), `?frozen` (no live ticks).
import { mockIPC } from "@tauri-apps/api/mocks";
import { emit } from "@tauri-apps/api/event";
import type {
  AppError,
  Balance,
  EnergyReport,
  Market,
  NodeState,
  Reason,
  SampleEvent,
  Settings,
  Status,
  WalletInfo,
  Withdrawal,
} from "../api";
import { add, sub, compare } from "../decimal";
import { localDate } from "../stores/reducers";

const q = new URLSearchParams(location.search);
const PHRASE = "ladder orbit humble velvet circle magnet sunset gravel pilot random absorb kettle".split(" ");
const ADDRESS = "0x8ba1f109551bD432803012645Ac136ddd64DBA72";

function fail(kind: AppError["kind"], message: string, key: string | null = null): never {
  throw { kind, message, key } satisfies AppError;
}

export function install(): void {
  const now = Date.now();
  const scenario = q.get("state") ?? "computing";
  const reasons: Record<string, [NodeState, Reason | null]> = {
    computing: ["computing", { kind: "owner_away" }],
    paused: ["paused", { kind: "on_battery" }],
    userpaused: ["paused", { kind: "user_paused" }],
    throttled: ["throttled", { kind: "thermal_limit", max_celsius: 80 }],
    waiting: ["waiting", { kind: "owner_active", idle_s: 42, idle_after_s: 300 }],
    error: ["error", { kind: "gpu_unavailable", message: "the driver reported the device as lost" }],
  };
  const [state0, reason0] = reasons[scenario] ?? reasons.computing!;
  let settings: Settings = {
    version: 1,
    idle_after_min: 5,
    run_mode: "idle",
    pause_on_battery: true,
    max_temp_c: 80,
    max_watts: null,
    rated_watts_override: null,
    currency: "EUR",
    price_per_kwh: 0.32,
    grid_g_co2_per_kwh: 380,
    allow_software_adapter: true,
    schedule: null,
    coordinator_url: null,
    language: (q.get("lang") as "en" | "de" | null) ?? null,
    autostart: false,
    auto_update_checks: true,
    update_url: null,
    model_storage_mb: 2000,
  };
  let status: Status = {
    state: q.has("onboarding") ? "setup" : state0,
    reason: q.has("onboarding") ? null : reason0,
    paused_until_ms: null,
    onboarded: !q.has("onboarding"),
    network: { embedded: true, url: null },
  };
  let wallet: WalletInfo | null = q.has("unconfirmed")
    ? { address: ADDRESS, backed_up: false, created_at_ms: now }
    : q.has("onboarding") || q.has("nowallet")
      ? null
      : { address: ADDRESS, backed_up: true, created_at_ms: now - 864e5 * 6 };
  let balance: Balance = {
    symbol: "IDW",
    withdrawable: "41.27385",
    pending: "0.8125",
    total_earned: "66.08635",
    today_earned: "3.2125",
    jobs_verified: 412,
    jobs_rejected: 3,
    devnet: true,
    recent_jobs: q.has("empty")
      ? []
      : [
          { origin: "demo_client", kind: "matmul", rows: 256, n: 256, k: 256, outcome: "running", reward: "0.0000335" },
          { origin: "demo_client", kind: "matmul", rows: 256, n: 256, k: 256, outcome: "verified", reward: "0.0000335" },
          { origin: "calibration", kind: "matmul", rows: 512, n: 512, k: 512, outcome: "verified", reward: "0.000268" },
          { origin: "client_paid", kind: "embeddings", rows: 64, n: 384, k: 42, outcome: "rejected", reward: "0.0004" },
        ].map((j, i) => ({
          ...(j as Pick<Balance["recent_jobs"][number], "origin" | "kind" | "rows" | "n" | "k" | "outcome" | "reward">),
          lease_id: `l-${i}`,
          issued_at_ms: now - (i + 1) * 95_000,
          finished_at_ms: j.outcome === "running" ? null : now - i * 95_000,
        })),
  };
  const market: Market = {
    paid_jobs_waiting: q.has("empty") ? 0 : 2,
    calibration_budget: true,
    prices: {
      symbol: "IDW",
      matmul_per_tflop: "1",
      embeddings_per_1k_tokens: "0.0005",
      node_matmul_per_tflop: "0.95",
      fee_bps: 500,
      reference: { currency: "EUR", per_token: 0.1, matmul_per_tflop: 0.1, embeddings_per_1k_tokens: 0.00005 },
    },
    embedded: true,
    demo_client: true,
    message: null,
  };
  let withdrawals: Withdrawal[] = q.has("empty")
    ? []
    : [
        {
          id: "w-2",
          to: "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
          amount: "20",
          status: "confirmed",
          tx_hash: "0x3f9c1b7e22a04d0c8e6d1f4b9a7c2e5d8f0a1b3c4d5e6f708192a3b4c5d6e7f8",
          block: 1842,
          reason: null,
          devnet: true,
          created_at_ms: now - 864e5 * 2,
        },
        {
          id: "w-1",
          to: "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
          amount: "4.81",
          status: "failed",
          tx_hash: null,
          block: null,
          reason: "The chain did not answer in time; your balance was not touched.",
          devnet: true,
          created_at_ms: now - 864e5 * 4,
        },
      ];
  const today = localDate(now);
  const days = [6, 5, 4, 3, 2, 1, 0].map((back) => {
    const d = new Date(now - back * 864e5);
    const wh = back === 0 ? 312 : [820, 1140, 640, 1320, 980, 450][back % 6]!;
    return {
      date: localDate(d.getTime()),
      wh,
      measured_wh: back === 0 ? 190 : wh,
      cost: (wh / 1000) * 0.32,
      co2_g: (wh / 1000) * 380,
      earned: back === 0 ? "3.2125" : ["9.5", "12.75", "6.25", "14.125", "10.5", "4.75"][back % 6]!,
    };
  });
  if (q.has("fresh")) {
    days.forEach((d, i) => {
      const wh = i === 6 ? 0.42 : 0;
      Object.assign(d, { wh, measured_wh: 0, cost: (wh / 1000) * 0.32, co2_g: (wh / 1000) * 380, earned: i === 6 ? "0.004294" : "0" });
    });
    if (!q.has("nowallet")) balance = { ...balance, today_earned: "0.004294" };
  }
  const energy: EnergyReport = { currency: "EUR", today: days[6]!, days, total_wh: 5662, jobs_done: 431 };
  void today;

  let samples: SampleEvent[] = [];
  let todayWh = energy.today.wh;
  let measuredWh = energy.today.measured_wh;
  function makeSample(ts: number, i: number): SampleEvent {
    const computing = status.state === "computing" || status.state === "throttled";
    const measured = i % 240 < 150;
    const base = computing ? (status.state === "throttled" ? 96 : 128) : 14;
    const w = base + Math.sin(i / 9) * (computing ? 9 : 1.5) + ((i * 7919) % 13) / 3;
    return {
      ts_ms: ts,
      event: "sample",
      gpu_watts: { value: w, source: measured ? { kind: "measured", via: "NVML" } : { kind: "estimated", basis: "rated power × duty" } },
      gpu_temp_c: { value: computing ? 71 + Math.sin(i / 30) * 4 : 43, source: { kind: "measured", via: "NVML" } },
      on_battery: false,
      duty: computing ? 0.82 + Math.sin(i / 17) * 0.08 : 0,
      rated_watts: 170,
      today_wh: todayWh,
      today_measured_wh: measuredWh,
      today_cost: (todayWh / 1000) * settings.price_per_kwh,
      currency: settings.currency,
      today_co2_g: (todayWh / 1000) * settings.grid_g_co2_per_kwh,
    };
  }
  if (!q.has("empty")) {
    const n = q.has("fresh") ? Math.min(600, Number(q.get("fresh")) || 7) : 600;
    for (let i = 600 - n; i < 600; i++) samples.push(makeSample(now - (600 - i) * 1000, i));
  }
  let tick = samples.length;

  mockIPC(
    async (cmd, args) => {
      const a = (args ?? {}) as Record<string, unknown>;
      switch (cmd) {
        case "get_status":
          return status;
        case "pause": {
          const minutes = a.minutes as number | null;
          status = {
            ...status,
            state: "paused",
            reason: { kind: "user_paused" },
            paused_until_ms: minutes ? Date.now() + minutes * 60000 : null,
          };
          void emit("status_changed", status);
          return status;
        }
        case "resume":
          status = { ...status, state: "computing", reason: { kind: "owner_away" }, paused_until_ms: null };
          void emit("status_changed", status);
          return status;
        case "get_hardware":
          return {
            gpu: {
              name: "llvmpipe (LLVM 15.0.6, 256 bits)",
              vendor: "Mesa (0x10005)",
              device_type: "Cpu",
              backend: "Vulkan",
              driver: "llvmpipe · Mesa 22.3.6",
              max_buffer_bytes: 2147483648,
              software: true,
            },
            gpu_error: null,
            usable: true,
            host: { cpu: "AMD EPYC 7B13 (2 cores)", cores: 2, ram_bytes: 8 * 1024 ** 3, os: "Debian GNU/Linux 12 (bookworm)" },
            sensors: [
              { name: "NVML", what: "GPU power", measured: true, value: "128 W" },
              { name: "hwmon amdgpu", what: "GPU temperature", measured: true, value: "71 °C" },
              { name: "model", what: "GPU power when NVML is unavailable", measured: false, value: "rated 170 W × duty" },
              { name: "upower", what: "battery", measured: true, value: "AC power" },
            ],
          };
        case "run_benchmark":
          for (let i = 1; i <= 10; i++) {
            await new Promise((r) => setTimeout(r, 250));
            void emit("bench_progress", { fraction: i / 10 });
          }
          return { gflops: 1.18, size: 512, max_rel_err: 2.4e-7, est_tokens_per_hour: "0.4248" };
        case "get_market":
          return market;
        case "get_network":
          return { url: "http://127.0.0.1:38421", embedded: true, reachable: true, token_symbol: "IDW", reward_per_gflop: "0.0001", message: null };
        case "wallet_info":
          return wallet;
        case "wallet_create":
          // Like the shell: never over an existing wallet.
          if (wallet) fail("wallet", "There is already a wallet on this computer.");
          wallet = { address: ADDRESS, backed_up: false, created_at_ms: Date.now() };
          return { address: ADDRESS, phrase: [...PHRASE] };
        case "wallet_backup_challenge":
          return [3, 7, 11];
        case "wallet_confirm_backup": {
          const ans = a.answers as string[];
          if (ans[0] !== PHRASE[2] || ans[1] !== PHRASE[6] || ans[2] !== PHRASE[10])
            fail("wallet", "Those words do not match your recovery phrase.");
          wallet = { address: ADDRESS, backed_up: true, created_at_ms: Date.now() };
          return wallet;
        }
        case "wallet_reveal_phrase":
          return [...PHRASE];
        case "wallet_import":
          wallet = { address: "0x71C7656EC7ab88b098defB751B7401B5f6d8976F", backed_up: true, created_at_ms: Date.now() };
          return wallet;
        case "wallet_delete":
          wallet = null;
          return null;
        case "validate_address": {
          const s = String(a.address);
          const ok = /^0x[0-9a-fA-F]{40}$/.test(s) && !s.endsWith("BEAED");
          return { ok, checksummed: ok ? s : null, message: ok ? null : "This address has a typo: its checksum does not match." };
        }
        case "get_balance":
          return balance;
        case "withdraw": {
          const amount = String(a.amount);
          if (compare(amount, balance.withdrawable) > 0) fail("invalid_input", "That is more than your withdrawable balance.");
          const w: Withdrawal = {
            id: `w-${Date.now()}`,
            to: String(a.to),
            amount,
            status: "queued",
            tx_hash: null,
            block: null,
            reason: null,
            devnet: true,
            created_at_ms: Date.now(),
          };
          withdrawals = [w, ...withdrawals];
          balance = { ...balance, withdrawable: sub(balance.withdrawable, amount) };
          void emit("balance_changed", balance);
          setTimeout(() => void emit("withdrawal_changed", { ...w, status: "submitted" }), 1200);
          setTimeout(
            () =>
              void emit("withdrawal_changed", {
                ...w,
                status: "confirmed",
                tx_hash: "0x9a1e" + "c0ffee".repeat(10),
                block: 1907,
              }),
            2600,
          );
          return w;
        }
        case "list_withdrawals":
          return withdrawals;
        case "get_energy":
          return { ...energy, today: { ...energy.today, wh: todayWh, measured_wh: measuredWh } };
        case "get_recent_samples":
          return samples;
        case "get_settings":
          return settings;
        case "save_settings": {
          const s = a.settings as Settings;
          if (s.max_temp_c > 95) fail("invalid_setting", "The temperature limit must be between 50 and 95 °C.", "max_temp_c");
          settings = s;
          return settings;
        }
        case "get_app_info":
          return { version: "0.1.0", data_dir: "/home/owner/.local/share/idlewatt", log_dir: "/home/owner/.local/share/idlewatt/logs" };
        case "finish_onboarding":
          status = { ...status, onboarded: true, state: "waiting", reason: { kind: "owner_active", idle_s: 3, idle_after_s: 300 } };
          return status;
        case "set_autostart":
          return a.enabled as boolean;
        case "open_logs_folder":
          return null;
        case "get_update_status":
          return q.has("update")
            ? { state: "ready", version: "0.2.0", notes: "Faster embeddings on small GPUs.\nFixes a rare stall after sleep." }
            : { state: "idle" };
        case "install_update":
          return a.confirmed || status.state !== "computing" ? "installing" : "ask_first";
        default:
          fail("internal", `Preview has no data for ${cmd}.`);
      }
    },
    { shouldMockEvents: true },
  );

  if (!q.has("frozen")) {
    setInterval(() => {
      if (!status.onboarded) return;
      tick++;
      if (status.state === "computing") {
        todayWh += 128 / 3600;
        balance = { ...balance, today_earned: add(balance.today_earned, "0.000118"), pending: add(balance.pending, "0.000118") };
        if (tick % 10 === 0) void emit("balance_changed", balance);
      }
      const s = makeSample(Date.now(), tick);
      samples = [...samples.slice(-599), s];
      void emit("node_event", s);
    }, 1000);
  }
}
