// Client-side validation of what the owner types: addresses, amounts, recovery secrets and
// every settings field. Problems are i18n keys with parameters, so they render in the
// owner's language; the shell validates again (its `invalid_setting` key maps to a field).
// Ranges mirror the core's `Settings::validate` (src/config/mod.rs).
import type { Settings, Weekday } from "./api";
import type { MessageKey } from "./i18n/en";
import { parseUnits, toUnits } from "./decimal";
import { formatClock } from "./format";

export type Problem = { key: MessageKey; params?: Record<string, string | number> };

const HEX40 = /^[0-9a-fA-F]{40}$/;

/**
 * Shape of an Ethereum address (0x + 40 hex). The EIP-55 checksum of mixed-case input is
 * checked by the shell (`validate_address`); all-lower or all-upper input has no checksum.
 */
export function addressProblem(input: string): Problem | null {
  const s = input.trim();
  if (s === "") return { key: "val.required" };
  if (!/^0[xX]/.test(s)) return { key: "val.address_prefix" };
  const body = s.slice(2);
  if (body.length !== 40) return { key: "val.address_length", params: { n: body.length } };
  if (!HEX40.test(body)) return { key: "val.address_chars" };
  return null;
}

/** Whether an address carries an EIP-55 checksum (mixed case) the shell must verify. */
export function hasChecksum(address: string): boolean {
  const body = address.trim().slice(2);
  return /[a-f]/.test(body) && /[A-F]/.test(body);
}

/** A withdrawal amount: a positive decimal with ≤ 18 decimals, not above `max` (a decimal string). */
export function amountProblem(input: string, max: string | null): Problem | null {
  const r = parseUnits(input);
  if (!r.ok) {
    switch (r.problem) {
      case "empty":
        return { key: "val.required" };
      case "negative":
        return { key: "val.amount_negative" };
      case "too_many_decimals":
        return { key: "val.amount_decimals" };
      default:
        return { key: "val.amount_not_number" };
    }
  }
  if (r.units === 0n) return { key: "val.amount_zero" };
  if (max !== null && r.units > toUnits(max)) return { key: "val.amount_too_much", params: { max } };
  return null;
}

/** A wallet to import: 12 or 24 words, or a 0x-prefixed 64-hex private key. */
export function secretProblem(input: string): Problem | null {
  const s = input.trim();
  if (s === "") return { key: "val.required" };
  if (/^0x/i.test(s)) return /^0x[0-9a-fA-F]{64}$/.test(s) ? null : { key: "val.secret" };
  const words = s.split(/\s+/);
  if (words.length !== 12 && words.length !== 24) return { key: "val.phrase_words", params: { n: words.length } };
  if (!words.every((w) => /^[a-zA-Z]+$/.test(w))) return { key: "val.secret" };
  return null;
}

/** "22:00" → 1320; null if not a time of day. */
export function parseClock(s: string): number | null {
  const m = /^\s*(\d{1,2}):(\d{2})\s*$/.exec(s);
  if (!m) return null;
  const h = Number(m[1]);
  const min = Number(m[2]);
  if (h > 23 || min > 59) return null;
  return h * 60 + min;
}

/** Weekdays as the settings file writes them, Monday first (index = form day number). */
export const WEEKDAYS: readonly Weekday[] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/** Day numbers (0 = Monday) of a window's days; an empty list means every day. */
export function dayNumbers(days: readonly Weekday[]): number[] {
  if (days.length === 0) return [0, 1, 2, 3, 4, 5, 6];
  return [...new Set(days.map((d) => WEEKDAYS.indexOf(d)).filter((i) => i >= 0))].sort((a, b) => a - b);
}

/** One schedule window as typed: days 0 = Monday … 6 = Sunday. */
export type WindowForm = { days: number[]; start: string; end: string };

/** The settings form: numbers as the strings the inputs hold, optional numbers as "" = none. */
export type SettingsForm = {
  idle_after_min: string;
  run_mode: "idle" | "always";
  pause_on_battery: boolean;
  max_temp_c: string;
  max_watts: string;
  rated_watts_override: string;
  currency: string;
  price_per_kwh: string;
  grid_g_co2_per_kwh: string;
  allow_software_adapter: boolean;
  schedule_on: boolean;
  windows: WindowForm[];
  network: "embedded" | "url";
  coordinator_url: string;
  language: "en" | "de" | "auto";
  autostart: boolean;
  auto_update_checks: boolean;
  update_url: string;
  model_storage_mb: string;
};

/** Field errors by settings key ("max_temp_c", "schedule.windows[0].end_min", …). */
export type FieldErrors = Record<string, Problem>;

