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

// --- 2b. startup on a database that holds history ---------------------------------------------

/** A database holding `count` events over todos of 100 events each, and one todo's id. */
function startupSeed(count: number) {
  return once(async () => {
    if (count === EVENTS) {
      const { strata } = await replaySeed();
      return { name: strata.db.name, id: (await history()).aggregateIds[0] as string };
    }
    const strata = await createStrata({ name: freshName(`strata-startup-${count}`) });
    const { events, aggregateIds } = generateTodoHistory(count / 100, 100);
    check((await strata.store.importEvents(events)) === count, 'startup seed');
    const name = strata.db.name;
    strata.close();
    return { name, id: aggregateIds[0] as string };
  });
}

/** The raw read of a stream's last event: where an aggregate stands. */
async function rawTip(db: IDBDatabase, id: string) {
  const cursor = await request(
    db
      .transaction('events')
      .objectStore('events')
      .index('[aggregateType+aggregateId+version]')
      .openCursor(IDBKeyRange.bound(['Todo', id], ['Todo', id, []]), 'prev'),
  );
  return cursor?.value as StoredEvent | undefined;
}

/** The first state `liveState` delivers. */
function firstState(strata: Strata, id: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let done = false;
    const subscription = strata.liveState(Todo, id).subscribe({
      next: ({ version }) => {
        if (done) return;
        done = true;
        queueMicrotask(() => subscription.unsubscribe());
        resolve(version);
      },
      error: reject,
    });
  });
}

function startup(count: number) {
  const seed = startupSeed(count);
  return defineLatencyBenchmark({
    name: `browser startup with ${count.toLocaleString('en-US')} stored events: open to the first liveState answer (Chromium)`,
    unit: 'startups',
    operations: 20,
    runs: 5,
    // Startup reads one aggregate, never the history: it should not grow with it.
    goal: 'flat in stored events: the 100k figure within 1.5x of the 1k one',
    baseline: {
      label: 'raw IndexedDB: open the database, read one stream tip, close',
      setup: seed,
      operation: async ({ name, id }: { name: string; id: string }) => {
        const db = await openExisting(name);
        check((await rawTip(db, id))?.version === 100, 'raw tip');
        db.close();
      },
    },
    subject: {
      label: 'createStrata({ name }) + liveState(Todo, id) first answer, close',
      setup: seed,
      operation: async ({ name, id }: { name: string; id: string }) => {
        const strata = await createStrata({ name });
        check((await firstState(strata, id)) === 100, 'first state');
        strata.close();
      },
    },
  });
}

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

// --- 3b. load time vs history length ------------------------------------------------------------

const HISTORY_LENGTHS = [100, 1_000, 10_000] as const;

/** One database holding todos with 100, 1,000 and 10,000 events (imported: no snapshot). */
const historyLengthSeed = once(async () => {
  const strata = await createStrata({ name: freshName('strata-history-length') });
  const ids = new Map<number, string>();
  for (const length of HISTORY_LENGTHS) {
    const id = newKsuid();
    check(
      (await strata.store.importEvents(generateOneTodo(id, length))) === length,
      'history seed',
    );
    ids.set(length, id);
  }
  return { strata, ids, raw: await openExisting(strata.db.name) };
});
function loadHistory(length: number) {
  type Seed = Awaited<ReturnType<typeof historyLengthSeed>>;
  const idOf = (seed: Seed) => seed.ids.get(length) as string;
  return defineLatencyBenchmark({
    name: `load time vs history length: one todo with ${length.toLocaleString('en-US')} events, no snapshot (Chromium)`,
    unit: 'loads',
    operations: length >= 10_000 ? 10 : 30,
    runs: 5,
    // Reading is the floor; decoding, upcasting and evolving on top should stay within 2x.
    goal: { maxP50Ratio: 2 },
    baseline: {
      label: "raw IndexedDB: getAll of the stream's events on the version index",
      setup: historyLengthSeed,
      operation: async (seed: Seed) => {
        const id = idOf(seed);
        const rows = await request(
          seed.raw
            .transaction('events')
            .objectStore('events')
            .index('[aggregateType+aggregateId+version]')
            .getAll(IDBKeyRange.bound(['Todo', id], ['Todo', id, []])),
        );
        check(rows.length === length, `read ${rows.length}`);
      },
    },
    subject: {
      label: 'strata.load(Todo, id) (read, decode, upcast, evolve)',
      setup: historyLengthSeed,
      operation: async (seed: Seed) => {
        const loaded = await seed.strata.load(Todo, idOf(seed));
        check(loaded.version === length, `loaded version ${loaded.version}`);
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

/** The baseline of both command figures: one raw put, as strata stores a local event. */
const onePut = {
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
};

/**
 * What any store must do for a command and still check before it commits, in raw IndexedDB on
 * strata's own tables: read the stream's tip, add the event and the pending command in one
 * batch, wait for the answers (the version and stale-decision checks need the tip), commit.
 * It shows how much of the command figure is IndexedDB's and how much is strata's.
 */
const commandFloor = defineLatencyBenchmark({
  name: 'command floor: raw IndexedDB tip read + event add + command add, checked, commit() (Chromium)',
  unit: 'commands',
  operations: COMMANDS,
  runs: 5,
  baseline: onePut,
  subject: {
    label: 'raw IndexedDB on a strata database: one batch, await the answers, commit()',
    setup: async () => {
      const strata = await createStrata({ name: freshName('strata-floor') });
      const id = newKsuid();
      const rows = generateOneTodo(id, COMMANDS).map(({ position: _position, ...row }) => ({
        ...row,
        pending: 1,
      }));
      return { strata, id, rows };
    },
    operation: async (
      { strata, id, rows }: { strata: Strata; id: string; rows: StoredEvent[] },
      index: number,
    ) => {
      const scope = strata.db.tables
        .map((table) => table.name)
        .filter((name) => name !== 'syncState' && name !== 'rejected');
      const transaction = strata.db.backendDB().transaction(scope, 'readwrite');
      const done = committed(transaction);
      const events = transaction.objectStore('events');
      const row = rows[index] as StoredEvent;
      const [tip] = await Promise.all([
        request(
          events
            .index('[aggregateType+aggregateId+version]')
            .openCursor(IDBKeyRange.bound(['Todo', id], ['Todo', id, []]), 'prev'),
        ),
        request(events.add(row)),
        request(
          transaction.objectStore('commands').add({
            commandId: newKsuid(),
            aggregateType: 'Todo',
            aggregateId: id,
            command: 'rename',
            input: { title: `Title ${index}` },
            metadata: row.metadata,
            eventIds: [row.id],
            executedAt: row.recordedAt,
          }),
        ),
      ]);
      check((tip?.value.version ?? 0) === index, 'floor tip');
      transaction.commit();
      await done;
    },
    teardown: async ({ strata }: { strata: Strata }) => closeAndDelete(strata),
  },
});

const commandLatency = defineLatencyBenchmark({
  name: 'command latency: execute -> persisted -> liveState delivers the new version (Chromium)',
  unit: 'commands',
  operations: COMMANDS,
  runs: 5,
  goal: { maxP50Ratio: 2 },
  baseline: onePut,
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
  startup(1_000),
  startup(EVENTS),
  loadOne(9_900, 9_901),
  loadOne(9_899, 10_000),
  ...HISTORY_LENGTHS.map(loadHistory),
  commandLatency,
  commandFloor,
];
