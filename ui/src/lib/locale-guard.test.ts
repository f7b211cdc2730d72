import { describe, expect, it } from "vitest";
import { guardNavigatorLanguage, validTag } from "./locale-guard";

describe("navigator.language guard", () => {
  it("knows BCP 47 tags from POSIX locales", () => {
    expect(validTag("de-DE")).toBe(true);
    expect(validTag("en")).toBe(true);
    expect(validTag("C")).toBe(false);
    expect(validTag("C.UTF-8")).toBe(false);
    expect(validTag("")).toBe(false);
  });
  it("replaces an invalid language so Intl does not throw", () => {
    const nav = { language: "C", languages: ["C"] } as unknown as Navigator;
    expect(guardNavigatorLanguage(nav)).toBe(true);
    expect(nav.language).toBe("en-US");
    expect(nav.languages).toEqual(["en-US"]);
    expect(() => new Intl.NumberFormat(nav.language)).not.toThrow();
  });
  it("keeps a valid language and prefers a valid one from the list", () => {
    const ok = { language: "de-DE", languages: ["de-DE"] } as unknown as Navigator;
    expect(guardNavigatorLanguage(ok)).toBe(false);
    expect(ok.language).toBe("de-DE");
    const mixed = { language: "C", languages: ["C", "de-AT"] } as unknown as Navigator;
    guardNavigatorLanguage(mixed);
    expect(mixed.language).toBe("de-AT");
  });
});