export function toForm(s: Settings): SettingsForm {
  return {
    idle_after_min: String(s.idle_after_min),
    run_mode: s.run_mode,
    pause_on_battery: s.pause_on_battery,
    max_temp_c: String(s.max_temp_c),
    max_watts: s.max_watts == null ? "" : String(s.max_watts),
    rated_watts_override: s.rated_watts_override == null ? "" : String(s.rated_watts_override),
    currency: s.currency,
    price_per_kwh: String(s.price_per_kwh),
    grid_g_co2_per_kwh: String(s.grid_g_co2_per_kwh),
    allow_software_adapter: s.allow_software_adapter,
    schedule_on: s.schedule != null,
    windows: (s.schedule?.windows ?? []).map((w) => ({
      days: dayNumbers(w.days),
      start: formatClock(w.start_min),
      end: formatClock(w.end_min),
    })),
    network: s.coordinator_url ? "url" : "embedded",
    coordinator_url: s.coordinator_url ?? "",
    language: s.language ?? "auto",
    autostart: s.autostart,
    auto_update_checks: s.auto_update_checks,
    update_url: s.update_url ?? "",
    model_storage_mb: String(s.model_storage_mb),
  };
}

/** Parses a number typed in either locale ("0,30" or "0.30"). */
export function parseNumber(s: string): number | null {
  const t = s.trim().replace(",", ".");
  if (t === "" || !/^-?\d*\.?\d*$/.test(t) || t === "." || t === "-") return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

function ranged(
  errors: FieldErrors,
  key: string,
  input: string,
  min: number,
  max: number,
  opts: { optional?: boolean; whole?: boolean } = {},
): number | null {
  if (input.trim() === "") {
    if (!opts.optional) errors[key] = { key: "val.required" };
    return null;
  }
  const n = parseNumber(input);
  if (n === null) {
    errors[key] = { key: "val.number" };
    return null;
  }
  if (opts.whole && !Number.isInteger(n)) {
    errors[key] = { key: "val.whole" };
    return null;
  }
  if (n < min || n > max) {
    errors[key] = { key: "val.range", params: { min, max } };
    return null;
  }
  return n;
}

/** Validates the form; on success returns the `Settings` to save (keeping `base`'s version). */
export function fromForm(
  f: SettingsForm,
  base: Settings,
): { ok: true; settings: Settings } | { ok: false; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const idle = ranged(errors, "idle_after_min", f.idle_after_min, 1, 240, { whole: true });
  const temp = ranged(errors, "max_temp_c", f.max_temp_c, 50, 95);
  const watts = ranged(errors, "max_watts", f.max_watts, 5, 2000, { optional: true });
  const rated = ranged(errors, "rated_watts_override", f.rated_watts_override, 5, 2000, { optional: true });
  const price = ranged(errors, "price_per_kwh", f.price_per_kwh, 0, 10);
  const co2 = ranged(errors, "grid_g_co2_per_kwh", f.grid_g_co2_per_kwh, 0, 2000);
  const models = ranged(errors, "model_storage_mb", f.model_storage_mb, 100, 1_000_000, { whole: true });
  const currency = f.currency.trim().toUpperCase();
  if (!/^[A-Z]{3}$/.test(currency)) errors["currency"] = { key: "val.currency" };
  let url: string | null = null;
  if (f.network === "url") {
    url = f.coordinator_url.trim();
    if (url === "") errors["coordinator_url"] = { key: "val.required" };
    else if (!/^https?:\/\/[^\s/]+/.test(url)) errors["coordinator_url"] = { key: "val.url" };
  }
  const updateUrl = f.update_url.trim() === "" ? null : f.update_url.trim();
  if (updateUrl !== null && !/^https?:\/\/[^\s/]+/.test(updateUrl)) errors["update_url"] = { key: "val.url" };
  const windows: { days: Weekday[]; start_min: number; end_min: number }[] = [];
  if (f.schedule_on) {
    if (f.windows.length === 0) errors["schedule.windows"] = { key: "val.windows_none" };
    f.windows.forEach((w, i) => {
      const start = parseClock(w.start);
      const end = parseClock(w.end);
      if (start === null) errors[`schedule.windows[${i}].start_min`] = { key: "val.time" };
      if (end === null) errors[`schedule.windows[${i}].end_min`] = { key: "val.time" };
      else if (start !== null && start === end) errors[`schedule.windows[${i}].end_min`] = { key: "val.window_time" };
      if (w.days.length === 0) errors[`schedule.windows[${i}].days`] = { key: "val.window_days" };
      if (start !== null && end !== null) windows.push({
          days: [...w.days].sort((a, b) => a - b).map((d) => WEEKDAYS[d] as Weekday),
          start_min: start,
          end_min: end,
        });
    });
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    settings: {
      ...base,
      idle_after_min: idle as number,
      run_mode: f.run_mode,
      pause_on_battery: f.pause_on_battery,
      max_temp_c: temp as number,
      max_watts: watts,
      rated_watts_override: rated,
      currency,
      price_per_kwh: price as number,
      grid_g_co2_per_kwh: co2 as number,
      allow_software_adapter: f.allow_software_adapter,
      schedule: f.schedule_on ? { windows } : null,
      coordinator_url: url,
      language: f.language === "auto" ? null : f.language,
      autostart: f.autostart,
      auto_update_checks: f.auto_update_checks,
      update_url: updateUrl,
      model_storage_mb: models as number,
    },
  };
}

/**
 * Maps a shell `invalid_setting` key to the form field that shows it. Nested keys
 * ("schedule.windows[0].start_min") are kept; unknown keys fall back to themselves.
 */
export function fieldOfKey(key: string | null | undefined): string {
  return key ?? "form";
}
