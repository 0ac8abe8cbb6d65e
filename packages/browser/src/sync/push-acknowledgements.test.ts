// A push's acknowledgements in bulk (issue 16): one transaction per answer, the rows read
// together and written back together, and nothing half-acknowledged when that transaction fails.
import { type CommandPushResponse, newKsuid, type StoredEvent } from '@strata/core';
import { Todo } from '@strata/example-todo';
// Dexie's liveQuery only observes the global IndexedDB.
import 'fake-indexeddb/auto';
import { liveQuery } from 'dexie';
import { describe, expect, it, vi } from 'vitest';
import { freshTodoStrata } from '../../test/fixtures/open-todo-strata.ts';
import { storedAsPredicted, storedByServer } from '../../test/fixtures/server-events.ts';
import { syncedRows } from '../../test/fixtures/synced-rows.ts';
import type { Strata } from '../runtime/create-strata.ts';
import { deleteRows, rowsWhere } from './keyed-rows.ts';
import { applyPushResults, collectCommits, followingCommits } from './push-pending-commands.ts';
import { syncContext } from './sync-context.ts';

const open = freshTodoStrata('push-acks');

async function setUp() {
  const strata = await open();
  const context = syncContext(strata, [Todo], () => newKsuid());
  return { strata, context };
}

const only = (events: readonly StoredEvent[]) => events[0] as StoredEvent;
const answer = (...results: CommandPushResponse['results']): CommandPushResponse => ({
  protocol: 2,
  results,
});

/** `count` todos added, one command each: their events by todo id order. */
async function addTodos(strata: Strata, count: number): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  for (let i = 0; i < count; i++) {
    events.push(only((await strata.execute(Todo, `t${i}`, 'add', { title: `Todo ${i}` })).events));
  }
  return events;
}

/** The events' sync state, by id: pending (1) or confirmed (0), as `syncedRows` tells it. */
async function states(strata: Strata) {
  const rows = await syncedRows(strata.db);
  return new Map(rows.map((row) => [row.id, row.pending]));
}

