import { describe, expect, it } from "vitest";
import {
  formatBytes,
  formatCelsius,
  formatClock,
  formatCo2,
  formatDay,
  formatDuration,
  formatEnergy,
  formatMoney,
  formatPercent,
  formatTokens,
  formatWatts,
  axisDecimals,
  energyUnit,
  numberAxisLabels,
  timeAxisLabels,
  shortHex,
  tokenDecimals,
} from "./format";

const sp = (s: string) => s.replace(/[\u00a0\u202f]/g, " ");

describe("formatters", () => {
  it("watts", () => {
    expect(sp(formatWatts(4.23, "en-US"))).toBe("4.2 W");
    expect(sp(formatWatts(123.4, "en-US"))).toBe("123 W");
    expect(sp(formatWatts(4.23, "de-DE"))).toBe("4,2 W");
    expect(formatWatts(NaN, "en-US")).toBe("–");
  });
  it("energy: Wh below 1 kWh, kWh above, tiny amounts never a bare zero", () => {
    expect(sp(formatEnergy(3.2, "en-US"))).toBe("3.2 Wh");
    expect(sp(formatEnergy(3.2, "de-DE"))).toBe("3,2 Wh");
    expect(sp(formatEnergy(0.43, "en-US"))).toBe("0.43 Wh");
    expect(sp(formatEnergy(0.043, "de-DE"))).toBe("0,043 Wh");
    expect(sp(formatEnergy(0.004, "en-US"))).toBe("<0.01 Wh");
    expect(sp(formatEnergy(0.004, "de-DE"))).toBe("<0,01 Wh");
    expect(sp(formatEnergy(0, "en-US"))).toBe("0 Wh");
    expect(sp(formatEnergy(42, "en-US"))).toBe("42 Wh");
    expect(sp(formatEnergy(312.4, "de-DE"))).toBe("312 Wh");
    expect(sp(formatEnergy(999.4, "en-US"))).toBe("999 Wh");
    expect(sp(formatEnergy(999.6, "en-US"))).toBe("1.00 kWh");
    expect(sp(formatEnergy(1500, "de-DE"))).toBe("1,50 kWh");
    expect(sp(formatEnergy(1234, "en-US"))).toBe("1.23 kWh");
    expect(sp(formatEnergy(12345, "en-US"))).toBe("12.3 kWh");
    expect(sp(formatEnergy(12345, "de-DE"))).toBe("12,3 kWh");
    expect(formatEnergy(NaN, "en-US")).toBe("–");
  });
  it("°C, percent, CO₂", () => {
    expect(sp(formatCelsius(64.6, "en-US"))).toBe("65 °C");
    expect(sp(formatPercent(0.734, "en-US"))).toBe("73%");
    expect(sp(formatPercent(0.734, "de-DE"))).toBe("73 %");
    expect(sp(formatCo2(12.34, "en-US"))).toBe("12 g");
    expect(sp(formatCo2(1.23, "en-US"))).toBe("1.2 g");
    expect(sp(formatCo2(1234, "de-DE"))).toBe("1,23 kg");
    expect(sp(formatCo2(0.4, "en-US"))).toBe("0.4 g");
    expect(sp(formatCo2(0.4, "de-DE"))).toBe("0,4 g");
    expect(sp(formatCo2(0.043, "en-US"))).toBe("0.043 g");
    expect(sp(formatCo2(3.24, "de-DE"))).toBe("3,2 g");
    expect(sp(formatCo2(0.001, "en-US"))).toBe("<0.01 g");
    expect(sp(formatCo2(0, "en-US"))).toBe("0 g");
    expect(sp(formatCo2(9.97, "en-US"))).toBe("10 g");
  });
  it("durations", () => {
    expect(formatDuration(42)).toBe("0:42");
    expect(formatDuration(300)).toBe("5:00");
    expect(formatDuration(3723)).toBe("1:02:03");
    expect(formatDuration(-5)).toBe("0:00");
    expect(formatDuration(59.9)).toBe("0:59");
  });
  it("money per locale, unknown currency falls back", () => {
    expect(sp(formatMoney(1.5, "EUR", "en-US"))).toBe("€1.50");
    expect(sp(formatMoney(1.5, "EUR", "de-DE"))).toBe("1,50 €");
    expect(sp(formatMoney(0.0123, "EUR", "de-DE"))).toBe("0,012 €");
    expect(sp(formatMoney(2, "USD", "en-US"))).toBe("$2.00");
    expect(sp(formatMoney(2, "??", "en-US"))).toBe("2.00 ??");
  });
  it("tokens from decimal strings, rounded down, grouped per locale", () => {
    expect(sp(formatTokens("1234567.123456789", "en-US", "IDW"))).toBe("1,234,567.1234 IDW");
    expect(sp(formatTokens("1234567.123456789", "de-DE", "IDW"))).toBe("1.234.567,1234 IDW");
    expect(formatTokens("0.99999", "en-US", undefined, 2)).toBe("0.99");
    expect(formatTokens("5", "en-US")).toBe("5");
    expect(formatTokens("123456789012345678901234567890", "en-US")).toBe("123,456,789,012,345,678,901,234,567,890");
    expect(formatTokens("not a number", "en-US")).toBe("0");
    expect(formatTokens("0.000012345678", "en-US")).toBe("0.00001234");
    expect(formatTokens("0.5", "en-US")).toBe("0.5");
    expect(tokenDecimals("12.000001")).toBe(4);
    expect(tokenDecimals("0.000000000000000001")).toBe(18);
  });
  it("bytes, clock, days, hex", () => {
    expect(sp(formatBytes(8 * 1024 ** 3, "en-US"))).toBe("8 GiB");
    expect(sp(formatBytes(256 * 1024 ** 2, "en-US"))).toBe("256 MiB");
    expect(sp(formatBytes(1.5 * 1024 ** 3, "de-DE"))).toBe("1,5 GiB");
    expect(sp(formatBytes(512, "en-US"))).toBe("512 B");
    expect(formatClock(0)).toBe("00:00");
    expect(formatClock(22 * 60 + 5)).toBe("22:05");
    expect(formatDay("2026-11-23", "en-US")).toBe("Mon");
    expect(shortHex("0x" + "ab".repeat(32))).toBe("0xababab…abab");
    expect(shortHex("0x1234")).toBe("0x1234");
  });

  it("time axis: compact 24-hour labels, seconds only when ticks are under a minute apart", () => {
    const t0 = new Date(2026, 10, 24, 21, 27, 49).getTime() / 1000;
    const secs = [t0, t0 + 1, t0 + 2];
    expect(timeAxisLabels(secs, 1, "en-US")).toEqual(["21:27:49", "21:27:50", "21:27:51"]);
    expect(timeAxisLabels(secs, 1, "de-DE")).toEqual(["21:27:49", "21:27:50", "21:27:51"]);
    const m0 = new Date(2026, 10, 24, 9, 5, 0).getTime() / 1000;
    const mins = [m0, m0 + 120, m0 + 240];
    expect(timeAxisLabels(mins, 120, "en-US")).toEqual(["09:05", "09:07", "09:09"]);
    expect(timeAxisLabels(mins, 120, "de-DE")).toEqual(["09:05", "09:07", "09:09"]);
    for (const l of timeAxisLabels(mins, 120, "en-US")) expect(l).not.toMatch(/AM|PM/);
    // Midnight is 00:00, never 24:00.
    const midnight = new Date(2026, 10, 25, 0, 0, 0).getTime() / 1000;
    expect(timeAxisLabels([midnight], 60, "en-US")).toEqual(["00:00"]);
    // A tick step of whole minutes but splits off the minute still shows seconds.
    expect(timeAxisLabels([m0 + 30, m0 + 90], 60, "en-US")).toEqual(["09:05:30", "09:06:30"]);
  });
  it("time axis labels never repeat", () => {
    const m0 = new Date(2026, 10, 24, 9, 5, 0).getTime() / 1000;
    const labels = timeAxisLabels([m0, m0, m0 + 60], 60, "en-US");
    expect(labels).toEqual(["09:05", "", "09:06"]);
  });
  it("number axis: enough decimals for tiny steps, no duplicate labels", () => {
    expect(numberAxisLabels([0, 0.002, 0.004], "en-US")).toEqual(["0", "0.002", "0.004"]);
    expect(numberAxisLabels([0, 0.002, 0.004], "de-DE")).toEqual(["0", "0,002", "0,004"]);
    expect(numberAxisLabels([0, 0.0001, 0.0002], "en-US")).toEqual(["0", "0.0001", "0.0002"]);
    // Floating-point noise from the tick generator does not add decimals.
    expect(numberAxisLabels([0, 0.1, 0.2, 0.30000000000000004], "en-US")).toEqual(["0", "0.1", "0.2", "0.3"]);
    expect(numberAxisLabels([0, 0.5, 1, 1.5], "de-DE")).toEqual(["0", "0,5", "1,0", "1,5"]);
    expect(numberAxisLabels([0, 500, 1000, 1500], "en-US")).toEqual(["0", "500", "1,000", "1,500"]);
    expect(numberAxisLabels([0, 500, 1000, 1500], "de-DE")).toEqual(["0", "500", "1.000", "1.500"]);
    expect(numberAxisLabels([0, 0.0025, 0.005], "en-US")).toEqual(["0", "0.0025", "0.0050"]);
    for (const splits of [[0, 0.001, 0.002, 0.003, 0.004], [0, 2e-7, 4e-7], [0, 5, 10, 15]]) {
      const labels = numberAxisLabels(splits, "en-US");
      expect(new Set(labels).size).toBe(labels.length);
    }
    expect(axisDecimals([])).toBe(0);
    expect(axisDecimals([0.004])).toBe(3);
  });
  it("energy chart unit: Wh below 1 kWh, kWh above", () => {
    expect(energyUnit(0.2)).toEqual({ unit: "Wh", scale: 1 });
    expect(energyUnit(999)).toEqual({ unit: "Wh", scale: 1 });
    expect(energyUnit(1000)).toEqual({ unit: "kWh", scale: 1 / 1000 });
    expect(energyUnit(NaN)).toEqual({ unit: "Wh", scale: 1 });
  });
});
