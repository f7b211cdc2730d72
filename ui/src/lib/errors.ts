// Errors shown to the owner: a friendly title by kind, the shell's own sentence, and what to
// do next. Never includes secrets: the shell's messages are already free of them and the UI
// adds only fixed text.
import type { AppError, ErrorKind } from "./api";
import type { MessageKey } from "./i18n/en";
import type { Translate } from "./reason";

export type FriendlyError = { title: string; message: string; next: string };

export function friendlyError(e: AppError, t: Translate): FriendlyError {
  const kind: ErrorKind = e.kind;
  const title = t(`err.title.${kind}` as MessageKey);
  const next = t(`err.next.${kind}` as MessageKey);
  const message = e.message.trim() || title;
  return { title, message, next };
}
