// Snapshot bootstrap (issue 15) in Node (IndexedDB from fake-indexeddb): a fresh device
// back-filling the scope `folder(folderId)` starts each long-edited note from the server's
// snapshot (`Note`, `bootstrap: true`; subject) instead of replaying its whole history
// (`defineNote({ bootstrap: false })`; baseline). One Node edge server serves both, in a child
// process on a throwaway durable Postgres (fsync on; tooling/bench/sync-server.ts), and decides
// the Note commands, so it writes a snapshot every SNAPSHOT_EVERY versions.
//
// The folder is seeded once, untimed, through `POST /v2/push` (commands only: the server decides
// them): BENCH_SNAPSHOT_NOTES notes (default 200) of BENCH_SNAPSHOT_EDITS edits each (default 49,
// so version 50, a snapshot version: 10,000 events on the server, one per note from its
// snapshot), pushed by BENCH_SNAPSHOT_WRITERS clients at once (default 4).
import 'fake-indexeddb/auto';
import { startBenchSyncServer } from '@strata/tooling/bench/sync-server';
import {
  type SeededFolder,
  seedFolder,
  snapshotBootstrapBenchmark,
} from './snapshot-bootstrap-bench.ts';
import { bearerToken, check, freshTenant } from './sync-bench.ts';
import { once } from './sync-benchmarks.ts';

function positiveInteger(name: string, fallback: number, min = 1): number {
  const value = Number(process.env[name] ?? fallback);
  check(Number.isInteger(value) && value >= min, `${name} must be an integer >= ${min}`);
  return value;
}

const NOTES = positiveInteger('BENCH_SNAPSHOT_NOTES', 200);
const EDITS = positiveInteger('BENCH_SNAPSHOT_EDITS', 49, 0);
const WRITERS = positiveInteger('BENCH_SNAPSHOT_WRITERS', 4);

const server = await startBenchSyncServer({ notes: true });

/** Called by the runner after the benchmarks: stops the server and removes its database. */
export async function teardown(): Promise<void> {
  await server.stop();
}

const target = {
  url: server.url,
  jwtSecret: server.jwtSecret,
  where: `Node, fake-indexeddb; server: ${server.database}`,
  locks: null,
} as const;

// One folder, once for the file, in a tenant of its own; both sides read it.
const seeded = once(
  async (): Promise<SeededFolder> =>
    seedFolder(target, await bearerToken(server.jwtSecret, freshTenant('snapshot-bootstrap')), {
      notes: NOTES,
      edits: EDITS,
      writers: WRITERS,
    }),
);

export default [
  snapshotBootstrapBenchmark(target, { notes: NOTES, edits: EDITS, runs: 5, seed: seeded }),
];
