// Pure i18n helpers (no Svelte state): dictionary lookup with `{name}` placeholders and the
// choice of language from the owner's setting or the OS. The reactive wrapper is `index.svelte.ts`.
import { en, type MessageKey, type Messages } from "./en";
import { de } from "./de";

export type Lang = "en" | "de";
export const LANGS: readonly Lang[] = ["en", "de"];
export const DICTS: Record<Lang, Messages> = { en, de };

/** Placeholder values; numbers should already be formatted for the locale by the caller. */
export type Params = Record<string, string | number>;

/** Looks `key` up in `dict` and fills `{placeholders}`; an unknown placeholder stays visible. */
export function translate(dict: Messages, key: MessageKey, params?: Params): string {
  const template = dict[key] ?? en[key] ?? key;
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
}

/** The owner's language setting wins; else the first supported language the OS prefers; else English. */
export function pickLanguage(setting: Lang | null | undefined, preferred: readonly string[]): Lang {
  if (setting && LANGS.includes(setting)) return setting;
  for (const tag of preferred) {
    const base = tag.toLowerCase().split(/[-_]/)[0];
    if (LANGS.includes(base as Lang)) return base as Lang;
  }
  return "en";
}

/** BCP 47 locale used for Intl formatting of a language. */
export function localeOf(lang: Lang): string {
  return lang === "de" ? "de-DE" : "en-US";
}
