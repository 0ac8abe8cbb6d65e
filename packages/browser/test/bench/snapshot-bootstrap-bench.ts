/**
 * The snapshot-bootstrap benchmark (snapshot-bootstrap.bench.ts): one folder of long-edited
 * notes seeded through the server's command push (the server decides every command, and writes
 * a snapshot every `SNAPSHOT_EVERY` versions as it does), then a fresh device back-fills the
 * folder with `Note` (opts in: starts each note from its snapshot) and with
 * `defineNote({ bootstrap: false })` (replays the whole history).
 */
import {
  type AnyAggregateDefinition,
  COMMAND_PROTOCOL_VERSION,
  type CommandCommit,
  type CommandPushResponse,
  newKsuid,
} from '@strata/core';
import { defineNote, folder, Note, SNAPSHOT_EVERY } from '@strata/example-todo';
import type { Benchmark, Workload } from '@strata/tooling/bench/harness';
import { createStrata, type Strata } from '../../src/runtime/create-strata.ts';
import { type SyncClient, startSync } from '../../src/sync/start-sync.ts';
import { type NoteRow, noteList, noteTables } from '../fixtures/note-list.ts';
import { deleteDatabase } from './raw-indexeddb.ts';
import { check, describe } from './sync-bench.ts';
import type { SyncBenchTarget } from './sync-benchmarks.ts';

/** One folder on the server: `notes` notes of `edits` edits each (version `edits + 1`). */
export interface SeededFolder {
  readonly folderId: string;
  /** A token of the tenant the folder was seeded in. */
  readonly token: string;
  readonly notes: number;
  readonly edits: number;
}

/** Commands per `POST /v2/push` while seeding (the protocol takes up to 1,000). */
const SEED_COMMITS_PER_PUSH = 500;

/** A command as `POST /v2/push` carries it, with no predicted events: the server decides. */
function noteCommit(aggregateId: string, name: 'create' | 'edit', input: object): CommandCommit {
  return {
    commitId: newKsuid(),
    command: {
      aggregateType: 'Note',
      aggregateId,
      name,
      input: input as CommandCommit['command']['input'],
      issuedAt: new Date().toISOString(),
    },
    events: [],
  };
}

/** Pushes `commits` in order as client `clientId`, every one checked accepted. */
async function pushCommands(
  url: string,
  token: string,
  clientId: string,
  commits: readonly CommandCommit[],
): Promise<void> {
  for (let i = 0; i < commits.length; i += SEED_COMMITS_PER_PUSH) {
    const body = JSON.stringify({
      protocol: COMMAND_PROTOCOL_VERSION,
      clientId,
      commits: commits.slice(i, i + SEED_COMMITS_PER_PUSH),
    });
    let response: Response;
    try {
      response = await fetch(new URL('v2/push', url), {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body,
      });
    } catch (error) {
      throw new Error(`seed push failed: ${describe(error)}`, { cause: error });
    }
    if (!response.ok) {
      check(false, `seed push answered ${response.status}: ${await response.text()}`);
    }
    const { results } = (await response.json()) as CommandPushResponse;
    const refused = results.filter((result) => result.status !== 'accepted');
    check(refused.length === 0, `seed push refused ${JSON.stringify(refused.slice(0, 3))}`);
  }
}

/**
 * Seeds one folder through the server's command push: `notes` notes, each created and then
 * edited `edits` times, note by note, by `writers` clients pushing at once (disjoint notes, so
 * each note's commands stay in order). Deciding them, the server snapshots each note every
 * `SNAPSHOT_EVERY` versions. Untimed.
 */
export async function seedFolder(
  target: Pick<SyncBenchTarget, 'url'>,
  token: string,
  shape: { readonly notes: number; readonly edits: number; readonly writers: number },
): Promise<SeededFolder> {
  const folderId = `folder-${newKsuid().slice(-10)}`;
  const groups: CommandCommit[][] = Array.from({ length: shape.writers }, () => []);
  for (let note = 0; note < shape.notes; note++) {
    const id = newKsuid();
    const commits = groups[note % shape.writers] as CommandCommit[];
    commits.push(noteCommit(id, 'create', { folderId, text: `Note ${note}` }));
    for (let edit = 1; edit <= shape.edits; edit++) {
      commits.push(noteCommit(id, 'edit', { text: `Note ${note}, edit ${edit}` }));
    }
  }
  await Promise.all(
    groups.map((commits) => pushCommands(target.url, token, `seed-${newKsuid()}`, commits)),
  );
  return { folderId, token, notes: shape.notes, edits: shape.edits };
}

