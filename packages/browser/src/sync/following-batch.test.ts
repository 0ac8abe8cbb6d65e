// The batch read ahead while the one before it is with the server (issue 16): handed out only
// when no write touched its rows since, else read again; and an answer's storing reusing the
// rows its batch was collected from.
import {
  type CommandCommit,
  type CommandPushResponse,
  newKsuid,
  type StoredEvent,
} from '@strata/core';
import { Todo } from '@strata/example-todo';
// Dexie's storagemutated (and liveQuery) only observe the global IndexedDB.
import 'fake-indexeddb/auto';
import { Dexie, RangeSet } from 'dexie';
import { describe, expect, it, vi } from 'vitest';
import { freshTodoStrata } from '../../test/fixtures/open-todo-strata.ts';
import { storedAsPredicted } from '../../test/fixtures/server-events.ts';
import { syncedRows } from '../../test/fixtures/synced-rows.ts';
import type { Strata } from '../runtime/create-strata.ts';
import { applyUpstream } from './apply-upstream.ts';
import { createFollowingBatches } from './following-batch.ts';
import { applyPushResults, collectCommits } from './push-pending-commands.ts';
import { syncContext, type UpstreamEvent } from './sync-context.ts';

const open = freshTodoStrata('following-batch');

async function setUp(todos: number) {
  const strata = await open();
  const context = syncContext(strata, [Todo], () => newKsuid());
  const events: StoredEvent[] = [];
  for (let i = 0; i < todos; i++) {
    const { events: made } = await strata.execute(Todo, `t${i}`, 'add', { title: `Todo ${i}` });
    events.push(made[0] as StoredEvent);
  }
  return { strata, context, events, batches: createFollowingBatches(context) };
}

/** Every commit accepted with exactly its predicted events. */
function asPredicted(commits: readonly CommandCommit[]): CommandPushResponse {
  let position = 1;
  return {
    protocol: 2,
    results: commits.map((commit) => ({
      commitId: commit.commitId,
      status: 'accepted' as const,
      events: commit.events.map((event) => storedAsPredicted(event as StoredEvent, position++)),
    })),
  };
}

/** Counts the transactions opened on the database while `run` runs. */
async function transactionsDuring<T>(strata: Strata, run: () => Promise<T>) {
  const spy = vi.spyOn(strata.db, 'transaction');
  try {
    const result = await run();
    return { result, transactions: spy.mock.calls.length };
  } finally {
    spy.mockRestore();
  }
}

