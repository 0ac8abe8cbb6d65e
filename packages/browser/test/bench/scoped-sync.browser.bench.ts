// What scoped sync (issue 15) costs the sync client's push path in real headless Chromium (the
// page's IndexedDB, Web Locks on): an offline client's pending commands synced whole-tenant
// (baseline) and with the scope that holds them (subject), against one Node edge server on a
// throwaway durable Postgres (scoped-sync.browser.bench.setup.ts). scoped-sync.bench.ts runs
// the same in Node on fake-indexeddb, whose cursors make some IndexedDB requests (e.g. Dexie's
// `anyOf`) several times slower than Chromium's: this one is the figure a user sees.
import { todosOf } from '@strata/example-todo';
import { benchParams } from '@strata/tooling/bench/browser-setup';
import type { ScopedSyncBrowserBenchParams } from './scoped-sync.browser.bench.setup.ts';
import { scopedPushBenchmark } from './sync-benchmarks.ts';

const params = benchParams<ScopedSyncBrowserBenchParams>();

export default [
  scopedPushBenchmark(
    { url: params.url, jwtSecret: params.jwtSecret, where: `Chromium; server: ${params.database}` },
    // The bench's tokens name the user `bench` (sync-bench.ts `bearerToken`).
    { events: params.pushEvents, runs: 3, scopes: [todosOf({ userId: 'bench' })] },
  ),
];
