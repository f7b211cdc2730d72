// Display formatting of the app's quantities, per locale (Intl). Pure functions taking the
// locale explicitly so they are unit-testable; components pass `locale()` from i18n.
import { roundDown } from "./decimal";

const NBSP = "\u00a0";

function num(v: number, locale: string, maxFrac: number, minFrac = 0): string {
  return new Intl.NumberFormat(locale, { maximumFractionDigits: maxFrac, minimumFractionDigits: minFrac }).format(v);
}

/** Power in watts: "4.2 W" below 10 W, "123 W" above. */
export function formatWatts(w: number, locale: string): string {
  if (!Number.isFinite(w)) return "–";
  return num(w, locale, Math.abs(w) < 10 ? 1 : 0) + NBSP + "W";
}

/**
 * Energy given in Wh: Wh below 1 kWh ("3.2 Wh", "312 Wh", "0.43 Wh"), kWh from 1 kWh up
 * ("1.50 kWh", "12.3 kWh"). A tiny non-zero amount is never shown as a bare zero ("<0.01 Wh").
 */
export function formatEnergy(wh: number, locale: string): string {
  if (!Number.isFinite(wh)) return "–";
  const a = Math.abs(wh);
  if (a >= 999.5) {
    const kwh = wh / 1000;
    const frac = Math.abs(kwh) >= 9.995 ? 1 : 2;
    return num(kwh, locale, frac, frac) + NBSP + "kWh";
  }
  return small(wh, locale) + NBSP + "Wh";
}

/** "0", "<0.01", two significant digits below 1, one decimal below 10, whole numbers above. */
function small(v: number, locale: string): string {
  const a = Math.abs(v);
  if (a === 0) return num(0, locale, 0);
  if (a < 0.01) return "<" + num(0.01, locale, 2);
  if (a < 1) return new Intl.NumberFormat(locale, { maximumSignificantDigits: 2 }).format(v);
  return num(v, locale, a < 9.95 ? 1 : 0);
}

export function formatCelsius(c: number, locale: string): string {
  if (!Number.isFinite(c)) return "–";
  return num(c, locale, 0) + NBSP + "°C";
}

/** A 0..1 share as a percentage ("73 %" / "73 %" per locale). */
export function formatPercent(share: number, locale: string): string {
  if (!Number.isFinite(share)) return "–";
  return new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 0 }).format(share);
}

/** Grams of CO₂: "0.4 g", "0.04 g", "3.2 g", "12 g", "1.23 kg"; tiny amounts "<0.01 g", never a bare 0. */
export function formatCo2(g: number, locale: string): string {
  if (!Number.isFinite(g)) return "–";
  if (Math.abs(g) >= 999.5) return num(g / 1000, locale, 2) + NBSP + "kg";
  return small(g, locale) + NBSP + "g";
}

/** Seconds as m:ss or h:mm:ss ("0:42", "5:00", "1:02:03"); negative counts as zero. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(Number.isFinite(seconds) ? seconds : 0));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const ss = String(sec).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** Money: an ISO currency code via Intl; an unknown code falls back to "1.23 XYZ". */
export function formatMoney(amount: number, currency: string, locale: string): string {
  if (!Number.isFinite(amount)) return "–";
  const digits = Math.abs(amount) > 0 && Math.abs(amount) < 0.1 ? 3 : 2;
  try {
    return new Intl.NumberFormat(locale, {
      style: "currency",
      currency,
      minimumFractionDigits: 2,
      maximumFractionDigits: digits,
    }).format(amount);
  } catch {
    return num(amount, locale, digits, 2) + NBSP + currency;
  }
}

/** Price per kWh with enough decimals for cents ("€0.30/kWh" style). */
export function formatPricePerKwh(amount: number, currency: string, locale: string): string {
  return formatMoney(amount, currency, locale) + "/kWh";
}

/**
 * Decimals worth showing for a token amount: 4, or for amounts below 1 enough to show four
 * significant digits (so small early earnings are visible and visibly rising), at most 18.
 */
export function tokenDecimals(amount: string): number {
  const { whole, frac } = roundDown(amount, 18);
  if (whole !== "0" && whole !== "-0") return 4;
  const firstNonZero = frac.search(/[1-9]/);
  return firstNonZero < 0 ? 4 : Math.min(18, Math.max(4, firstNonZero + 4));
}

/**
 * Token amount (decimal string, never a float) for display: rounded down to `maxFrac`
 * decimals, grouped and with the locale's decimal separator, plus the symbol if given.
 */
export function formatTokens(amount: string, locale: string, symbol?: string, maxFrac?: number): string {
  const { whole, frac } = roundDown(amount, maxFrac ?? tokenDecimals(amount));
  const parts = new Intl.NumberFormat(locale).formatToParts(1.5);
  const dec = parts.find((p) => p.type === "decimal")?.value ?? ".";
  const neg = whole.startsWith("-");
  const grouped = new Intl.NumberFormat(locale).format(BigInt(neg ? whole.slice(1) : whole));
  const text = (neg ? "-" : "") + grouped + (frac ? dec + frac : "");
  return symbol ? text + NBSP + symbol : text;
}