describe('the batch read ahead', () => {
  it('is handed out without a read when nothing touched its rows, and equals a fresh read', async () => {
    const { strata, context, batches } = await setUp(6);
    const inFlight = await collectCommits(context, 500, 2);
    await batches.prepare(inFlight, 500, 2);
    const { result, transactions } = await transactionsDuring(strata, () =>
      batches.following(inFlight, asPredicted(inFlight), 500, 2),
    );
    expect(transactions).toBe(0);
    expect(result).toEqual((await collectCommits(context, 500, 200)).slice(2, 4));
    batches.close();
  });

  it('writes elsewhere leave it: the batch in flight confirmed, a command added after it', async () => {
    const { strata, context, batches } = await setUp(6);
    const inFlight = await collectCommits(context, 500, 2);
    await batches.prepare(inFlight, 500, 2);
    await applyPushResults(context, inFlight, asPredicted(inFlight));
    await strata.execute(Todo, 'later', 'add', { title: 'Later' });
    const { result, transactions } = await transactionsDuring(strata, () =>
      batches.following(inFlight, asPredicted(inFlight), 500, 2),
    );
    expect(transactions).toBe(0);
    // A full batch of two: the command added after it is the next one's.
    expect(result).toEqual((await collectCommits(context, 500, 200)).slice(0, 2));
    batches.close();
  });

  it('a command of it rewritten, or removed, since it was read: read again', async () => {
    const { strata, context, batches } = await setUp(6);
    const inFlight = await collectCommits(context, 500, 2);
    const { db } = strata;
    const [third, fourth] = (await db.commands.orderBy('seq').toArray())
      .slice(2, 4)
      .map((row) => ({ seq: row.seq as number })) as [{ seq: number }, { seq: number }];

    await batches.prepare(inFlight, 500, 2);
    await db.commands.update(third.seq, { input: { title: 'Renamed while in flight' } });
    const rewritten = await batches.following(inFlight, asPredicted(inFlight), 500, 2);
    expect(rewritten?.[0]?.command.input).toEqual({ title: 'Renamed while in flight' });

    await batches.prepare(inFlight, 500, 2);
    // As a rejection moves it to the rejected list.
    await db.commands.delete(fourth.seq);
    const removed = await batches.following(inFlight, asPredicted(inFlight), 500, 2);
    expect(removed?.map((commit) => commit.commitId)).toEqual(
      (await collectCommits(context, 500, 200)).slice(2, 4).map((commit) => commit.commitId),
    );
    expect(removed?.map((commit) => commit.commitId)).not.toContain(
      (rewritten as CommandCommit[])[1]?.commitId,
    );
    batches.close();
  });

  it('an event of it rewritten since (upstream rebased its aggregate): read again, with the new prediction', async () => {
    const { context, events, batches } = await setUp(4);
    const inFlight = await collectCommits(context, 500, 2);
    await batches.prepare(inFlight, 500, 2);
    // Someone else added todo t2 first: its pending add is re-run on top (and refused: the
    // todo exists), so the read-ahead batch no longer holds it.
    const theirs = storedAsPredicted(events[2] as StoredEvent, 1);
    const other = {
      ...theirs,
      id: newKsuid(),
      metadata: { ...theirs.metadata, commandId: newKsuid() },
    } as UpstreamEvent;
    await applyUpstream(context, [other], 'c1');
    const following = await batches.following(inFlight, asPredicted(inFlight), 500, 2);
    expect(following).toEqual((await collectCommits(context, 500, 200)).slice(2, 4));
    expect(following?.map((commit) => commit.command.aggregateId)).not.toContain('t2');
    batches.close();
  });

  it('a write committed while it is being read makes it stale too', async () => {
    const { strata, context, batches } = await setUp(6);
    const inFlight = await collectCommits(context, 500, 2);
    const third = (await strata.db.commands.orderBy('seq').toArray())[2] as { seq: number };
    // Not awaited: the write's transaction is queued behind the read's.
    const reading = batches.prepare(inFlight, 500, 2);
    const writing = strata.db.commands.update(third.seq, { input: { title: 'Meanwhile' } });
    await Promise.all([reading, writing]);
    const following = await batches.following(inFlight, asPredicted(inFlight), 500, 2);
    expect(following?.[0]?.command.input).toEqual({ title: 'Meanwhile' });

    // Told of a write to the commands while the read runs (before it knows its rows): stale.
    const { db } = strata;
    const range = new RangeSet(third.seq);
    const reread = batches.prepare(inFlight, 500, 2);
    Dexie.on.storagemutated.fire({ [`idb://${db.name}/commands/`]: range });
    await reread;
    const { transactions } = await transactionsDuring(strata, () =>
      batches.following(inFlight, asPredicted(inFlight), 500, 2),
    );
    expect(transactions).toBe(1);
    batches.close();
  });

  it('only for the batch it follows, with the same limits, accepted as predicted', async () => {
    const { strata, context, batches } = await setUp(6);
    const inFlight = await collectCommits(context, 500, 2);
    const fresh = await collectCommits(context, 500, 2);

    await batches.prepare(inFlight, 500, 2);
    // Another batch (the same commands, collected again): not the one read ahead for.
    const { transactions } = await transactionsDuring(strata, () =>
      batches.following(fresh, asPredicted(fresh), 500, 2),
    );
    expect(transactions).toBe(1);

    await batches.prepare(inFlight, 500, 2);
    const other = await batches.following(inFlight, asPredicted(inFlight), 500, 3);
    expect(other).toHaveLength(3);

    await batches.prepare(inFlight, 500, 2);
    const refused: CommandPushResponse = {
      protocol: 2,
      results: [
        asPredicted(inFlight).results[0] as CommandPushResponse['results'][number],
        {
          commitId: (inFlight[1] as CommandCommit).commitId,
          status: 'rejected',
          code: 'DOMAIN_RULE_VIOLATED',
          message: 'no',
          currentVersion: 0,
        },
      ],
    };
    expect(await batches.following(inFlight, refused, 500, 2)).toBeUndefined();
    // Used once: the next answer reads again.
    await batches.prepare(inFlight, 500, 2);
    await batches.following(inFlight, asPredicted(inFlight), 500, 2);
    const again = await transactionsDuring(strata, () =>
      batches.following(inFlight, asPredicted(inFlight), 500, 2),
    );
    expect(again.transactions).toBe(1);
    batches.close();
  });
});

