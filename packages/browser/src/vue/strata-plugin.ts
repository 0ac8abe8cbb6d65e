import { type App, type InjectionKey, inject, type Plugin, provide } from 'vue';
import type { Strata } from '../runtime/create-strata.ts';
import type { SyncClient } from '../sync/start-sync.ts';

/** What `createStrataPlugin` and `provideStrata` give the composables below them. */
export interface StrataBinding {
  /** The runtime the composables read and write (`createStrata`). */
  readonly strata: Strata;
  /** The sync client (`startSync`), for `useSyncStatus` and `useRejectedCommands`. Optional. */
  readonly sync?: SyncClient | undefined;
}

interface StrataContextValue {
  readonly strata: Strata;
  readonly sync: SyncClient | undefined;
}

// A symbol of this module: only provideStrata and the plugin provide it, so what is injected
// always has the shape above.
const STRATA: InjectionKey<StrataContextValue> = Symbol('strata');

/**
 * A Vue plugin that gives every component of the app a strata runtime (and optionally its sync
 * client), for the composables of `@strata/browser/vue`. Create both once, before the app: they
 * own an IndexedDB connection and the sync loops.
 *
 * @example
 * const strata = await createStrata({ name: 'todos', tables, projections });
 * const sync = startSync(strata, { url: location.origin, aggregates: [Todo] });
 * createApp(App).use(createStrataPlugin({ strata, sync })).mount('#app');
 */
export function createStrataPlugin({ strata, sync }: StrataBinding): Plugin {
  const value: StrataContextValue = { strata, sync };
  return {
    install(app: App) {
      app.provide(STRATA, value);
    },
  };
}

/**
 * Gives the calling component's subtree a strata runtime (and optionally its sync client):
 * `provide` in `setup`, for a part of an app with a runtime of its own (or a test).
 *
 * @example
 * // <script setup lang="ts">
 * provideStrata({ strata: props.strata });
 */
export function provideStrata({ strata, sync }: StrataBinding): void {
  provide(STRATA, { strata, sync });
}

function injectStrata(composable: string): StrataContextValue {
  // The default keeps Vue quiet when nothing provides it: the error below says what to do.
  const value = inject(STRATA, undefined);
  if (value === undefined) {
    throw new Error(
      `${composable}() needs a strata runtime: app.use(createStrataPlugin({ strata })) or provideStrata({ strata }) in a parent component, and a call inside setup()`,
    );
  }
  return value;
}

/**
 * The runtime given by `createStrataPlugin` or the nearest `provideStrata`. Throws without one,
 * and outside `setup()`.
 *
 * @example
 * const strata = useStrata();
 * const onRebuild = () => strata.rebuildProjections();
 */
export function useStrata(): Strata {
  return injectStrata('useStrata').strata;
}

/**
 * The sync client given with the runtime, or undefined when it was given none. Throws without a
 * runtime.
 *
 * @example
 * const sync = useSyncClient();
 * const onRetry = () => sync?.syncNow();
 */
export function useSyncClient(): SyncClient | undefined {
  return injectStrata('useSyncClient').sync;
}
