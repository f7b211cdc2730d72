import { describe, expect, it } from "vitest";
import { DICTS, translate, type Params } from "./i18n/core";
import type { MessageKey } from "./i18n/en";
import {
  demandText,
  feeText,
  jobWhat,
  netInReference,
  originHint,
  originText,
  outcomeText,
  priceLines,
  type JobView,
} from "./market";
import type { Market } from "./api";

const tEn = (k: MessageKey, p?: Params) => translate(DICTS.en, k, p);
const tDe = (k: MessageKey, p?: Params) => translate(DICTS.de, k, p);

const market = (over: Partial<Market> = {}): Market => ({
  paid_jobs_waiting: 3,
  calibration_budget: false,
  prices: {
    symbol: "IDW",
    matmul_per_tflop: "1",
    embeddings_per_1k_tokens: "0.0005",
    node_matmul_per_tflop: "0.95",
    fee_bps: 500,
    reference: null,
  },
  embedded: true,
  demo_client: true,
  message: null,
  ...over,
});

const job = (over: Partial<JobView> = {}): JobView => ({
  lease_id: "l1",
  kind: "matmul",
  rows: 256,
  n: 256,
  k: 256,
  origin: "client_paid",
  outcome: "verified",
  reward: "0.0000335",
  issued_at_ms: 0,
  finished_at_ms: 1,
  ...over,
});

describe("where the money came from", () => {
  it("labels each origin in both languages, never leaving a key visible", () => {
    for (const origin of ["client_paid", "demo_client", "calibration"] as const) {
      for (const t of [tEn, tDe]) {
        expect(originText(origin, t)).not.toMatch(/^jobs\./);
        expect(originHint(origin, t)).not.toMatch(/^jobs\./);
      }
    }
    expect(originText("client_paid", tEn)).toBe("client-paid");
    expect(originText("calibration", tEn)).toBe("calibration");
    expect(originText("demo_client", tEn)).toBe("demo client");
    expect(originText("client_paid", tDe)).toBe("von Kunden bezahlt");
    expect(originText("calibration", tDe)).toBe("Kalibrierung");
  });
  it("says what the job was", () => {
    expect(jobWhat(job(), tEn, "en-US")).toBe("matmul 256×256×256");
    expect(jobWhat(job({ kind: "embeddings", rows: 1200, n: 384, k: 40 }), tEn, "en-US")).toBe("embeddings, 1,200 texts");
    expect(jobWhat(job({ kind: "embeddings", rows: 1200, n: 384, k: 40 }), tDe, "de-DE")).toBe("Embeddings, 1.200 Texte");
    for (const o of ["running", "verified", "rejected", "expired"] as const) expect(outcomeText(o, tDe)).not.toMatch(/^jobs\./);
  });
});

describe("live demand", () => {
  it("counts the paid work waiting, singular and plural", () => {
    expect(demandText(market(), tEn, "en-US")).toBe("Paid work waiting: 3 jobs");
    expect(demandText(market({ paid_jobs_waiting: 1 }), tEn, "en-US")).toBe("Paid work waiting: 1 job");
    expect(demandText(market({ paid_jobs_waiting: 1 }), tDe, "de-DE")).toBe("Bezahlte Arbeit wartet: 1 Auftrag");
    expect(demandText(market({ paid_jobs_waiting: 1500 }), tDe, "de-DE")).toBe("Bezahlte Arbeit wartet: 1.500 Aufträge");
  });
  it("says honestly when there is none, and when only calibration work pays", () => {
    expect(demandText(market({ paid_jobs_waiting: 0 }), tEn, "en-US")).toBe("No paid work waiting right now");
    expect(demandText(market({ paid_jobs_waiting: 0, calibration_budget: true }), tEn, "en-US")).toContain("calibration");
    expect(demandText(market({ paid_jobs_waiting: null, message: "refused" }), tEn, "en-US")).toBeNull();
  });
});

describe("the price list", () => {
  it("shows tokens, the node's share and the fee", () => {
    const lines = priceLines(market().prices!, "en-US");
    expect(lines.map((l) => [l.key, l.tokens, l.reference])).toEqual([
      ["matmul", "1\u00a0IDW", null],
      ["embeddings", "0.0005\u00a0IDW", null],
      ["node_matmul", "0.95\u00a0IDW", null],
    ]);
    expect(feeText(500, "en-US")).toBe("5%");
    expect(feeText(550, "de-DE")).toBe("5,5\u00a0%");
  });
  it("adds the operator's reference currency when one is set", () => {
    const prices = {
      ...market().prices!,
      reference: { currency: "EUR", per_token: 0.25, matmul_per_tflop: 0.25, embeddings_per_1k_tokens: 0.000125 },
    };
    const lines = priceLines(prices, "en-US");
    expect(lines[0]!.reference).toBe("€0.25");
    expect(lines[1]!.reference).toBe("€0.000125");
    expect(lines[2]!.reference).toBeNull();
  });
  it("shows earnings minus electricity in one currency only at a reference value in that currency", () => {
    const prices = {
      ...market().prices!,
      reference: { currency: "EUR", per_token: 0.5, matmul_per_tflop: 0.5, embeddings_per_1k_tokens: 0.00025 },
    };
    expect(netInReference("3", 0.25, prices, "EUR")).toBe(1.25);
    expect(netInReference("3", 0.25, prices, "USD")).toBeNull();
    expect(netInReference("3", 0.25, market().prices, "EUR")).toBeNull();
    expect(netInReference("3", 0.25, null, "EUR")).toBeNull();
  });
});