describe('storing an answer with the rows its batch was collected from', () => {
  it('reads the command rows once, by seq, and no event row; every event confirmed as it was', async () => {
    const { strata, context, batches } = await setUp(5);
    batches.close();
    const commits = await collectCommits(context, 500, 200);
    const { db } = strata;
    const before = await db.events.toArray();
    const eventReads = vi.spyOn(db.events, 'where');
    const commandReads = vi.spyOn(db.commands, 'where');
    await applyPushResults(context, commits, asPredicted(commits));
    expect(eventReads).not.toHaveBeenCalled();
    expect(commandReads.mock.calls).toEqual([[':id']]);
    expect(await db.events.toArray()).toEqual(before);
    expect((await syncedRows(db)).map((row) => row.pending)).toEqual([0, 0, 0, 0, 0]);
    expect(await db.commands.count()).toBe(0);
  });

  it('a command re-run since it was collected (new event ids): its rows are read, the server’s copy of the new prediction confirms it', async () => {
    const { strata, context, events, batches } = await setUp(2);
    batches.close();
    const { db } = strata;
    const commits = await collectCommits(context, 500, 200);
    // Rename t1 on top, then rebase t1 as upstream would: its pending commands re-run with
    // new event ids (the foreign event makes the rename's version 3).
    await strata.execute(Todo, 't1', 'rename', { title: 'Renamed' });
    const predicted = storedAsPredicted(events[1] as StoredEvent, 1);
    const theirs = {
      ...predicted,
      id: newKsuid(),
      version: 1,
      metadata: { ...predicted.metadata, commandId: newKsuid() },
    } as UpstreamEvent;
    await applyUpstream(context, [theirs], 'c1');
    // t1's add was refused by the rebase (the todo exists); its rename re-ran at version 2.
    expect((await db.rejected.toArray()).map((row) => row.aggregateId)).toEqual(['t1']);
    const rename = (await db.commands.toArray()).find((row) => row.command === 'rename');
    expect(rename).toBeDefined();

    // The answer accepts t0's add as predicted; t1's add is no longer pending (changes nothing).
    await applyPushResults(context, commits, asPredicted(commits));
    const rows = await syncedRows(db);
    const byId = new Map(rows.map((row) => [row.id, row]));
    expect(byId.get((events[0] as StoredEvent).id)?.pending).toBe(0);
    // t1: their add (confirmed) and the re-run rename (pending), nothing of our old add.
    expect(byId.has((events[1] as StoredEvent).id)).toBe(false);
    expect(byId.get(theirs.id)?.pending).toBe(0);
    expect(byId.get(rename?.eventIds[0] as string)?.pending).toBe(1);
    expect((await db.commands.toArray()).map((row) => row.command)).toEqual(['rename']);
  });
});
