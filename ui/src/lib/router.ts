// A tiny hash router: one route per screen (`#/dashboard`, `#/wallet`, …). Pure parsing here;
// `use-route.svelte.ts` keeps the current route as state.
export const ROUTES = ["dashboard", "hardware", "wallet", "settings", "about"] as const;
export type Route = (typeof ROUTES)[number];

/** "#/wallet" → "wallet"; anything unknown → "dashboard". */
export function parseRoute(hash: string): Route {
  const name = hash.replace(/^#\/?/, "").split(/[/?]/)[0] ?? "";
  return (ROUTES as readonly string[]).includes(name) ? (name as Route) : "dashboard";
}

export function href(route: Route): string {
  return `#/${route}`;
}
