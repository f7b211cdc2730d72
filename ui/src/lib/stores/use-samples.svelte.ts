// The last ten minutes of 1 Hz samples: filled from `get_recent_samples` on open, then
// appended from `node_event` samples. Listener removed when the component goes away.
import { api, on, type SampleEvent } from "../api";
import { pushSample } from "./reducers";

export function useSamples() {
  const s = $state<{ list: SampleEvent[] }>({ list: [] });

  $effect(() => {
    let live = true;
    const un = on.nodeEvent((ev) => {
      if (ev.event === "sample") s.list = pushSample(s.list, ev);
    });
    api
      .getRecentSamples()
      .then((recent) => {
        if (!live) return;
        let list: SampleEvent[] = [];
        for (const x of recent) if (x.event === "sample") list = pushSample(list, x);
        for (const x of s.list) list = pushSample(list, x);
        s.list = list;
      })
      .catch((e: unknown) => console.warn("recent samples unavailable", e));
    return () => {
      live = false;
      un();
    };
  });

  return {
    get list() {
      return s.list;
    },
    get latest(): SampleEvent | null {
      return s.list[s.list.length - 1] ?? null;
    },
  };
}
