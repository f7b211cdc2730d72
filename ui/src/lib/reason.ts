// Turns the node's state and reason into the sentence the dashboard and tray tell the
// owner ("Paused: on battery", "Throttled: 80 °C limit"). Pure: takes the translator and
// locale as arguments so it is unit-testable in both languages.
import type { NodeState, Reason } from "./api";
import type { MessageKey } from "./i18n/en";
import type { Params } from "./i18n/core";
import { formatDuration, formatTime } from "./format";

export type Translate = (key: MessageKey, params?: Params) => string;

/** The reason alone, as a phrase ("on battery", "80 °C limit"); null when there is none. */
export function reasonText(
  reason: Reason | null,
  t: Translate,
  locale: string,
  pausedUntilMs: number | null = null,
): string | null {
  if (!reason) return null;
  switch (reason.kind) {
    case "owner_active":
      return t("reason.owner_active", {
        idle: formatDuration(reason.idle_s),
        after: formatDuration(reason.idle_after_s),
      });
    case "user_paused":
      return pausedUntilMs != null
        ? t("reason.user_paused_until", { time: formatTime(pausedUntilMs, locale) })
        : t("reason.user_paused");
    case "gpu_busy":
      return reason.process
        ? t("reason.gpu_busy_named", { process: reason.process, percent: Math.round(reason.percent) })
        : t("reason.gpu_busy", { percent: Math.round(reason.percent) });
    case "power_limit":
      return t("reason.power_limit", { max: Math.round(reason.max_watts) });
    case "thermal_limit":
      return t("reason.thermal_limit", { max: Math.round(reason.max_celsius) });
    case "no_idle_detection":
    case "gpu_unavailable":
    case "job_source_unavailable":
    case "settings_damaged":
      return t(`reason.${reason.kind}`, { message: reason.message });
    default:
      return t(`reason.${reason.kind}`);
  }
}

/** The state word ("Paused"). */
export function stateText(state: NodeState, t: Translate): string {
  return t(`state.${state}`);
}

/** "State: reason" in one line (for headings, tooltips and tests), or just the state. */
export function stateSentence(
  state: NodeState,
  reason: Reason | null,
  t: Translate,
  locale: string,
  pausedUntilMs: number | null = null,
): string {
  const r = reasonText(reason, t, locale, pausedUntilMs);
  return r ? `${stateText(state, t)}: ${r}` : stateText(state, t);
}

/** Visual tone of a state, for the colour of the status badge. */
export type Tone = "good" | "calm" | "warn" | "bad";

export function stateTone(state: NodeState): Tone {
  switch (state) {
    case "computing":
      return "good";
    case "throttled":
    case "offline":
      return "warn";
    case "error":
      return "bad";
    default:
      return "calm";
  }
}
