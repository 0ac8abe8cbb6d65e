import { getContext, setContext } from 'svelte';
import type { Strata } from '../runtime/create-strata.ts';
import type { SyncClient } from '../sync/start-sync.ts';

/** What `setStrataContext` gives the components below it. */
export interface StrataBinding {
  /** The runtime the functions of `@strata/browser/svelte` read and write (`createStrata`). */
  readonly strata: Strata;
  /** The sync client (`startSync`), for `useSyncStatus` and `useRejectedCommands`. Optional. */
  readonly sync?: SyncClient | undefined;
}

interface StrataContextValue {
  readonly strata: Strata;
  readonly sync: SyncClient | undefined;
}

// A symbol of this module: only setStrataContext sets it, so what getContext finds has this shape.
const STRATA = Symbol('strata');

/**
 * Gives the calling component and every component below it a strata runtime (and optionally its
 * sync client), through Svelte's context. Call it during component initialisation, in the root
 * component's `<script>`; create the runtime once, before mounting: it owns an IndexedDB
 * connection and the sync loops.
 *
 * @example
 * // main.ts
 * const strata = await createStrata({ name: 'todos', tables, projections });
 * mount(App, { target, props: { strata, sync: startSync(strata, { url: location.origin, aggregates: [Todo] }) } });
 * // App.svelte
 * let { strata, sync } = $props();
 * setStrataContext({ strata, sync });
 */
export function setStrataContext({ strata, sync }: StrataBinding): void {
  setContext<StrataContextValue>(STRATA, { strata, sync });
}

function strataContext(name: string): StrataContextValue {
  // getContext itself throws outside component initialisation (lifecycle_outside_component).
  const value = getContext<StrataContextValue | undefined>(STRATA);
  if (value === undefined) {
    throw new Error(
      `${name}() needs a strata runtime: call setStrataContext({ strata }) in a parent component`,
    );
  }
  return value;
}

/**
 * The runtime given to the nearest `setStrataContext`. Call it during component
 * initialisation; throws without a runtime.
 *
 * @example
 * const strata = useStrata();
 * const onRebuild = () => strata.rebuildProjections();
 */
export function useStrata(): Strata {
  return strataContext('useStrata').strata;
}

/**
 * The sync client given with the runtime, or undefined when it was given none.
 *
 * @example
 * const sync = useSyncClient();
 * const onRetry = () => sync?.syncNow();
 */
export function useSyncClient(): SyncClient | undefined {
  return strataContext('useSyncClient').sync;
}
