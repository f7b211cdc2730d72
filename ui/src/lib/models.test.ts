import { describe, expect, it } from "vitest";
import { activeDownload, downloadText, storageText, DOWNLOAD_STALE_MS, type DownloadProgress } from "./models";
import { DICTS, translate } from "./i18n/core";
import type { MessageKey } from "./i18n/en";
import type { Params } from "./i18n/core";

const en = (k: MessageKey, p?: Params) => translate(DICTS.en, k, p);
const de = (k: MessageKey, p?: Params) => translate(DICTS.de, k, p);
const MIB = 1024 * 1024;
const p = (done: number, total: number): DownloadProgress =>
  ({ ts_ms: 1, event: "download_progress", model: "all-MiniLM-L6-v2", done_bytes: done, total_bytes: total }) as DownloadProgress;

describe("model downloads", () => {
  it("say how far the download is, in whole MB, in both languages", () => {
    const half = p(41 * MIB + 5, 86 * MIB + 1);
    expect(downloadText(half, en)).toBe("Downloading model all-MiniLM-L6-v2: 41 of 87 MB");
    expect(downloadText(half, de)).toBe("Modell all-MiniLM-L6-v2 wird geladen: 41 von 87 MB");
    expect(downloadText(p(86 * MIB + 1, 86 * MIB + 1), en)).toBe("Downloading model all-MiniLM-L6-v2: 87 of 87 MB");
  });
  it("are shown only while unfinished and recently reported", () => {
    const half = p(10, 20);
    expect(activeDownload(half, 1000, 1000 + DOWNLOAD_STALE_MS)).toBe(half);
    expect(activeDownload(half, 1000, 1001 + DOWNLOAD_STALE_MS)).toBeNull();
    expect(activeDownload(p(20, 20), 1000, 1000)).toBeNull();
    expect(activeDownload(null, 0, 0)).toBeNull();
  });
  it("summarise the disk space the models use", () => {
    expect(storageText(87 * MIB, 2_000_000_000, en, "en-US")).toBe("87\u00a0MiB of 1.9\u00a0GiB used");
  });
});
