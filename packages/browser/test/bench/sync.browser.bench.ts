// The sync client in real headless Chromium (the page's IndexedDB, Web Locks on) against the Node
// edge server on a throwaway Postgres, started with the history to catch up by
// sync.browser.bench.setup.ts before the page opens. The page calls the server cross-origin
// (CORS). Every subject is `startSync`; every baseline is the sync protocol spoken with the page's
// plain `fetch`, to the same server, in the same run.
import { benchParams } from '@strata/tooling/bench/browser-setup';
import type { SyncBrowserBenchParams } from './sync.browser.bench.setup.ts';
import { catchUpBenchmark, pushBenchmark } from './sync-benchmarks.ts';

const params = benchParams<SyncBrowserBenchParams>();
const target = {
  url: params.url,
  jwtSecret: params.jwtSecret,
  where: `Chromium; server: ${params.database}`,
};

export default [
  catchUpBenchmark(target, {
    events: params.catchUpEvents,
    runs: 3,
    seed: async () => params.catchUpToken,
  }),
  ...(params.pushEvents > 0 ? [pushBenchmark(target, { events: params.pushEvents, runs: 2 })] : []),
];
