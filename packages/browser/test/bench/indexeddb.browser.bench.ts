// Runs in real headless Chromium (see tooling/bench/chromium.ts): every subject goes through
// strata's public API on IndexedDB, every baseline is raw IndexedDB measured in the same page.
import { newKsuid, type StoredEvent } from '@strata/core';
import { Todo } from '@strata/example-todo';
import { defineBenchmark, defineLatencyBenchmark } from '@strata/tooling/bench/harness';
import { createStrata, type Strata } from '../../src/runtime/create-strata.ts';
import {
  committed,
  deleteDatabase,
  openExisting,
  openRawEventsDatabase,
  putAll,
  request,
} from './raw-indexeddb.ts';
import { generateOneTodo, generateTodoHistory } from './todo-events.ts';

const EVENTS = 100_000;
const AGGREGATES = 1_000;
const LONG_HISTORY = 10_000;

let databases = 0;
const freshName = (prefix: string) => `${prefix}-${Date.now()}-${databases++}`;

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(`bench check failed: ${message}`);
}

/** Memoises an async seed so it runs once, in the first (untimed) setup that needs it. */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => {
    made ??= make();
    return made;
  };
}

// 100k events over 1,000 todos (100 each), interleaved as a server's global order would be.
const history = once(async () => generateTodoHistory(AGGREGATES, EVENTS / AGGREGATES));

async function closeAndDelete(strata: Strata): Promise<void> {
  const name = strata.db.name;
  strata.close();
  await deleteDatabase(name);
}

/** A database holding the 100k events, left by benchmark 1 (checked: it imported all 100k). */
let importedDatabase: Strata | undefined;

// --- 1. bulk import ----------------------------------------------------------------------------

const bulkImport = defineBenchmark({
  name: 'bulk import of 100k events into IndexedDB (Chromium)',
  unit: 'events',
  units: EVENTS,
  // A run takes tens of seconds here (~3k puts/s): three runs, and no warm-up, where JIT is noise.
  runs: 3,
  warmupRuns: 0,
  goal: { minRatio: 0.8 },
  baseline: {
    label: 'raw IndexedDB: put x100k in one transaction',
    setup: async () => {
      const { events } = await history();
      const name = freshName('raw-import');
      return { events, name, db: await openRawEventsDatabase(name) };
    },
    run: async ({ events, db }: { events: StoredEvent[]; db: IDBDatabase }) => {
      await putAll(db, 'events', events);
    },
    teardown: async ({ db, name }: { db: IDBDatabase; name: string }) => {
      db.close();
      await deleteDatabase(name);
    },
  },
  subject: {
    label: 'strata.store.importEvents (one transaction)',
    setup: async () => {
      const { events } = await history();
      return { events, strata: await createStrata({ name: freshName('strata-import') }) };
    },
    run: async ({ events, strata }: { events: StoredEvent[]; strata: Strata }) => {
      const count = await strata.store.importEvents(events);
      check(count === EVENTS, `imported ${count}`);
    },
    // The first imported database is kept as benchmark 2's data: importing 100k events costs
    // as long here as a whole run, and it is exactly how benchmark 2 would seed its own.
    teardown: async ({ strata }: { strata: Strata }) => {
      if (importedDatabase === undefined) importedDatabase = strata;
      else await closeAndDelete(strata);
    },
  },
});

// --- 2. replay every aggregate -----------------------------------------------------------------

const replaySeed = once(async () => {
  let strata = importedDatabase;
  if (strata === undefined) {
    const { events } = await history();
    strata = await createStrata({ name: freshName('strata-replay') });
    check((await strata.store.importEvents(events)) === EVENTS, 'replay seed');
  }
  return { strata, raw: await openExisting(strata.db.name) };
});

const replayAll = defineBenchmark({
  name: 'replay 100k events of 1,000 todos to state (Chromium)',
  unit: 'events',
  units: EVENTS,
  runs: 5,
  goal: { minRatio: 0.8 },
  baseline: {
    label: 'raw IndexedDB: getAll of the events store',
    setup: replaySeed,
    run: async ({ raw }: { raw: IDBDatabase }) => {
      const rows = await request(raw.transaction('events').objectStore('events').getAll());
      check(rows.length === EVENTS, `read ${rows.length}`);
    },
  },
  subject: {
    label: 'strata.loadAll(Todo) (read, decode, upcast, evolve)',
    setup: replaySeed,
    run: async ({ strata }: { strata: Strata }) => {
      const loaded = await strata.loadAll(Todo);
      check(loaded.size === AGGREGATES, `loaded ${loaded.size} todos`);
      for (const { version } of loaded.values()) check(version === 100, `version ${version}`);
    },
  },
});

// --- 3. load one long-lived aggregate ----------------------------------------------------------

/**
 * One todo with 10,000 events whose snapshots were written by `execute` under Todo's
 * `everyNVersions(100)`: `imported` events arrive from a server (no snapshot), then commands
 * run until version 10,000. Importing 9,900 leaves the policy's worst case: the first command
 * snapshots at 9,901, so loading reads that snapshot plus 99 events. Importing 9,899 leaves
 * its best case: snapshots at 9,900 and 10,000, nothing after.
 */
