// Compile-time checks (run by `npm run check`): the UI's type names derived in api.ts from
// the generated bindings must resolve to real types, never to `never` or `unknown` (which
// would accept anything, or nothing, and hide a contract change).
import { describe, expect, it } from "vitest";
import type * as A from "./api";

type IsNever<T> = [T] extends [never] ? true : false;
type IsUnknownOrAny<T> = unknown extends T ? true : false;
type NotNever<T> = IsNever<T> extends true ? "resolved to never" : IsUnknownOrAny<T> extends true ? "resolved to unknown" : true;

const checks: {
  [K in
    | "AppError"
    | "Status"
    | "NodeEvent"
    | "NodeState"
    | "Reason"
    | "SampleEvent"
    | "Hardware"
    | "BenchSummary"
    | "BenchProgress"
    | "NetworkInfo"
    | "WalletInfo"
    | "NewWallet"
    | "AddressCheck"
    | "Balance"
    | "Withdrawal"
    | "EnergyReport"
    | "Settings"
    | "Weekday"
    | "AppInfo"]: true;
} = {
  AppError: true as NotNever<A.AppError>,
  Status: true as NotNever<A.Status>,
  NodeEvent: true as NotNever<A.NodeEvent>,
  NodeState: true as NotNever<A.NodeState>,
  Reason: true as NotNever<A.Reason>,
  SampleEvent: true as NotNever<A.SampleEvent>,
  Hardware: true as NotNever<A.Hardware>,
  BenchSummary: true as NotNever<A.BenchSummary>,
  BenchProgress: true as NotNever<A.BenchProgress>,
  NetworkInfo: true as NotNever<A.NetworkInfo>,
  WalletInfo: true as NotNever<A.WalletInfo>,
  NewWallet: true as NotNever<A.NewWallet>,
  AddressCheck: true as NotNever<A.AddressCheck>,
  Balance: true as NotNever<A.Balance>,
  Withdrawal: true as NotNever<A.Withdrawal>,
  EnergyReport: true as NotNever<A.EnergyReport>,
  Settings: true as NotNever<A.Settings>,
  Weekday: true as NotNever<A.Weekday>,
  AppInfo: true as NotNever<A.AppInfo>,
};

// Shapes the screens rely on (docs/app-ipc.md).
const sample: A.SampleEvent = {
  ts_ms: 1,
  event: "sample",
  gpu_watts: { value: 1, source: { kind: "measured", via: "NVML" } },
  gpu_temp_c: null,
  on_battery: false,
  duty: 0.5,
  rated_watts: 100,
  today_wh: 1,
  today_measured_wh: 1,
  today_cost: 0.1,
  currency: "EUR",
  today_co2_g: 1,
};
const weekday: A.Weekday = "Mon";
const state: A.NodeState = "computing";

describe("api types", () => {
  it("resolve to real types", () => {
    expect(Object.values(checks).every(Boolean)).toBe(true);
    expect([sample.event, weekday, state]).toEqual(["sample", "Mon", "computing"]);
  });
});
