// What scoped sync (issue 15) costs the sync client's push path: an offline client's pending
// commands synced whole-tenant (baseline) and with the scope that holds them (subject), against
// one Node edge server that serves both, in a child process on a throwaway durable Postgres
// (fsync on; tooling/bench/sync-server.ts). Both sides share the server and the run.
import 'fake-indexeddb/auto';
import { todosOf } from '@strata/example-todo';
import { startBenchSyncServer } from '@strata/tooling/bench/sync-server';
import { scopedPushBenchmark } from './sync-benchmarks.ts';

const PUSH_EVENTS = Number(process.env.BENCH_SYNC_PUSH_EVENTS ?? 1_000);

const server = await startBenchSyncServer({ scopes: true });

/** Called by the runner after the benchmarks: stops the server and removes its database. */
export async function teardown(): Promise<void> {
  await server.stop();
}

export default [
  scopedPushBenchmark(
    {
      url: server.url,
      jwtSecret: server.jwtSecret,
      where: `Node, fake-indexeddb; server: ${server.database}`,
      locks: null,
    },
    // The bench's tokens name the user `bench` (sync-bench.ts `bearerToken`).
    { events: PUSH_EVENTS, runs: 3, scopes: [todosOf({ userId: 'bench' })] },
  ),
];