/** Bytes in binary units ("8 GiB", "256 MiB"). */
export function formatBytes(bytes: number, locale: string): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return num(v, locale, v >= 10 || i === 0 ? 0 : 1) + NBSP + units[i];
}

export function formatDateTime(ms: number, locale: string, style: "short" | "medium" = "medium"): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: style, timeStyle: "short" }).format(new Date(ms));
}

export function formatTime(ms: number, locale: string, seconds = false): string {
  return new Intl.DateTimeFormat(locale, {
    hour: "2-digit",
    minute: "2-digit",
    ...(seconds ? { second: "2-digit" } : {}),
  }).format(new Date(ms));
}

/**
 * Labels of a time axis (uPlot `values`): `splits` in seconds, `incr` the tick step uPlot
 * chose. Compact 24-hour clock times without AM/PM ("21:27", or "21:27:49" when ticks are
 * less than a minute apart) so they stay short in every locale; a label equal to the one
 * before it is left blank, so no two ticks ever read the same.
 */
export function timeAxisLabels(splits: number[], incr: number, locale: string): string[] {
  const fmt = new Intl.DateTimeFormat(locale, {
    hour: "2-digit",
    minute: "2-digit",
    ...(incr < 60 || splits.some((v) => v % 60 !== 0) ? { second: "2-digit" } : {}),
    hourCycle: "h23",
  });
  return dedupe(splits.map((v) => fmt.format(new Date(v * 1000))));
}

/** Minimum pixels between time-axis ticks: room for "00:00:00" plus a gap. */
export const TIME_AXIS_SPACE = 80;

/** Tick steps (seconds) a time axis may use: round seconds, minutes and hours. */
export const TIME_AXIS_INCRS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400];

/**
 * Labels of a numeric axis (uPlot `values`) with as many decimals as the tick step needs, so
 * 0.002 / 0.004 are told apart instead of all reading "0"; the same decimals on every tick;
 * 0 as "0"; duplicates (should rounding ever produce one) left blank.
 */
export function numberAxisLabels(splits: number[], locale: string): string[] {
  const d = axisDecimals(splits);
  const fmt = new Intl.NumberFormat(locale, { minimumFractionDigits: d, maximumFractionDigits: d });
  return dedupe(splits.map((v) => (Math.abs(v) < 1e-12 ? fmt.format(0).replace(/[.,]0+$/, "") : fmt.format(v))));
}

/** Fewest decimals (0..12) that show every split exactly, to a millionth of the tick step. */
export function axisDecimals(splits: number[]): number {
  const finite = splits.filter(Number.isFinite);
  if (finite.length === 0) return 0;
  let step = Infinity;
  for (let i = 1; i < finite.length; i++) {
    const diff = Math.abs(finite[i]! - finite[i - 1]!);
    if (diff > 0) step = Math.min(step, diff);
  }
  if (!Number.isFinite(step)) step = Math.abs(finite[0]!) || 1;
  const tol = step * 1e-6;
  for (let d = 0; d <= 12; d++) {
    const p = 10 ** d;
    if (finite.every((v) => Math.abs(Math.round(v * p) / p - v) <= tol)) return d;
  }
  return 12;
}

function dedupe(labels: string[]): string[] {
  return labels.map((l, i) => (i > 0 && labels.slice(0, i).includes(l) ? "" : l));
}

/**
 * The unit for a chart of daily energies given in Wh: Wh while the largest is under 1 kWh,
 * else kWh; `scale` converts a Wh value into that unit.
 */
export function energyUnit(maxWh: number): { unit: "Wh" | "kWh"; scale: number } {
  return Number.isFinite(maxWh) && Math.abs(maxWh) >= 1000 ? { unit: "kWh", scale: 1 / 1000 } : { unit: "Wh", scale: 1 };
}

/** Short weekday label of a local YYYY-MM-DD date ("Mon" / "Mo."). */
export function formatDay(isoDate: string, locale: string): string {
  const [y, m, d] = isoDate.split("-").map(Number);
  if (!y || !m || !d) return isoDate;
  return new Intl.DateTimeFormat(locale, { weekday: "short" }).format(new Date(y, m - 1, d));
}

/** Minutes after midnight as "HH:MM". */
export function formatClock(min: number): string {
  const m = Math.max(0, Math.min(1439, Math.floor(min)));
  return `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
}

/** "0x1234abcd…89ef" for long hex strings (hashes, addresses). */
export function shortHex(hex: string, head = 6, tail = 4): string {
  if (hex.length <= 2 + head + tail + 1) return hex;
  return `${hex.slice(0, 2 + head)}…${hex.slice(-tail)}`;
}
