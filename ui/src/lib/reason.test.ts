import { describe, expect, it } from "vitest";
import { DICTS, translate, type Params } from "./i18n/core";
import type { MessageKey } from "./i18n/en";
import { reasonText, stateSentence, stateTone } from "./reason";
import { friendlyError } from "./errors";
import type { ErrorKind } from "./api";

const tEn = (k: MessageKey, p?: Params) => translate(DICTS.en, k, p);
const tDe = (k: MessageKey, p?: Params) => translate(DICTS.de, k, p);

describe("state and reason sentences", () => {
  it("reads like the brief's examples", () => {
    expect(stateSentence("paused", { kind: "on_battery" }, tEn, "en-US")).toBe("Paused: on battery");
    expect(stateSentence("throttled", { kind: "thermal_limit", max_celsius: 80 }, tEn, "en-US")).toBe(
      "Throttled: 80 °C limit",
    );
    expect(reasonText({ kind: "owner_active", idle_s: 42, idle_after_s: 300 }, tEn, "en-US")).toBe(
      "Waiting for you to step away (idle 0:42 of 5:00)",
    );
    expect(stateSentence("computing", null, tEn, "en-US")).toBe("Earning");
  });
  it("speaks German too", () => {
    expect(stateSentence("paused", { kind: "on_battery" }, tDe, "de-DE")).toBe("Pausiert: im Akkubetrieb");
    expect(stateSentence("throttled", { kind: "power_limit", max_watts: 120.4 }, tDe, "de-DE")).toBe(
      "Gedrosselt: Leistungsgrenze 120 W",
    );
  });
  it("names the program that keeps the GPU busy, when known", () => {
    expect(stateSentence("waiting", { kind: "gpu_busy", process: "blender", percent: 87 }, tEn, "en-US")).toBe(
      "Waiting: blender is using the GPU (87%)",
    );
    expect(reasonText({ kind: "gpu_busy", process: null, percent: 40 }, tDe, "de-DE")).toBe(
      "Ein anderes Programm nutzt die GPU (40 %)",
    );
  });
  it("carries the node's message for unavailability", () => {
    expect(reasonText({ kind: "gpu_unavailable", message: "device lost" }, tEn, "en-US")).toBe(
      "The graphics card is not available: device lost",
    );
  });
  it("shows until when a pause lasts", () => {
    const until = new Date(2026, 0, 1, 14, 30).getTime();
    expect(reasonText({ kind: "user_paused" }, tEn, "de-DE", until)).toBe("Paused by you until 14:30");
    expect(reasonText({ kind: "user_paused" }, tEn, "en-US")).toBe("Paused by you");
  });
  it("has a sentence for every reason kind in both languages", () => {
    const kinds = [
      "starting",
      "owner_returned",
      "owner_away",
      "always_on",
      "full_screen",
      "user_paused",
      "on_battery",
      "outside_schedule",
      "shutting_down",
    ] as const;
    for (const kind of kinds) {
      for (const t of [tEn, tDe]) {
        const s = reasonText({ kind }, t, "en-US");
        expect(s).toBeTruthy();
        expect(s).not.toContain("reason.");
      }
    }
  });
  it("tones", () => {
    expect(stateTone("computing")).toBe("good");
    expect(stateTone("throttled")).toBe("warn");
    expect(stateTone("error")).toBe("bad");
    expect(stateTone("paused")).toBe("calm");
  });
});

describe("friendly errors", () => {
  it("gives a title and a next step for every kind", () => {
    const kinds: ErrorKind[] = [
      "invalid_setting",
      "invalid_input",
      "keyring",
      "no_wallet",
      "wallet",
      "network",
      "no_gpu",
      "chain",
      "internal",
    ];
    for (const kind of kinds) {
      const f = friendlyError({ kind, message: "The shell says so." }, tEn);
      expect(f.title).not.toContain("err.");
      expect(f.next).not.toContain("err.");
      expect(f.message).toBe("The shell says so.");
    }
    expect(friendlyError({ kind: "keyring", message: "" }, tEn).title).toBe("The system keyring is locked");
  });
});
