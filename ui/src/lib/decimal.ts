// Token amounts cross the IPC as decimal strings of whole tokens with up to 18 decimals.
// JS numbers cannot hold them exactly, so all arithmetic here runs on BigInt base units
// (1 token = 10^18 units) and never goes through a float.

export const DECIMALS = 18;
const SCALE = 10n ** BigInt(DECIMALS);
const DECIMAL_RE = /^\s*(\d*)(?:\.(\d*))?\s*$/;

/** Why a string is not a token amount. */
export type DecimalProblem = "empty" | "not_a_number" | "too_many_decimals" | "negative";

/** Parses a non-negative decimal string ("12.5", ".5", "3.") into base units, or explains why not. */
export function parseUnits(s: string): { ok: true; units: bigint } | { ok: false; problem: DecimalProblem } {
  const t = s.trim();
  if (t === "") return { ok: false, problem: "empty" };
  if (t.startsWith("-")) return { ok: false, problem: "negative" };
  const m = DECIMAL_RE.exec(t);
  if (!m) return { ok: false, problem: "not_a_number" };
  const whole = m[1] ?? "";
  const frac = m[2] ?? "";
  if (whole === "" && frac === "") return { ok: false, problem: "not_a_number" };
  if (frac.length > DECIMALS) return { ok: false, problem: "too_many_decimals" };
  const units = BigInt(whole || "0") * SCALE + BigInt((frac + "0".repeat(DECIMALS)).slice(0, DECIMALS) || "0");
  return { ok: true, units };
}

/** Base units of a decimal string from the shell; a malformed one counts as zero (never NaN). */
export function toUnits(s: string | null | undefined): bigint {
  if (s == null) return 0n;
  const r = parseUnits(s);
  return r.ok ? r.units : 0n;
}

/** Canonical decimal string of base units: no trailing zeros, "0" for zero. */
export function fromUnits(units: bigint): string {
  const neg = units < 0n;
  const abs = neg ? -units : units;
  const whole = abs / SCALE;
  const frac = (abs % SCALE).toString().padStart(DECIMALS, "0").replace(/0+$/, "");
  return (neg ? "-" : "") + whole.toString() + (frac ? "." + frac : "");
}

/** Canonical form of a decimal string ("012.50" → "12.5"). */
export function normalize(s: string): string {
  return fromUnits(toUnits(s));
}

export function compare(a: string, b: string): -1 | 0 | 1 {
  const x = toUnits(a);
  const y = toUnits(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function add(a: string, b: string): string {
  return fromUnits(toUnits(a) + toUnits(b));
}

export function sub(a: string, b: string): string {
  return fromUnits(toUnits(a) - toUnits(b));
}

export function sum(xs: readonly string[]): string {
  return fromUnits(xs.reduce((acc, x) => acc + toUnits(x), 0n));
}

export function isZero(s: string): boolean {
  return toUnits(s) === 0n;
}

/**
 * Rounds down (never shows more than the owner has) to `maxFrac` decimals for display,
 * keeping at least `minFrac`. Returns the whole part and the fraction separately so the
 * caller can apply locale grouping and the decimal separator.
 */
export function roundDown(s: string, maxFrac: number, minFrac = 0): { whole: string; frac: string } {
  const canonical = fromUnits(toUnits(s));
  const [whole = "0", frac = ""] = canonical.split(".");
  let f = frac.slice(0, maxFrac).replace(/0+$/, "");
  if (f.length < minFrac) f = f.padEnd(minFrac, "0");
  return { whole, frac: f };
}
