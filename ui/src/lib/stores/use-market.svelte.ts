// The network's demand and price list (`get_market`): reloaded every 10 s (demand changes as
// clients submit and nodes finish) and whenever a job of this node finishes.
import { api, on } from "../api";
import { useQuery } from "./use-query.svelte";

export const MARKET_REFRESH_MS = 10_000;

export function useMarket() {
  const q = useQuery(api.getMarket);
  $effect(() => {
    const un = on.nodeEvent((ev) => {
      if (ev.event === "job_done") void q.refresh();
    });
    const timer = setInterval(() => void q.refresh(), MARKET_REFRESH_MS);
    return () => {
      un();
      clearInterval(timer);
    };
  });
  return q;
}
