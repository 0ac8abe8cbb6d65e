import { useSyncExternalStore } from 'react';

/** The TodoMVC filters, chosen by `location.hash`. */
export type Route = 'all' | 'active' | 'completed';

/** The route of a hash: `#/active`, `#/completed`, anything else is `all`. */
export function routeOf(hash: string): Route {
  if (hash === '#/active') return 'active';
  if (hash === '#/completed') return 'completed';
  return 'all';
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener('hashchange', onChange);
  return () => window.removeEventListener('hashchange', onChange);
}

/** The current route, following `hashchange`. */
export function useRoute(): Route {
  return routeOf(useSyncExternalStore(subscribe, () => window.location.hash));
}