/** What a device that back-filled the folder holds, per note and in all. */
export function expectedHoldings(seeded: SeededFolder, bootstrap: boolean) {
  const version = seeded.edits + 1;
  // The server's latest snapshot of a note: its last version that is a multiple of the policy's.
  const snapshotAt = Math.floor(version / SNAPSHOT_EVERY) * SNAPSHOT_EVERY;
  const fromSnapshot = bootstrap && snapshotAt > 0;
  const eventsPerNote = fromSnapshot ? version - snapshotAt + 1 : version;
  return {
    events: seeded.notes * eventsPerNote,
    bases: fromSnapshot ? seeded.notes : 0,
    serverEvents: seeded.notes * version,
  };
}

interface Device {
  readonly seeded: SeededFolder;
  readonly strata: Strata;
  sync?: SyncClient;
}

let databases = 0;
const freshName = () => `snapshot-bootstrap-${Date.now()}-${databases++}`;

/**
 * A fresh device (new database) back-fills the folder with `aggregate`: timed from `startSync`
 * until `whenSynced` and every note's row is in the `notes` table. The teardown checks what it
 * stored: events, bases (snapshots started from) and rows.
 */
function backFill(
  target: SyncBenchTarget,
  seed: () => Promise<SeededFolder>,
  aggregate: AnyAggregateDefinition,
  bootstrap: boolean,
  label: string,
): Workload<Device> {
  return {
    label,
    setup: async (): Promise<Device> => {
      const seeded = await seed();
      return {
        seeded,
        strata: await createStrata({
          name: freshName(),
          tables: noteTables,
          projections: [noteList],
        }),
      };
    },
    run: async (device: Device) => {
      const { seeded } = device;
      const token = seeded.token;
      device.sync = startSync(device.strata, {
        url: target.url,
        aggregates: [aggregate],
        token: () => token,
        scopes: [folder({ folderId: seeded.folderId })],
        ...(target.locks === null ? { locks: null } : {}),
      });
      await device.sync.whenSynced();
      const rows = await device.strata.db.table('notes').count();
      check(rows === seeded.notes, `caught up with ${rows} of ${seeded.notes} note rows`);
    },
    teardown: async ({ seeded, strata, sync }: Device) => {
      await sync?.stop();
      const expected = expectedHoldings(seeded, bootstrap);
      const { db } = strata;
      const events = await db.events.count();
      const bases = await db.bases.count();
      check(events === expected.events, `stored ${events} events, expected ${expected.events}`);
      check(bases === expected.bases, `stored ${bases} bases, expected ${expected.bases}`);
      const rows = await db.table<NoteRow, string>('notes').toArray();
      check(
        rows.every((row) => row.edits === seeded.edits && row.folderId === seeded.folderId),
        'a note row is not at its last edit',
      );
      const name = db.name;
      strata.close();
      await deleteDatabase(name);
    },
  };
}

const count = (value: number) => value.toLocaleString('en-US');

/**
 * Snapshot bootstrap against full history: the same folder, the same server, alternating runs.
 * Subject: `Note` (`bootstrap: true`), which starts each note from the server's snapshot;
 * baseline: `defineNote({ bootstrap: false })`, which replays every event. Throughput in notes
 * (the work both sides finish); the labels say how many events each device stores.
 */
export function snapshotBootstrapBenchmark(
  target: SyncBenchTarget,
  options: {
    readonly notes: number;
    readonly edits: number;
    readonly runs: number;
    readonly seed: () => Promise<SeededFolder>;
  },
): Benchmark {
  const shape = { notes: options.notes, edits: options.edits, folderId: '', token: '' };
  const subject = expectedHoldings(shape, true);
  const baseline = expectedHoldings(shape, false);
  const version = options.edits + 1;
  return {
    name: `snapshot bootstrap: fresh device back-fills a folder of ${count(options.notes)} notes at version ${version} (${count(subject.serverEvents)} events on the server, a snapshot every ${SNAPSHOT_EVERY} versions) until caught up (${target.where})`,
    unit: 'notes',
    units: options.notes,
    runs: options.runs,
    goal: 'snapshot back-fill faster than full history',
    baseline: backFill(
      target,
      options.seed,
      defineNote({ bootstrap: false }),
      false,
      `full history (bootstrap: false): stores ${count(baseline.events)} events`,
    ),
    subject: backFill(
      target,
      options.seed,
      Note,
      true,
      `from snapshots (Note): stores ${count(subject.events)} events + ${count(subject.bases)} bases`,
    ),
  };
}
