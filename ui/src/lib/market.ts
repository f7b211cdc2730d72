// Where the money comes from, as the owner reads it: each job's origin (a client paid, the
// local network's demo client paid, or the operator's calibration budget), the network's
// live demand ("Paid work waiting: 3 jobs") and its public price list. Pure: takes the
// translator and locale so it is unit-testable in both languages.
import type { Balance, Market } from "./api";
import type { Translate } from "./reason";
import { formatMoney, formatTokens } from "./format";

export type JobView = Balance["recent_jobs"][number];
export type JobOrigin = JobView["origin"];
export type PriceView = NonNullable<Market["prices"]>;

/** The origin label of a job ("client-paid", "demo client", "calibration"). */
export function originText(origin: JobOrigin, t: Translate): string {
  switch (origin) {
    case "client_paid":
      return t("jobs.origin_client_paid");
    case "demo_client":
      return t("jobs.origin_demo_client");
    case "calibration":
      return t("jobs.origin_calibration");
  }
}

/** The origin's longer explanation (for a tooltip). */
export function originHint(origin: JobOrigin, t: Translate): string {
  switch (origin) {
    case "client_paid":
      return t("jobs.origin_client_paid_hint");
    case "demo_client":
      return t("jobs.origin_demo_client_hint");
    case "calibration":
      return t("jobs.origin_calibration_hint");
  }
}

/** What the job was: "matmul 256×256×256" or "embeddings, 12 texts". */
export function jobWhat(job: JobView, t: Translate, locale: string): string {
  if (job.kind === "embeddings") return t("jobs.embeddings", { n: job.rows.toLocaleString(locale) });
  return t("jobs.matmul", { m: job.rows, n: job.n, k: job.k });
}

/** The job's outcome in words. */
export function outcomeText(outcome: JobView["outcome"], t: Translate): string {
  return t(`jobs.outcome_${outcome}`);
}

/** The live demand line; null while the network has not answered. */
export function demandText(market: Market, t: Translate, locale: string): string | null {
  const n = market.paid_jobs_waiting;
  if (n == null) return null;
  if (n === 0) return market.calibration_budget ? t("market.waiting_none_calibration") : t("market.waiting_none");
  return t(n === 1 ? "market.waiting_one" : "market.waiting_many", { n: n.toLocaleString(locale) });
}

/** The operator's fee, "5 %" / "5,5 %" (basis points → percent). */
export function feeText(bps: number, locale: string): string {
  return new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 2 }).format(bps / 10_000);
}

/**
 * A figure in the operator's reference currency: small prices keep three significant
 * digits ("€0.000125") instead of rounding to "€0.00".
 */
export function formatReference(x: number, currency: string, locale: string): string {
  if (Number.isFinite(x) && x > 0 && x < 0.01) {
    try {
      return new Intl.NumberFormat(locale, { style: "currency", currency, maximumSignificantDigits: 3 }).format(x);
    } catch {
      // an unknown currency code: formatMoney's fallback below
    }
  }
  return formatMoney(x, currency, locale);
}

/**
 * Today's earnings minus electricity in one currency, at the operator's reference value;
 * null without a reference value or when it is in another currency than the electricity
 * price (no exchange rates are guessed). A display estimate: amounts stay decimal strings.
 */
export function netInReference(earned: string, cost: number, prices: PriceView | null, currency: string): number | null {
  const ref = prices?.reference;
  if (!ref || ref.currency !== currency || !Number.isFinite(cost)) return null;
  const tokens = Number(earned);
  if (!Number.isFinite(tokens)) return null;
  return tokens * ref.per_token - cost;
}

/** One line of the price list: tokens, and the reference currency's figure when published. */
export type PriceLine = { key: "matmul" | "embeddings" | "node_matmul"; tokens: string; reference: string | null };

/** The price list as lines: what a client pays per TFLOP and per 1,000 tokens, and the node's share. */
export function priceLines(p: PriceView, locale: string): PriceLine[] {
  const ref = (x: number | undefined) =>
    p.reference && x != null ? formatReference(x, p.reference.currency, locale) : null;
  return [
    { key: "matmul", tokens: formatTokens(p.matmul_per_tflop, locale, p.symbol), reference: ref(p.reference?.matmul_per_tflop) },
    {
      key: "embeddings",
      tokens: formatTokens(p.embeddings_per_1k_tokens, locale, p.symbol),
      reference: ref(p.reference?.embeddings_per_1k_tokens),
    },
    { key: "node_matmul", tokens: formatTokens(p.node_matmul_per_tflop, locale, p.symbol), reference: null },
  ];
}
