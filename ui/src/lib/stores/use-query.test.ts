import { describe, expect, it } from "vitest";
import { useQuery } from "./use-query.svelte";
import { ApiError } from "../api";

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe("useQuery", () => {
  it("loads, then exposes data", async () => {
    const q = useQuery(async () => 42);
    expect(q.loading).toBe(true);
    await tick();
    expect(q.data).toBe(42);
    expect(q.error).toBeNull();
    expect(q.loading).toBe(false);
  });

  it("keeps the last data and shows the error as an AppError", async () => {
    let fail = false;
    const q = useQuery(async () => {
      if (fail) throw new ApiError({ kind: "network", message: "Offline.", key: null });
      return "ok";
    });
    await tick();
    fail = true;
    await q.refresh();
    expect(q.data).toBe("ok");
    expect(q.error).toEqual({ kind: "network", message: "Offline.", key: null });
  });

  it("ignores an answer that arrives after a newer one", async () => {
    const calls: ReturnType<typeof deferred<number>>[] = [];
    const q = useQuery(() => {
      const d = deferred<number>();
      calls.push(d);
      return d.promise;
    });
    const second = q.refresh();
    calls[1]!.resolve(2);
    await second;
    calls[0]!.resolve(1);
    await tick();
    expect(q.data).toBe(2);
  });

  it("a value set by an event wins over a slower load", async () => {
    const d = deferred<string>();
    const q = useQuery(() => d.promise);
    q.set("from event");
    d.resolve("stale");
    await tick();
    expect(q.data).toBe("from event");
    expect(q.loading).toBe(false);
  });
});
