// Step logging for the E2E runner: every line carries the seconds since the run began, so
// a CI log shows where the time went and which step hung. No dependencies.

const t0 = Date.now();

/** Seconds since the run started, one decimal. */
export function elapsed() {
  return ((Date.now() - t0) / 1000).toFixed(1).padStart(6);
}

/** A plain log line. */
export function log(...parts) {
  console.log(`[e2e ${elapsed()}s]`, ...parts);
}

/** A warning line (stderr). */
export function warn(...parts) {
  console.error(`[e2e ${elapsed()}s] WARN`, ...parts);
}

let stepNo = 0;

/** Failures of non-critical steps, reported at the end: [{ name, error }]. */
export const softFailures = [];

/**
 * Runs one named step: logs its start, its end with its duration, or its failure.
 * A failed step rethrows with the step's name in front of the message, unless it was
 * started with `{ critical: false }` (nothing later depends on it): then the failure is
 * recorded in `softFailures`, `onSoftFailure` runs (a screenshot), the step returns
 * `undefined` and the run goes on, so one run reports every broken feature. The run
 * fails at the end either way.
 */
export async function step(name, fn, { critical = true, onSoftFailure } = {}) {
  stepNo += 1;
  const n = stepNo;
  const start = Date.now();
  log(`── step ${n}: ${name}`);
  try {
    const out = await fn();
    log(`   ok ${n}: ${name} (${((Date.now() - start) / 1000).toFixed(1)} s)`);
    return out;
  } catch (err) {
    const msg = err && err.message ? err.message : String(err);
    if (!critical) {
      warn(`   FAILED ${n}: ${name}: ${msg} (the run goes on; it fails at the end)`);
      softFailures.push({ name: `step ${n} "${name}"`, error: msg });
      if (onSoftFailure) {
        try {
          await onSoftFailure(n);
        } catch (e) {
          warn(`   (no failure evidence: ${e.message})`);
        }
      }
      return undefined;
    }
    const wrapped = new Error(`step ${n} "${name}" failed: ${msg}`);
    wrapped.cause = err;
    throw wrapped;
  }
}
