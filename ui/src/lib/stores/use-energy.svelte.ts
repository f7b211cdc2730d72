// The 7-day energy report: loaded once, today's totals follow the samples, and the whole
// report reloads when a job finishes (earnings), when the day changes, and every minute.
import { api, on } from "../api";
import { applySampleToEnergy, localDate } from "./reducers";
import { useQuery } from "./use-query.svelte";

export function useEnergy(days = 7) {
  const q = useQuery(() => api.getEnergy(days));
  $effect(() => {
    const un = on.nodeEvent((ev) => {
      if (ev.event === "sample") {
        if (q.data && localDate(ev.ts_ms) !== q.data.today.date) void q.refresh();
        else {
          const next = applySampleToEnergy(q.data, ev);
          if (next !== q.data) q.set(next);
        }
      } else if (ev.event === "job_done") void q.refresh();
    });
    const unBalance = on.balanceChanged(() => void q.refresh());
    const timer = setInterval(() => void q.refresh(), 60_000);
    return () => {
      un();
      unBalance();
      clearInterval(timer);
    };
  });
  return q;
}
