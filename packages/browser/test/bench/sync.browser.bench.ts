// The sync client in real headless Chromium (the page's IndexedDB, Web Locks on) against the Node
// edge server on a throwaway Postgres, started with the history to catch up by
// sync.browser.bench.setup.ts before the page opens. The page calls the server cross-origin
// (CORS). Every subject is `startSync`; every baseline is the sync protocol spoken with the page's
// plain `fetch`, to the same server, in the same run.
//
// The push benchmark runs the size, 10k pending events (BENCH_SYNC_PUSH_EVENTS, a multiple
// of 100, sets another); beside it, the client's share of the same sync against an in-memory server.
import { benchParams } from '@strata/tooling/bench/browser-setup';
import type { SyncBrowserBenchParams } from './sync.browser.bench.setup.ts';
import { catchUpBenchmark, clientPushBenchmark, pushBenchmark } from './sync-benchmarks.ts';

const params = benchParams<SyncBrowserBenchParams>();
const target = {
  url: params.url,
  jwtSecret: params.jwtSecret,
  where: `Chromium; server: ${params.database}`,
};
// The offline sync (issue 16): 10k pending commands, ≤ 3 s and ≥ 0.8× plain fetch.
const pushEvents = params.pushEvents > 0 ? params.pushEvents : 10_000;

export default [
  catchUpBenchmark(target, {
    events: params.catchUpEvents,
    runs: 3,
    seed: async () => params.catchUpToken,
  }),
  clientPushBenchmark(target.where.replace(/; server: .*/, ''), { events: pushEvents, runs: 3 }),
  pushBenchmark(target, { events: pushEvents, runs: 2 }),
];
