// The model download in progress, if any, from the node's `download_progress` events: the
// dashboard shows "Downloading model X: 41 of 87 MB" until it finishes, or until the node
// has not reported it for a while (the owner came back and the node stopped it).
import { on } from "../api";
import { activeDownload, type DownloadProgress } from "../models";

export function useDownload() {
  const s = $state<{ last: DownloadProgress | null; seenAt: number; now: number }>({
    last: null,
    seenAt: 0,
    now: Date.now(),
  });
  $effect(() => {
    const un = on.nodeEvent((ev) => {
      if (ev.event === "download_progress") {
        s.last = ev;
        s.seenAt = Date.now();
        s.now = s.seenAt;
      }
    });
    const timer = setInterval(() => (s.now = Date.now()), 2_000);
    return () => {
      un();
      clearInterval(timer);
    };
  });
  return {
    get current(): DownloadProgress | null {
      return activeDownload(s.last, s.seenAt, s.now);
    },
  };
}
