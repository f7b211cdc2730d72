import { describe, expect, it } from "vitest";
import type { Settings } from "./api";
import { addressProblem, amountProblem, dayNumbers, fromForm, hasChecksum, parseClock, parseNumber, secretProblem, toForm } from "./validate";

const base: Settings = {
  version: 1,
  idle_after_min: 5,
  run_mode: "idle",
  pause_on_battery: true,
  max_temp_c: 80,
  max_watts: null,
  rated_watts_override: null,
  currency: "EUR",
  price_per_kwh: 0.3,
  grid_g_co2_per_kwh: 400,
  allow_software_adapter: false,
  schedule: null,
  coordinator_url: null,
  language: null,
  autostart: false,
  auto_update_checks: true,
  update_url: null,
  model_storage_mb: 2000,
};

describe("address", () => {
  const good = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
  it("accepts the right shape", () => {
    expect(addressProblem(good)).toBeNull();
    expect(addressProblem(good.toLowerCase())).toBeNull();
    expect(addressProblem("  " + good + " ")).toBeNull();
  });
  it("explains what is wrong", () => {
    expect(addressProblem("")?.key).toBe("val.required");
    expect(addressProblem("5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")?.key).toBe("val.address_prefix");
    expect(addressProblem("0x1234")).toEqual({ key: "val.address_length", params: { n: 4 } });
    expect(addressProblem("0x" + "g".repeat(40))?.key).toBe("val.address_chars");
  });
  it("knows when the shell must check the checksum", () => {
    expect(hasChecksum(good)).toBe(true);
    expect(hasChecksum(good.toLowerCase())).toBe(false);
    expect(hasChecksum("0x" + good.slice(2).toUpperCase())).toBe(false);
  });
});

describe("amount", () => {
  it("accepts amounts up to the balance, exactly", () => {
    expect(amountProblem("1.5", "1.5")).toBeNull();
    expect(amountProblem("0.000000000000000001", "1")).toBeNull();
    expect(amountProblem("1.500000000000000001", "1.5")?.key).toBe("val.amount_too_much");
  });
  it("rejects the rest with a reason", () => {
    expect(amountProblem("", "1")?.key).toBe("val.required");
    expect(amountProblem("0", "1")?.key).toBe("val.amount_zero");
    expect(amountProblem("-2", "1")?.key).toBe("val.amount_negative");
    expect(amountProblem("abc", "1")?.key).toBe("val.amount_not_number");
    expect(amountProblem("1.0000000000000000001", null)?.key).toBe("val.amount_decimals");
  });
});

describe("import secret", () => {
  it("accepts 12/24 words or a key", () => {
    expect(secretProblem(Array(12).fill("abandon").join(" "))).toBeNull();
    expect(secretProblem(Array(24).fill("zoo").join("  \n"))).toBeNull();
    expect(secretProblem("0x" + "1".repeat(64))).toBeNull();
  });
  it("rejects others", () => {
    expect(secretProblem("one two three")).toEqual({ key: "val.phrase_words", params: { n: 3 } });
    expect(secretProblem("0x1234")?.key).toBe("val.secret");
    expect(secretProblem(Array(12).fill("w0rd").join(" "))?.key).toBe("val.secret");
  });
});

describe("settings form", () => {
  it("round-trips the settings", () => {
    const s: Settings = {
      ...base,
      max_watts: 120,
      schedule: { windows: [{ days: ["Sat", "Sun"], start_min: 1320, end_min: 360 }] },
      coordinator_url: "https://coord.example",
      language: "de",
    };
    const r = fromForm(toForm(s), s);
    expect(r).toEqual({ ok: true, settings: s });
  });
  it("maps weekdays to day numbers and back; no days means every day", () => {
    expect(dayNumbers(["Sun", "Mon", "Mon"])).toEqual([0, 6]);
    expect(dayNumbers([])).toEqual([0, 1, 2, 3, 4, 5, 6]);
    const f = toForm({ ...base, schedule: { windows: [{ days: [], start_min: 0, end_min: 60 }] } });
    const r = fromForm(f, base);
    expect(r.ok && r.settings.schedule?.windows[0]?.days).toEqual(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]);
  });
  it("parses numbers in both notations", () => {
    expect(parseNumber("0,30")).toBe(0.3);
    expect(parseNumber("12")).toBe(12);
    expect(parseNumber("1e3")).toBeNull();
    expect(parseNumber("")).toBeNull();
    expect(parseClock("22:00")).toBe(1320);
    expect(parseClock("24:00")).toBeNull();
    expect(parseClock("7:5")).toBeNull();
  });
  it("reports each bad field by its settings key", () => {
    const f = toForm(base);
    f.max_temp_c = "150";
    f.idle_after_min = "2.5";
    f.max_watts = "abc";
    f.currency = "euro";
    f.price_per_kwh = "";
    f.network = "url";
    f.coordinator_url = "ftp://x";
    f.update_url = "file:///tmp/evil.json";
    f.model_storage_mb = "50";
    f.schedule_on = true;
    f.windows = [{ days: [], start: "10:00", end: "10:00" }];
    const r = fromForm(f, base);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors["max_temp_c"]).toEqual({ key: "val.range", params: { min: 50, max: 95 } });
    expect(r.errors["idle_after_min"]?.key).toBe("val.whole");
    expect(r.errors["max_watts"]?.key).toBe("val.number");
    expect(r.errors["currency"]?.key).toBe("val.currency");
    expect(r.errors["price_per_kwh"]?.key).toBe("val.required");
    expect(r.errors["coordinator_url"]?.key).toBe("val.url");
    expect(r.errors["update_url"]?.key).toBe("val.url");
    expect(r.errors["model_storage_mb"]).toEqual({ key: "val.range", params: { min: 100, max: 1_000_000 } });
    expect(r.errors["schedule.windows[0].days"]?.key).toBe("val.window_days");
    const none = fromForm({ ...toForm(base), schedule_on: true, windows: [] }, base);
    expect(!none.ok && none.errors["schedule.windows"]?.key).toBe("val.windows_none");
    expect(r.errors["schedule.windows[0].end_min"]?.key).toBe("val.window_time");
    expect(r.errors["grid_g_co2_per_kwh"]).toBeUndefined();
  });
  it("empty optional numbers mean none; lowercase currency is fixed up", () => {
    const f = toForm({ ...base, max_watts: 100 });
    f.max_watts = " ";
    f.currency = "usd";
    const r = fromForm(f, base);
    expect(r.ok && r.settings.max_watts).toBeNull();
    expect(r.ok && r.settings.currency).toBe("USD");
  });
});
