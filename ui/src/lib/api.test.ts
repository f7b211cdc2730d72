import { describe, expect, it } from "vitest";
import { ApiError, toAppError, unwrap } from "./api";

describe("api result unwrapping", () => {
  it("returns data of an ok result", async () => {
    await expect(unwrap(Promise.resolve({ status: "ok" as const, data: 42 }))).resolves.toBe(42);
  });
  it("throws the shell's AppError as an ApiError", async () => {
    const err = { kind: "invalid_setting" as const, message: "Too hot.", key: "max_temp_c" };
    const p = unwrap(Promise.resolve({ status: "error" as const, error: err }));
    await expect(p).rejects.toBeInstanceOf(ApiError);
    await expect(p).rejects.toMatchObject({ kind: "invalid_setting", key: "max_temp_c", message: "Too hot." });
  });
  it("passes through a value of a command typed as infallible", async () => {
    const w = { id: "w1", status: "queued", amount: "1" };
    await expect(unwrap(Promise.resolve(w))).resolves.toBe(w);
    await expect(unwrap(Promise.resolve(null))).resolves.toBeNull();
  });
  it("turns a transport failure into an internal error", async () => {
    const p = unwrap(Promise.reject(new Error("IPC down")));
    await expect(p).rejects.toMatchObject({ kind: "internal", message: "IPC down" });
  });
  it("normalises odd error shapes", () => {
    expect(toAppError({ kind: "made_up", message: "x" })).toEqual({ kind: "internal", message: "x", key: null });
    expect(toAppError("plain string")).toEqual({ kind: "internal", message: "plain string", key: null });
    expect(toAppError({ kind: "keyring", message: "Locked.", key: 5 })).toEqual({
      kind: "keyring",
      message: "Locked.",
      key: null,
    });
  });
});
