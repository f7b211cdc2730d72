// Withdrawal history, newest first, kept live from `withdrawal_changed`.
import { api, on, type Withdrawal } from "../api";
import { upsertWithdrawal } from "./reducers";
import { useQuery } from "./use-query.svelte";

export function useWithdrawals() {
  const q = useQuery(async () => upsertAll(await api.listWithdrawals()));
  $effect(() => on.withdrawalChanged((w) => q.set(upsertWithdrawal(q.data ?? [], w))));
  return q;
}

function upsertAll(list: Withdrawal[]): Withdrawal[] {
  return list.reduce<Withdrawal[]>((acc, w) => upsertWithdrawal(acc, w), []);
}
