// The wallet balance, kept live from `balance_changed`.
import { api, on } from "../api";
import { useQuery } from "./use-query.svelte";

export function useBalance() {
  const q = useQuery(api.getBalance);
  $effect(() => on.balanceChanged((b) => q.set(b)));
  return q;
}
