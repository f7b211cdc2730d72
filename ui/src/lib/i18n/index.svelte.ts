// The current language as Svelte state: components call `t(key)` and re-render when the
// owner changes the language setting. The language never comes from a global store of
// secrets; it is only a display preference.
import type { MessageKey } from "./en";
import { DICTS, localeOf, pickLanguage, translate, type Lang, type Params } from "./core";

export type { MessageKey } from "./en";
export type { Lang } from "./core";

function osLanguages(): readonly string[] {
  if (typeof navigator === "undefined") return [];
  return navigator.languages?.length ? navigator.languages : [navigator.language];
}

const i18n = $state<{ lang: Lang }>({ lang: pickLanguage(null, osLanguages()) });

/** Applies the owner's language setting (`null` follows the OS). */
export function setLanguage(setting: Lang | null): void {
  i18n.lang = pickLanguage(setting, osLanguages());
  if (typeof document !== "undefined") document.documentElement.lang = i18n.lang;
}

export function lang(): Lang {
  return i18n.lang;
}

/** Intl locale of the current language. */
export function locale(): string {
  return localeOf(i18n.lang);
}

export function t(key: MessageKey, params?: Params): string {
  return translate(DICTS[i18n.lang], key, params);
}
