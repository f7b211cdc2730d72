// Must be the first import of `main.ts`. WebKitGTK (the engine of the Linux app) reports
// the POSIX locale as `navigator.language` when LANG is unset or "C" ("C", "C.UTF-8"), which
// is not a BCP 47 tag: `new Intl.NumberFormat("C")` throws, and uPlot does exactly that when
// its module loads, which would leave the window blank. If the reported language is not a
// valid tag, this reports "en-US" instead (our own i18n falls back to English the same way).

export function validTag(tag: string | undefined | null): boolean {
  if (!tag) return false;
  try {
    return Intl.getCanonicalLocales(tag).length > 0;
  } catch {
    return false;
  }
}

export function guardNavigatorLanguage(nav: Navigator | undefined = globalThis.navigator): boolean {
  if (!nav || validTag(nav.language)) return false;
  const languages = (nav.languages ?? []).filter(validTag);
  const first = languages[0] ?? "en-US";
  Object.defineProperty(nav, "language", { configurable: true, get: () => first });
  Object.defineProperty(nav, "languages", {
    configurable: true,
    get: () => (languages.length ? languages : ["en-US"]),
  });
  return true;
}

guardNavigatorLanguage();
