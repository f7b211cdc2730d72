// A one-shot query as reactive state: `data`, `error` (an `AppError`), `loading` and
// `refresh()`. Stores compose it with event listeners; components never call `api` for reads.
import { toAppError, type AppError } from "../api";

export type Query<T> = {
  readonly data: T | null;
  readonly error: AppError | null;
  readonly loading: boolean;
  refresh(): Promise<void>;
  set(value: T | null): void;
};

export function useQuery<T>(fetch: () => Promise<T>): Query<T> {
  const q = $state<{ data: T | null; error: AppError | null; loading: boolean }>({
    data: null,
    error: null,
    loading: true,
  });
  let generation = 0;
  async function refresh() {
    const mine = ++generation;
    q.loading = true;
    try {
      const data = await fetch();
      if (mine !== generation) return;
      q.data = data;
      q.error = null;
    } catch (e) {
      if (mine !== generation) return;
      q.error = toAppError(e);
    } finally {
      if (mine === generation) q.loading = false;
    }
  }
  void refresh();
  return {
    get data() {
      return q.data;
    },
    get error() {
      return q.error;
    },
    get loading() {
      return q.loading;
    },
    refresh,
    set(value: T | null) {
      generation++;
      q.data = value;
      q.loading = false;
    },
  };
}
