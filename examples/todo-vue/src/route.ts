import { onScopeDispose, type Ref, ref } from 'vue';

/** The TodoMVC filters, chosen by `location.hash`. */
export type Route = 'all' | 'active' | 'completed';

function routeOf(hash: string): Route {
  if (hash === '#/active') return 'active';
  if (hash === '#/completed') return 'completed';
  return 'all';
}

/** The current route, following `hashchange` for as long as the calling component lives. */
export function useRoute(): Readonly<Ref<Route>> {
  const route = ref(routeOf(window.location.hash));
  const onChange = () => {
    route.value = routeOf(window.location.hash);
  };
  window.addEventListener('hashchange', onChange);
  onScopeDispose(() => window.removeEventListener('hashchange', onChange));
  return route;
}