describe('push acknowledgements in bulk', () => {
  it('confirms a whole batch with one range delete of the commands, no event row written', async () => {
    const { strata, context } = await setUp();
    const events = await addTodos(strata, 120);
    const commits = await collectCommits(context, 500, 200);
    expect(commits).toHaveLength(120);
    const { db } = strata;
    const rowsBefore = await db.events.toArray();
    const put = vi.spyOn(db.events, 'put');
    const update = vi.spyOn(db.events, 'update');
    const bulkUpdate = vi.spyOn(db.events, 'bulkUpdate');
    const bulkPut = vi.spyOn(db.events, 'bulkPut');
    const bulkDelete = vi.spyOn(db.commands, 'bulkDelete');
    const deleteOne = vi.spyOn(db.commands, 'delete');

    const outcome = await applyPushResults(
      context,
      commits,
      answer(
        ...commits.map((commit, i) => ({
          commitId: commit.commitId,
          status: 'accepted' as const,
          events: [storedAsPredicted(events[i] as StoredEvent, 1000 + i)],
        })),
      ),
    );

    expect(outcome).toEqual({ accepted: 120, conflicts: [], rejected: [], retryLater: 0 });
    expect(update).not.toHaveBeenCalled();
    expect(bulkUpdate).not.toHaveBeenCalled();
    expect(bulkPut).not.toHaveBeenCalled();
    expect(put).not.toHaveBeenCalled();
    expect(await db.events.toArray()).toEqual(rowsBefore);
    // The commands were one run of seqs: one range delete through Dexie's core.
    expect(bulkDelete).not.toHaveBeenCalled();
    expect(deleteOne).not.toHaveBeenCalled();
    const after = await states(strata);
    expect(events.map((event) => after.get(event.id))).toEqual(events.map(() => 0));
    expect(await db.commands.count()).toBe(0);
  });

  it('an answer that covers only part of the batch confirms that part; the rest stays pending, untouched', async () => {
    const { strata, context } = await setUp();
    const events = await addTodos(strata, 5);
    const commits = await collectCommits(context, 500, 200);
    const before = await strata.db.events.toArray();

    // Answers for the first two only (a server cut short); a third answer with a stranger's id.
    await applyPushResults(
      context,
      commits,
      answer(
        ...commits.slice(0, 2).map((commit, i) => ({
          commitId: commit.commitId,
          status: 'accepted' as const,
          events: [storedAsPredicted(events[i] as StoredEvent, 10 + i)],
        })),
        {
          commitId: newKsuid(),
          status: 'accepted',
          events: [storedAsPredicted(events[2] as StoredEvent, 12)],
        },
      ),
    );

    const after = await states(strata);
    expect(events.map((event) => after.get(event.id))).toEqual([0, 0, 1, 1, 1]);
    expect(await strata.db.events.toArray()).toEqual(before);
    expect((await strata.pendingCommands()).map((row) => row.commandId)).toEqual(
      commits.slice(2).map((commit) => commit.commitId),
    );
    // The next push starts where the answer stopped.
    expect((await collectCommits(context, 500, 200)).map((commit) => commit.commitId)).toEqual(
      commits.slice(2).map((commit) => commit.commitId),
    );
  });

  it('a commit rejected among accepted ones is rejected alone; its neighbours are confirmed', async () => {
    const { strata, context } = await setUp();
    const events = await addTodos(strata, 3);
    const commits = await collectCommits(context, 500, 200);
    const [first, second, third] = commits.map((commit) => commit.commitId) as [
      string,
      string,
      string,
    ];

    const outcome = await applyPushResults(
      context,
      commits,
      answer(
        {
          commitId: first,
          status: 'accepted',
          events: [storedAsPredicted(events[0] as StoredEvent, 1)],
        },
        {
          commitId: second,
          status: 'rejected',
          code: 'DOMAIN_RULE_VIOLATED',
          message: 'No more todos today',
          currentVersion: 0,
        },
        {
          commitId: third,
          status: 'accepted',
          events: [storedAsPredicted(events[2] as StoredEvent, 2)],
        },
      ),
    );

    expect(outcome.accepted).toBe(2);
    expect(outcome.rejected.map((row) => [row.commandId, row.code])).toEqual([
      [second, 'DOMAIN_RULE_VIOLATED'],
    ]);
    const after = await states(strata);
    expect(after.get(events[0]?.id as string)).toBe(0);
    expect(after.has(events[1]?.id as string)).toBe(false);
    expect(after.get(events[2]?.id as string)).toBe(0);
    expect(after.size).toBe(2);
    expect(await strata.pendingCommands()).toEqual([]);
    expect((await strata.db.rejected.toArray()).map((row) => row.commandId)).toEqual([second]);
  });

  it('a lost answer: the same batch pushed again and answered twice confirms once, then changes nothing', async () => {
    const { strata, context } = await setUp();
    const events = await addTodos(strata, 4);
    // The first push's answer never arrived: nothing was applied, the batch is collected again.
    const lost = await collectCommits(context, 500, 200);
    const again = await collectCommits(context, 500, 200);
    expect(again).toEqual(lost);
    const response = answer(
      ...again.map((commit, i) => ({
        commitId: commit.commitId,
        status: 'accepted' as const,
        events: [storedAsPredicted(events[i] as StoredEvent, 20 + i)],
      })),
    );

    const before = await strata.db.events.toArray();
    expect((await applyPushResults(context, again, response)).accepted).toBe(4);
    const confirmed = await strata.db.events.toArray();
    expect(confirmed).toEqual(before);
    expect([...(await states(strata)).values()]).toEqual([0, 0, 0, 0]);
    // The same answer once more (a retried request answered twice): idempotent.
    const outcome = await applyPushResults(context, again, response);
    expect(outcome).toEqual({ accepted: 4, conflicts: [], rejected: [], retryLater: 0 });
    expect(await strata.db.events.toArray()).toEqual(confirmed);
    expect(await strata.pendingCommands()).toEqual([]);
  });

  it('a failure inside the transaction leaves every row pending: nothing half-acknowledged', async () => {
    const { strata, context } = await setUp();
    const events = await addTodos(strata, 60);
    const commits = await collectCommits(context, 500, 200);
    const response = answer(
      ...commits.map((commit, i) => ({
        commitId: commit.commitId,
        status: 'accepted' as const,
        events: [storedAsPredicted(events[i] as StoredEvent, 100 + i)],
      })),
    );
    const eventsBefore = await strata.db.events.toArray();
    const commandsBefore = await strata.db.commands.toArray();
    // The last write of the transaction fails: the confirmations and deletes before it are undone.
    const put = vi
      .spyOn(strata.db.syncState, 'put')
      .mockRejectedValueOnce(new Error('disk full') as never);

    await expect(applyPushResults(context, commits, response)).rejects.toThrow();
    expect(await strata.db.events.toArray()).toEqual(eventsBefore);
    expect(await strata.db.commands.toArray()).toEqual(commandsBefore);

    // The next attempt applies the whole answer.
    put.mockRestore();
    expect((await applyPushResults(context, commits, response)).accepted).toBe(60);
    expect((await syncedRows(strata.db)).every((row) => row.pending === 0)).toBe(true);
    expect(await strata.db.commands.count()).toBe(0);
  });

  it('live queries see the acknowledgement, large batches and small', async () => {
    const { strata, context } = await setUp();
    // 60 (over Dexie's 50-row precise tracking) and then 3.
    const events = await addTodos(strata, 63);
    const seen: number[] = [];
    const subscription = liveQuery(
      async () => (await syncedRows(strata.db)).filter((row) => row.pending === 1).length,
    ).subscribe((count) => seen.push(count));
    const settle = () => new Promise((resolve) => setTimeout(resolve, 50));
    await settle();
    for (const size of [60, 3]) {
      const commits = await collectCommits(context, 500, size);
      const offset = 63 - (seen.at(-1) as number);
      await applyPushResults(
        context,
        commits,
        answer(
          ...commits.map((commit, i) => ({
            commitId: commit.commitId,
            status: 'accepted' as const,
            events: [storedAsPredicted(events[offset + i] as StoredEvent, 1 + offset + i)],
          })),
        ),
      );
      await settle();
    }
    subscription.unsubscribe();
    expect(seen).toEqual([63, 3, 0]);
  });
});

