import { describe, expect, it } from "vitest";
import { add, compare, fromUnits, isZero, normalize, parseUnits, roundDown, sub, sum, toUnits } from "./decimal";

describe("decimal token math", () => {
  it("parses without float error", () => {
    expect(toUnits("0.1") + toUnits("0.2")).toBe(toUnits("0.3"));
    expect(add("0.1", "0.2")).toBe("0.3");
    expect(toUnits("1")).toBe(10n ** 18n);
    expect(toUnits("0.000000000000000001")).toBe(1n);
    expect(toUnits(".5")).toBe(5n * 10n ** 17n);
    expect(toUnits("3.")).toBe(3n * 10n ** 18n);
  });
  it("keeps huge values exact", () => {
    const big = "123456789012345678901234567890.123456789012345678";
    expect(normalize(big)).toBe(big);
    expect(add(big, "0.000000000000000002")).toBe("123456789012345678901234567890.12345678901234568");
  });
  it("rejects what is not an amount", () => {
    expect(parseUnits("")).toEqual({ ok: false, problem: "empty" });
    expect(parseUnits("  ")).toEqual({ ok: false, problem: "empty" });
    expect(parseUnits("-1")).toEqual({ ok: false, problem: "negative" });
    expect(parseUnits("1e5")).toEqual({ ok: false, problem: "not_a_number" });
    expect(parseUnits("1,5")).toEqual({ ok: false, problem: "not_a_number" });
    expect(parseUnits(".")).toEqual({ ok: false, problem: "not_a_number" });
    expect(parseUnits("1.2.3")).toEqual({ ok: false, problem: "not_a_number" });
    expect(parseUnits("0.0000000000000000001")).toEqual({ ok: false, problem: "too_many_decimals" });
    expect(toUnits("garbage")).toBe(0n);
    expect(toUnits(null)).toBe(0n);
  });
  it("compares, subtracts and sums", () => {
    expect(compare("10", "9.999999999999999999")).toBe(1);
    expect(compare("1.50", "1.5")).toBe(0);
    expect(compare("0.1", "0.10000000000000001")).toBe(-1);
    expect(sub("1", "0.25")).toBe("0.75");
    expect(sub("0.25", "1")).toBe("-0.75");
    expect(sum(["0.1", "0.2", "0.3"])).toBe("0.6");
    expect(sum([])).toBe("0");
    expect(isZero("0.000")).toBe(true);
    expect(isZero("0.000000000000000001")).toBe(false);
  });
  it("formats canonically", () => {
    expect(fromUnits(0n)).toBe("0");
    expect(normalize("007.500")).toBe("7.5");
  });
  it("rounds down for display", () => {
    expect(roundDown("12.3456789", 4)).toEqual({ whole: "12", frac: "3456" });
    expect(roundDown("0.99999", 2)).toEqual({ whole: "0", frac: "99" });
    expect(roundDown("5", 4, 2)).toEqual({ whole: "5", frac: "00" });
    expect(roundDown("5.10", 4)).toEqual({ whole: "5", frac: "1" });
  });
});
