// Node side of sync.browser.bench.ts, run by the bench runner before the page opens (see
// tooling/bench/browser-setup.ts): starts the sync server (in a child process, on a throwaway
// Postgres; see tooling/bench/sync-server.ts) allowing the page's origin through CORS, pushes the
// catch-up history to it with plain fetch, and hands the page what it needs to reach it.
import { defineBrowserBenchSetup } from '@strata/tooling/bench/browser-setup';
import { startBenchSyncServer } from '@strata/tooling/bench/sync-server';
import { bearerToken, seedServer } from './sync-bench.ts';

/** What the page gets (`benchParams()` in sync.browser.bench.ts). */
export interface SyncBrowserBenchParams {
  readonly url: string;
  readonly jwtSecret: string;
  readonly database: string;
  /** The tenant holding the catch-up history, and how many events it has. */
  readonly catchUpToken: string;
  readonly catchUpEvents: number;
  /** Pending events of the push benchmark (BENCH_SYNC_PUSH_EVENTS); 0 or unset: the 10k. */
  readonly pushEvents: number;
}

const CATCH_UP_TODOS = 1_000;
const CATCH_UP_EVENTS_PER_TODO = 100;

export default defineBrowserBenchSetup(async ({ origin }) => {
  const server = await startBenchSyncServer({ corsOrigins: [origin] });
  try {
    const catchUpToken = await bearerToken(server.jwtSecret, 'catch-up');
    await seedServer(server.url, catchUpToken, CATCH_UP_TODOS, CATCH_UP_EVENTS_PER_TODO);
    const params: SyncBrowserBenchParams = {
      url: server.url,
      jwtSecret: server.jwtSecret,
      database: server.database,
      catchUpToken,
      catchUpEvents: CATCH_UP_TODOS * CATCH_UP_EVENTS_PER_TODO,
      pushEvents: Number(process.env.BENCH_SYNC_PUSH_EVENTS ?? 0),
    };
    return { params, teardown: () => server.stop() };
  } catch (error) {
    await server.stop();
    throw error;
  }
});
