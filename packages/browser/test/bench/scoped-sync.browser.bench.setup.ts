// Node side of scoped-sync.browser.bench.ts, run by the bench runner before the page opens (see
// tooling/bench/browser-setup.ts): starts the sync server with scoped sync (in a child process,
// on a throwaway durable Postgres; tooling/bench/sync-server.ts), allowing the page's origin.
import { defineBrowserBenchSetup } from '@strata/tooling/bench/browser-setup';
import { startBenchSyncServer } from '@strata/tooling/bench/sync-server';

/** What the page gets (`benchParams()` in scoped-sync.browser.bench.ts). */
export interface ScopedSyncBrowserBenchParams {
  readonly url: string;
  readonly jwtSecret: string;
  readonly database: string;
  readonly pushEvents: number;
}

export default defineBrowserBenchSetup(async ({ origin }) => {
  const server = await startBenchSyncServer({ corsOrigins: [origin], scopes: true });
  const params: ScopedSyncBrowserBenchParams = {
    url: server.url,
    jwtSecret: server.jwtSecret,
    database: server.database,
    pushEvents: Number(process.env.BENCH_SYNC_PUSH_EVENTS ?? 1_000),
  };
  return { params, teardown: () => server.stop() };
});
