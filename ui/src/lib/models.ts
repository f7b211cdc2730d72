// AI models as the owner sees them: the line the dashboard shows while the node downloads
// a model before an embeddings job ("Downloading model all-MiniLM-L6-v2: 41 of 87 MB"),
// and the cached models' summary on the Hardware screen. Pure, so both languages are
// unit-tested.
import type { NodeEvent } from "./api";
import type { Translate } from "./reason";
import { formatBytes } from "./format";

export type DownloadProgress = Extract<NodeEvent, { event: "download_progress" }>;

const MIB = 1024 * 1024;
/** A download not heard from for this long is no longer shown (the node stopped it). */
export const DOWNLOAD_STALE_MS = 10_000;

/** "Downloading model X: 41 of 87 MB" (MB of 2²⁰ bytes, like the node's own line). */
export function downloadText(p: DownloadProgress, t: Translate): string {
  const total = Math.ceil(p.total_bytes / MIB);
  const done = p.done_bytes >= p.total_bytes ? total : Math.floor(p.done_bytes / MIB);
  return t("dash.downloading_model", { model: p.model, done, total });
}

/** The download still worth showing at `now`: unfinished and heard from recently. */
export function activeDownload(p: DownloadProgress | null, seenAt: number, now: number): DownloadProgress | null {
  if (!p || p.done_bytes >= p.total_bytes || now - seenAt > DOWNLOAD_STALE_MS) return null;
  return p;
}

/** "87 MiB of 1.9 GiB used". */
export function storageText(used: number, quota: number, t: Translate, locale: string): string {
  return t("hw.models_used", { used: formatBytes(used, locale), quota: formatBytes(quota, locale) });
}