function longHistorySeed(imported: number) {
  return once(async () => {
    const strata = await createStrata({ name: freshName(`strata-load-${imported}`) });
    const id = newKsuid();
    check(
      (await strata.store.importEvents(generateOneTodo(id, imported))) === imported,
      'load seed',
    );
    for (let version = imported + 1; version <= LONG_HISTORY; version++) {
      await strata.execute(Todo, id, 'rename', { title: `Renamed at ${version}` });
    }
    const loaded = await strata.load(Todo, id);
    check(loaded.version === LONG_HISTORY, `seeded to ${loaded.version}`);
    return { strata, id, raw: await openExisting(strata.db.name), loaded };
  });
}

function loadOne(imported: number, expectedSnapshot: number) {
  const seed = longHistorySeed(imported);
  return defineLatencyBenchmark({
    name: `load one todo with 10,000 events, snapshot at ${expectedSnapshot.toLocaleString('en-US')} + ${LONG_HISTORY - expectedSnapshot} events (Chromium)`,
    unit: 'loads',
    operations: 50,
    runs: 5,
    goal: { maxP50Ms: 5 },
    baseline: {
      label: 'raw IndexedDB: get of one record (the snapshot)',
      setup: seed,
      operation: async ({ raw, id }: { raw: IDBDatabase; id: string }) => {
        const snapshots = raw.transaction('snapshots').objectStore('snapshots');
        const snapshot = await request(snapshots.get(['Todo', id]));
        check(snapshot !== undefined, 'no snapshot');
      },
    },
    subject: {
      label: 'strata.load(Todo, id)',
      setup: async () => {
        const seeded = await seed();
        check(
          seeded.loaded.snapshotVersion === expectedSnapshot,
          `snapshot at ${seeded.loaded.snapshotVersion}, expected ${expectedSnapshot}`,
        );
        return seeded;
      },
      operation: async ({ strata, id }: { strata: Strata; id: string }) => {
        const loaded = await strata.load(Todo, id);
        check(loaded.version === LONG_HISTORY, `loaded version ${loaded.version}`);
      },
    },
  });
}

// --- 4. command latency ------------------------------------------------------------------------

const COMMANDS = 200;

interface LiveTodo {
  readonly strata: Strata;
  readonly id: string;
  readonly unsubscribe: () => void;
  /** Resolves once the liveState subscription has delivered `version`. */
  readonly seen: (version: number) => Promise<void>;
}

async function liveTodo(): Promise<LiveTodo> {
  const strata = await createStrata({ name: freshName('strata-latency') });
  const id = newKsuid();
  await strata.execute(Todo, id, 'add', { title: 'Latency' });
  let latest = 0;
  const waiting = new Map<number, () => void>();
  const subscription = strata.liveState(Todo, id).subscribe({
    next: ({ version }) => {
      latest = Math.max(latest, version);
      for (const [wanted, resolve] of waiting) {
        if (wanted <= latest) {
          waiting.delete(wanted);
          resolve();
        }
      }
    },
    error: (error: unknown) => console.error('liveState failed', error),
  });
  const seen = (version: number) =>
    version <= latest
      ? Promise.resolve()
      : new Promise<void>((resolve) => waiting.set(version, resolve));
  await seen(1);
  return { strata, id, unsubscribe: () => subscription.unsubscribe(), seen };
}

const commandLatency = defineLatencyBenchmark({
  name: 'command latency: execute -> persisted -> liveState delivers the new version (Chromium)',
  unit: 'commands',
  operations: COMMANDS,
  runs: 5,
  goal: { maxP50Ratio: 2 },
  baseline: {
    label: 'raw IndexedDB: one put in its own transaction',
    setup: async () => {
      const name = freshName('raw-latency');
      // Rows as strata stores a local event: no position yet (the store assigns it), pending.
      const rows = generateOneTodo(newKsuid(), COMMANDS).map(({ position: _position, ...row }) => ({
        ...row,
        pending: 1,
      }));
      return { name, rows, db: await openRawEventsDatabase(name) };
    },
    operation: async ({ db, rows }: { db: IDBDatabase; rows: object[] }, index: number) => {
      const transaction = db.transaction('events', 'readwrite');
      transaction.objectStore('events').put(rows[index] as object);
      await committed(transaction);
    },
    teardown: async ({ db, name }: { db: IDBDatabase; name: string }) => {
      db.close();
      await deleteDatabase(name);
    },
  },
  subject: {
    label: 'strata.execute(rename) + liveState(Todo, id) fires',
    setup: liveTodo,
    operation: async ({ strata, id, seen }: LiveTodo, index: number) => {
      const version = index + 2;
      const [result] = await Promise.all([
        strata.execute(Todo, id, 'rename', { title: `Title ${version}` }),
        seen(version),
      ]);
      check(result.version === version, `executed to ${result.version}`);
    },
    teardown: async ({ strata, unsubscribe }: LiveTodo) => {
      unsubscribe();
      await closeAndDelete(strata);
    },
  },
});

export default [
  bulkImport,
  replayAll,
  loadOne(9_900, 9_901),
  loadOne(9_899, 10_000),
  commandLatency,
];
