import { describe, expect, it } from "vitest";
import type { EnergyReport, SampleEvent, Status, Withdrawal } from "../api";
import {
  applyNodeEvent,
  applySampleToEnergy,
  estimatedShare,
  localDate,
  powerSeries,
  pushSample,
  upsertWithdrawal,
} from "./reducers";

const sample = (ts: number, w: number, measured: boolean, extra: Partial<SampleEvent> = {}): SampleEvent => ({
  ts_ms: ts,
  event: "sample",
  gpu_watts: { value: w, source: measured ? { kind: "measured", via: "nvml" } : { kind: "estimated", basis: "tdp" } },
  gpu_temp_c: null,
  on_battery: false,
  duty: 0.5,
  rated_watts: 200,
  today_wh: 10,
  today_measured_wh: 5,
  today_cost: 0.003,
  currency: "EUR",
  today_co2_g: 4,
  ...extra,
});

const status: Status = {
  state: "paused",
  reason: { kind: "user_paused" },
  paused_until_ms: 123,
  onboarded: true,
  network: { embedded: true, url: null },
};

describe("status reducer", () => {
  it("follows state events and clears an ended pause", () => {
    const s = applyNodeEvent(status, { ts_ms: 1, event: "state", state: "computing", reason: { kind: "owner_away" } });
    expect(s).toEqual({ ...status, state: "computing", reason: { kind: "owner_away" }, paused_until_ms: null });
  });
  it("keeps the pause deadline while still paused by the owner", () => {
    const s = applyNodeEvent(status, { ts_ms: 1, event: "state", state: "paused", reason: { kind: "user_paused" } });
    expect(s?.paused_until_ms).toBe(123);
  });
  it("ignores other events and a missing status", () => {
    expect(applyNodeEvent(status, sample(1, 1, true))).toBe(status);
    expect(applyNodeEvent(null, { ts_ms: 1, event: "state", state: "waiting", reason: null })).toBeNull();
  });
});

describe("samples", () => {
  it("keeps at most max, in order, without duplicates", () => {
    let xs: SampleEvent[] = [];
    for (let i = 1; i <= 5; i++) xs = pushSample(xs, sample(i * 1000, i, true), 3);
    expect(xs.map((s) => s.ts_ms)).toEqual([3000, 4000, 5000]);
    expect(pushSample(xs, sample(4000, 9, true), 3)).toBe(xs);
  });
  it("splits measured and estimated power, joined at the switch", () => {
    const xs = [sample(1000, 10, true), sample(2000, 20, true), sample(3000, 30, false), sample(4000, 40, false)];
    const [x, m, e] = powerSeries(xs);
    expect(x).toEqual([1, 2, 3, 4]);
    expect(m).toEqual([10, 20, 30, null]);
    expect(e).toEqual([null, null, 30, 40]);
    expect(estimatedShare(xs)).toBe(0.5);
    expect(estimatedShare([])).toBe(0);
  });
});

describe("energy", () => {
  const now = new Date(2026, 10, 24, 12, 0).getTime();
  const day = (date: string, wh: number) => ({ date, wh, measured_wh: 0, cost: 0, co2_g: 0, earned: "1.5" });
  const report: EnergyReport = {
    currency: "EUR",
    today: day(localDate(now), 1),
    days: [day("2026-11-23", 5), day(localDate(now), 1)],
    total_wh: 6,
    jobs_done: 3,
  };
  it("takes today's totals from the sample, keeping earnings", () => {
    const r = applySampleToEnergy(report, sample(now, 50, true, { today_wh: 42, today_cost: 0.0126 }));
    expect(r?.today.wh).toBe(42);
    expect(r?.today.cost).toBe(0.0126);
    expect(r?.today.earned).toBe("1.5");
    expect(r?.days[1]?.wh).toBe(42);
    expect(r?.days[0]?.wh).toBe(5);
  });
  it("ignores a sample from another day", () => {
    const tomorrow = now + 24 * 3600 * 1000;
    expect(applySampleToEnergy(report, sample(tomorrow, 1, true))).toBe(report);
  });
});

describe("withdrawals", () => {
  const w = (id: string, t: number, status: Withdrawal["status"]): Withdrawal => ({
    id,
    to: "0x" + "1".repeat(40),
    amount: "1",
    status,
    tx_hash: null,
    block: null,
    reason: null,
    devnet: true,
    created_at_ms: t,
  });
  it("updates by id and sorts newest first", () => {
    let list = upsertWithdrawal([], w("a", 1, "queued"));
    list = upsertWithdrawal(list, w("b", 2, "queued"));
    list = upsertWithdrawal(list, w("a", 1, "confirmed"));
    expect(list.map((x) => `${x.id}:${x.status}`)).toEqual(["b:queued", "a:confirmed"]);
  });
});
