// The current screen from `location.hash`, following back/forward and links.
import { parseRoute, type Route } from "../router";

export function useRoute() {
  const r = $state<{ route: Route }>({ route: parseRoute(location.hash) });
  $effect(() => {
    const onHash = () => {
      r.route = parseRoute(location.hash);
    };
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  });
  return {
    get route() {
      return r.route;
    },
  };
}