describe('followingCommits', () => {
  it('collects the batch after an answer that accepted every commit as predicted, and none otherwise', async () => {
    const { strata, context } = await setUp();
    const events = await addTodos(strata, 5);
    const first = await collectCommits(context, 500, 2);
    const asPredicted = answer(
      ...first.map((commit, i) => ({
        commitId: commit.commitId,
        status: 'accepted' as const,
        events: [storedAsPredicted(events[i] as StoredEvent, 1 + i)],
      })),
    );
    const following = await followingCommits(context, first, asPredicted, 500, 2);
    const all = await collectCommits(context, 500, 200);
    expect(following).toEqual(all.slice(2, 4));
    // And after that one, the last; nothing after the last.
    const last = await followingCommits(
      context,
      following as never,
      answer(
        ...(following ?? []).map((commit, i) => ({
          commitId: commit.commitId,
          status: 'accepted' as const,
          events: [storedAsPredicted(events[2 + i] as StoredEvent, 3 + i)],
        })),
      ),
      500,
      2,
    );
    expect(last).toEqual(all.slice(4));

    const [one, two] = asPredicted.results as [
      CommandPushResponse['results'][number],
      CommandPushResponse['results'][number],
    ];
    const refused = {
      commitId: two.commitId,
      status: 'rejected',
      code: 'DOMAIN_RULE_VIOLATED',
      message: 'no',
      currentVersion: 0,
    } as const;
    const decided = {
      ...two,
      events: [storedByServer(events[1] as StoredEvent, 2)],
    } as CommandPushResponse['results'][number];
    const conflict = { ...refused, code: 'VERSION_CONFLICT', currentVersion: 3 } as const;
    for (const partial of [
      answer(one),
      answer(one, refused),
      answer(one, decided),
      answer(one, conflict),
      answer(two, one),
    ]) {
      expect(await followingCommits(context, first, partial, 500, 2)).toBeUndefined();
    }
  });
});

