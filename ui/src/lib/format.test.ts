import { describe, expect, it } from "vitest";
import {
  formatBytes,
  formatCelsius,
  formatClock,
  formatCo2,
  formatDay,
  formatDuration,
  formatKwh,
  formatMoney,
  formatPercent,
  formatTokens,
  formatWatts,
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
  it("kWh from Wh", () => {
    expect(sp(formatKwh(42, "en-US"))).toBe("0.042 kWh");
    expect(sp(formatKwh(1500, "de-DE"))).toBe("1,50 kWh");
    expect(sp(formatKwh(12345, "en-US"))).toBe("12.3 kWh");
    expect(sp(formatKwh(0, "en-US"))).toBe("0.000 kWh");
  });
  it("°C, percent, CO₂", () => {
    expect(sp(formatCelsius(64.6, "en-US"))).toBe("65 °C");
    expect(sp(formatPercent(0.734, "en-US"))).toBe("73%");
    expect(sp(formatPercent(0.734, "de-DE"))).toBe("73 %");
    expect(sp(formatCo2(12.34, "en-US"))).toBe("12 g");
    expect(sp(formatCo2(1.23, "en-US"))).toBe("1.2 g");
    expect(sp(formatCo2(1234, "de-DE"))).toBe("1,23 kg");
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
});
