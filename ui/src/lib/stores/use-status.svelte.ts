// The node's status (state, reason, pause, onboarding, network), kept live from `node_event`
// state events. Created once by `App.svelte` and shared with screens through context.
import { getContext, setContext } from "svelte";
import { api, on, toAppError, type AppError, type Status } from "../api";
import { applyNodeEvent } from "./reducers";
import { useQuery } from "./use-query.svelte";

export type StatusStore = ReturnType<typeof createStatusStore>;

function createStatusStore() {
  const q = useQuery(api.getStatus);
  const ui = $state<{ busy: boolean; actionError: AppError | null }>({ busy: false, actionError: null });

  // `status_changed` carries the whole status (also after tray actions); a node `state`
  // event updates state and reason in between.
  $effect(() => {
    const unStatus = on.statusChanged((s) => q.set(s));
    const unNode = on.nodeEvent((ev) => {
      const next = applyNodeEvent(q.data, ev);
      if (next !== q.data) q.set(next);
    });
    return () => {
      unStatus();
      unNode();
    };
  });

  async function act(f: () => Promise<Status>) {
    ui.busy = true;
    ui.actionError = null;
    try {
      q.set(await f());
    } catch (e) {
      ui.actionError = toAppError(e);
    } finally {
      ui.busy = false;
    }
  }

  return {
    get status() {
      return q.data;
    },
    get error() {
      return q.error;
    },
    get loading() {
      return q.loading;
    },
    get busy() {
      return ui.busy;
    },
    get actionError() {
      return ui.actionError;
    },
    refresh: q.refresh,
    set: q.set,
    pause: (minutes: number | null) => act(() => api.pause(minutes)),
    resume: () => act(api.resume),
  };
}

const KEY = Symbol("status");

/** Creates the status store for this component tree (call once, in App). */
export function provideStatus(): StatusStore {
  return setContext(KEY, createStatusStore());
}

/** The status store provided by App. */
export function useStatus(): StatusStore {
  return getContext<StatusStore>(KEY);
}