describe('collectCommits', () => {
  it('closes a batch before its JSON passes half the server’s default body limit', async () => {
    const { strata, context } = await setUp();
    // 420 commits of ~1.3 KB each (the title, 500 characters, is in the input and the event).
    const title = (i: number) => `${i} `.padEnd(500, 'x');
    for (let i = 0; i < 420; i++) await strata.execute(Todo, `t${i}`, 'add', { title: title(i) });
    const first = await collectCommits(context, 500, 500);
    const text = (commits: readonly unknown[]) =>
      commits.reduce((sum: number, commit) => sum + JSON.stringify(commit).length, 0);
    expect(first.length).toBeLessThan(420);
    expect(first.length).toBeGreaterThan(300);
    expect(text(first)).toBeLessThanOrEqual(512 * 1024);
    const rest = await collectCommits(context, 500, 500, { after: first });
    expect([...first, ...rest].map((commit) => commit.command.aggregateId)).toEqual(
      Array.from({ length: 420 }, (_, i) => `t${i}`),
    );
  });
});

describe('rowsWhere', () => {
  it('reads rows by index inside a transaction and outside, each row once (multi-entry too)', async () => {
    const { strata } = await setUp();
    const events = await addTodos(strata, 3);
    const { db } = strata;
    const ids = [events[2]?.id, events[0]?.id, 'missing'] as string[];
    const inside = await db.transaction('r', db.events, db.commands, async () => ({
      events: await rowsWhere(db.events, 'id', ids),
      // Two ids of one command would find it twice through the multi-entry index.
      commands: await rowsWhere(db.commands, 'eventIds', [ids[0] as string, ids[0] as string]),
    }));
    const sorted = (rows: { id: string }[]) => rows.map((row) => row.id).sort();
    expect(sorted(inside.events)).toEqual([ids[0], ids[1]].sort());
    expect(inside.commands.map((row) => row.eventIds)).toEqual([[ids[0]]]);
    expect(sorted(await rowsWhere(db.events, 'id', ids))).toEqual([ids[0], ids[1]].sort());
  });

  it('keys far apart (more rows between them than the range read takes) are read one by one', async () => {
    const { strata } = await setUp();
    const events = await addTodos(strata, 90);
    const { db } = strata;
    // Ids are in the id index's order: the lowest, the highest and one between them.
    const all = events.map((event) => event.id).sort();
    const ids = [all[0], all[89], all[45]] as string[];
    const query = vi.spyOn(db.events.core, 'query');
    const rows = await db.transaction('r', db.events, () => rowsWhere(db.events, 'id', ids));
    expect(rows.map((row) => row.id).sort()).toEqual([...ids].sort());
    // The range read (cut at its limit), then one per key.
    expect(query).toHaveBeenCalledTimes(4);
    query.mockClear();
    const near = [all[3], all[5]] as string[];
    const close = await db.transaction('r', db.events, () => rowsWhere(db.events, 'id', near));
    expect(close.map((row) => row.id).sort()).toEqual([...near].sort());
    expect(query).toHaveBeenCalledTimes(1);
  });
});

describe('rowsWhere keys of different types', () => {
  it('tells a number from its digits and a compound key from its JSON text', async () => {
    const { strata } = await setUp();
    const { db } = strata;
    // Command ids are strings; IndexedDB also keys a row by a number or an array in that index.
    const row = (commandId: unknown) => ({ commandId, eventIds: [] }) as never;
    await db.commands.bulkAdd([row(1), row('1'), row(['a', 2]), row('["a",2]')]);
    const read = (keys: unknown[]) =>
      db.transaction('r', db.commands, async () =>
        (await rowsWhere(db.commands, 'commandId', keys as never)).map((r) => r.commandId),
      );
    expect(await read([1])).toEqual([1]);
    expect(await read(['1'])).toEqual(['1']);
    expect(await read([['a', 2]])).toEqual([['a', 2]]);
    expect(await read(['["a",2]'])).toEqual(['["a",2]']);
    expect((await read([1, ['a', 2]])).length).toBe(2);
  });
});

describe('deleteRows', () => {
  it('deletes exactly the keys given, a run of consecutive keys in one request', async () => {
    const { strata } = await setUp();
    await addTodos(strata, 6);
    const { db } = strata;
    const seqs = (await db.commands.toArray()).map((row) => row.seq as number);
    const mutate = vi.spyOn(db.commands.core, 'mutate');
    const gone = [seqs[0], seqs[1], seqs[2], seqs[4]] as number[];
    await db.transaction('rw', db.commands, () => deleteRows(db.commands, gone));
    expect(mutate).toHaveBeenCalledTimes(2);
    expect((await db.commands.toArray()).map((row) => row.seq)).toEqual([seqs[3], seqs[5]]);
  });
});
