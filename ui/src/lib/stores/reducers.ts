// Pure state transitions behind the stores: how a node event changes the status, how
// samples accumulate into the chart's series, how today's totals follow the samples and
// how withdrawal updates merge into the history. Kept free of Svelte so they are unit-tested.
import type { EnergyReport, NodeEvent, SampleEvent, Status, Withdrawal } from "../api";

/** At most this many samples are kept (10 minutes at 1 Hz), like `get_recent_samples`. */
export const MAX_SAMPLES = 600;

/** A `state` event updates the status; other events leave it unchanged (same object). */
export function applyNodeEvent(status: Status | null, ev: NodeEvent): Status | null {
  if (ev.event !== "state" || !status) return status;
  const stillPaused = ev.state === "paused" && ev.reason?.kind === "user_paused";
  return {
    ...status,
    state: ev.state,
    reason: ev.reason,
    paused_until_ms: stillPaused ? status.paused_until_ms : null,
  };
}

/** Appends a sample (ignoring duplicates and out-of-order ones) and drops the oldest beyond `max`. */
export function pushSample(samples: readonly SampleEvent[], s: SampleEvent, max = MAX_SAMPLES): SampleEvent[] {
  const last = samples[samples.length - 1];
  if (last && s.ts_ms <= last.ts_ms) return samples as SampleEvent[];
  const next = samples.length >= max ? samples.slice(samples.length - max + 1) : samples.slice();
  next.push(s);
  return next;
}

/**
 * uPlot data: x in seconds, then measured watts and estimated watts as separate series
 * (null where the other one applies). A point where the source changes is put in both so
 * the line stays continuous while its style changes.
 */
export function powerSeries(samples: readonly SampleEvent[]): [number[], (number | null)[], (number | null)[]] {
  const xs: number[] = [];
  const measured: (number | null)[] = [];
  const estimated: (number | null)[] = [];
  samples.forEach((s, i) => {
    const isMeasured = s.gpu_watts.source.kind === "measured";
    const prev = samples[i - 1];
    const prevMeasured = prev ? prev.gpu_watts.source.kind === "measured" : isMeasured;
    const edge = prev !== undefined && prevMeasured !== isMeasured;
    xs.push(s.ts_ms / 1000);
    measured.push(isMeasured || edge ? s.gpu_watts.value : null);
    estimated.push(!isMeasured || edge ? s.gpu_watts.value : null);
  });
  return [xs, measured, estimated];
}

/** Share of the samples whose power was estimated (0..1). */
export function estimatedShare(samples: readonly SampleEvent[]): number {
  if (samples.length === 0) return 0;
  return samples.filter((s) => s.gpu_watts.source.kind === "estimated").length / samples.length;
}

/** Local YYYY-MM-DD of a timestamp (the core's day boundary is local midnight). */
export function localDate(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

/**
 * A sample carries today's running totals; they replace the report's `today` (and the
 * matching day in `days`) when they are for the same day. A sample from a new day is
 * ignored here: the store reloads the report then.
 */
export function applySampleToEnergy(report: EnergyReport | null, s: SampleEvent): EnergyReport | null {
  if (!report || localDate(s.ts_ms) !== report.today.date) return report;
  const today = {
    ...report.today,
    wh: s.today_wh,
    measured_wh: s.today_measured_wh,
    cost: s.today_cost,
    co2_g: s.today_co2_g,
  };
  const days = report.days.map((d) => (d.date === today.date ? { ...d, ...today, earned: d.earned } : d));
  return { ...report, currency: s.currency, today, days };
}

/** Inserts or replaces a withdrawal by id; newest first. */
export function upsertWithdrawal(list: readonly Withdrawal[], w: Withdrawal): Withdrawal[] {
  const rest = list.filter((x) => x.id !== w.id);
  rest.push(w);
  return rest.sort((a, b) => b.created_at_ms - a.created_at_ms);
}
