import { createContext, createElement, type ReactNode, useContext, useMemo } from 'react';
import type { Strata } from '../runtime/create-strata.ts';
import type { SyncClient } from '../sync/start-sync.ts';

interface StrataContextValue {
  readonly strata: Strata;
  readonly sync: SyncClient | undefined;
}

const StrataContext = createContext<StrataContextValue | undefined>(undefined);

/** Props of `StrataProvider`. */
export interface StrataProviderProps {
  /** The runtime the hooks below read and write (`createStrata`). */
  readonly strata: Strata;
  /** The sync client (`startSync`), for `useSyncStatus` and `useRejectedCommands`. Optional. */
  readonly sync?: SyncClient | undefined;
  readonly children?: ReactNode;
}

/**
 * Makes a strata runtime (and optionally its sync client) available to the hooks of
 * `@strata/browser/react` below it. Create both once, outside React: they own an IndexedDB
 * connection and the sync loops.
 *
 * @example
 * const strata = await createStrata({ name: 'todos', tables, projections });
 * const sync = startSync(strata, { url: location.origin, aggregates: [Todo] });
 * createRoot(element).render(createElement(StrataProvider, { strata, sync }, createElement(App)));
 */
export function StrataProvider({ strata, sync, children }: StrataProviderProps): ReactNode {
  // One value per runtime/client pair, so consumers do not re-render with the provider's parent.
  const value = useMemo(() => ({ strata, sync }), [strata, sync]);
  return createElement(StrataContext.Provider, { value }, children);
}

function useStrataContext(hook: string): StrataContextValue {
  const value = useContext(StrataContext);
  if (value === undefined) {
    throw new Error(`${hook}() must be called inside <StrataProvider strata={...}>`);
  }
  return value;
}

/**
 * The runtime given to the nearest `StrataProvider`. Throws outside one.
 *
 * @example
 * const strata = useStrata();
 * const onClick = () => strata.rebuildProjections();
 */
export function useStrata(): Strata {
  return useStrataContext('useStrata').strata;
}

/**
 * The sync client given to the nearest `StrataProvider`, or undefined when it was given none.
 * Throws outside a provider.
 *
 * @example
 * const sync = useSyncClient();
 * const onRetry = () => sync?.syncNow();
 */
export function useSyncClient(): SyncClient | undefined {
  return useStrataContext('useSyncClient').sync;
}
