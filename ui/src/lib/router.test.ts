import { describe, expect, it } from "vitest";
import { href, parseRoute } from "./router";

describe("router", () => {
  it("parses hashes", () => {
    expect(parseRoute("#/wallet")).toBe("wallet");
    expect(parseRoute("#settings")).toBe("settings");
    expect(parseRoute("#/about?x=1")).toBe("about");
    expect(parseRoute("")).toBe("dashboard");
    expect(parseRoute("#/nope")).toBe("dashboard");
    expect(href("hardware")).toBe("#/hardware");
  });
});
