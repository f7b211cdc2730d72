import { describe, expect, it } from "vitest";
import { en } from "./en";
import { de } from "./de";
import { pickLanguage, translate } from "./core";

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe("i18n", () => {
  it("English and German have the same keys", () => {
    expect(Object.keys(de).sort()).toEqual(Object.keys(en).sort());
  });
  it("no string is empty", () => {
    for (const [lang, dict] of Object.entries({ en, de })) {
      for (const [k, v] of Object.entries(dict)) {
        expect(v.trim(), `${lang}:${k}`).not.toBe("");
      }
    }
  });
  it("both languages use the same placeholders", () => {
    for (const k of Object.keys(en) as (keyof typeof en)[]) {
      expect(placeholders(de[k]), k).toEqual(placeholders(en[k]));
    }
  });
  it("fills placeholders and leaves unknown ones visible", () => {
    expect(translate(en, "reason.thermal_limit", { max: 80 })).toBe("80 °C limit");
    expect(translate(de, "reason.thermal_limit", { max: 80 })).toBe("Temperaturgrenze 80 °C");
    expect(translate(en, "reason.thermal_limit")).toBe("{max} °C limit");
  });
  it("picks the language from the setting, else the OS, else English", () => {
    expect(pickLanguage("de", ["en-US"])).toBe("de");
    expect(pickLanguage(null, ["fr-FR", "de-AT"])).toBe("de");
    expect(pickLanguage(null, ["de_DE"])).toBe("de");
    expect(pickLanguage(null, ["fr-FR"])).toBe("en");
    expect(pickLanguage(null, [])).toBe("en");
  });
});
