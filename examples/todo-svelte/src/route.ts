import { createSubscriber } from 'svelte/reactivity';

/** The TodoMVC filters, chosen by `location.hash`. */
export type Route = 'all' | 'active' | 'completed';

function routeOf(hash: string): Route {
  if (hash === '#/active') return 'active';
  if (hash === '#/completed') return 'completed';
  return 'all';
}

// Listens to hashchange only while something reads `route.current`, as strata's bindings do.
const subscribe = createSubscriber((update) => {
  window.addEventListener('hashchange', update);
  return () => window.removeEventListener('hashchange', update);
});

/** The current route: `route.current`, reactive in templates, `$derived` and `$effect`. */
export const route = {
  get current(): Route {
    subscribe();
    return routeOf(window.location.hash);
  },
};
