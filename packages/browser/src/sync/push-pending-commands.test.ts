import {
  CommandPushRequestSchema,
  type CommandPushResponse,
  envelopeOf,
  newKsuid,
  type StoredEvent,
} from '@strata/core';
import { Todo } from '@strata/example-todo';
// Dexie's liveQuery only observes the global IndexedDB.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { freshTodoStrata } from '../../test/fixtures/open-todo-strata.ts';
import { storedAsPredicted, storedByServer } from '../../test/fixtures/server-events.ts';
import { syncedRows } from '../../test/fixtures/synced-rows.ts';
import type { TodoRow } from '../../test/fixtures/todo-list.ts';
import type { Strata } from '../runtime/create-strata.ts';
import { applyUpstream } from './apply-upstream.ts';
import { applyPushResults, collectCommits } from './push-pending-commands.ts';
import { type SyncContext, syncContext, type UpstreamEvent } from './sync-context.ts';

const open = freshTodoStrata('push-results');

async function setUp() {
  const strata = await open();
  const context = syncContext(strata, [Todo], () => newKsuid());
  return { strata, context };
}

/** The aggregate's rows in version order, as the test reads them. */
async function log(strata: Strata, aggregateId = 't1') {
  const rows = await strata.db.events
    .where('[aggregateType+aggregateId+version]')
    .between(['Todo', aggregateId, 0], ['Todo', aggregateId, Number.MAX_SAFE_INTEGER])
    .toArray();
  return rows.map(({ version, id, type, pending, serverPosition, data }) => ({
    version,
    id,
    type,
    pending,
    serverPosition,
    data,
  }));
}

const todoRows = (strata: Strata) => strata.db.table<TodoRow, string>('todos').toArray();
const pendingNames = async (strata: Strata) =>
  (await strata.pendingCommands()).map((command) => command.command);

const accepted = (commitId: string, events: UpstreamEvent[]) =>
  ({ commitId, status: 'accepted', events }) as const;
const answer = (...results: CommandPushResponse['results']): CommandPushResponse => ({
  protocol: 2,
  results,
});

/** Pushes the oldest `count` pending commands to a server that answers with `respond`. */
async function push(
  context: SyncContext,
  count: number,
  respond: (commitIds: string[]) => CommandPushResponse,
) {
  const commits = await collectCommits(context, 500, count);
  return applyPushResults(context, commits, respond(commits.map((c) => c.commitId)));
}

const only = (events: readonly StoredEvent[]) => events[0] as StoredEvent;

describe('collectCommits', () => {
  it('builds protocol 2 commits from the pending rows: the command as issued, then its prediction', async () => {
    const { strata, context } = await setUp();
    const added = await strata.execute(Todo, 't1', 'add', { title: '  Buy milk  ' });
    const completed = await strata.execute(Todo, 't1', 'complete', {});
    const [add, complete] = await strata.pendingCommands();

    const commits = await collectCommits(context, 500, 200);
    expect(commits).toEqual([
      {
        commitId: add?.commandId,
        command: {
          aggregateType: 'Todo',
          aggregateId: 't1',
          name: 'add',
          // As the caller gave it: the server parses (and trims) it with the same schema.
          input: { title: '  Buy milk  ' },
          issuedAt: add?.executedAt,
        },
        events: [envelopeOf(only(added.events))],
      },
      {
        commitId: complete?.commandId,
        command: {
          aggregateType: 'Todo',
          aggregateId: 't1',
          name: 'complete',
          input: {},
          issuedAt: complete?.executedAt,
        },
        events: [envelopeOf(only(completed.events))],
      },
    ]);
    expect(only(added.events).data).toEqual({ title: 'Buy milk' });
    const request = { protocol: 2, clientId: strata.clientId, commits };
    expect(CommandPushRequestSchema.safeParse(request).success).toBe(true);
    // The batch limits still hold.
    expect((await collectCommits(context, 500, 1)).map((c) => c.commitId)).toEqual([
      add?.commandId,
    ]);
  });
});

describe('applyPushResults', () => {
  it('confirms the prediction in place when the server stored it (same ids: verify, events)', async () => {
    const { strata, context } = await setUp();
    const added = await strata.execute(Todo, 't1', 'add', { title: 'Buy milk' });
    const before = await strata.db.events.toArray();
    const outcome = await push(context, 10, ([id]) =>
      answer(accepted(id as string, [storedAsPredicted(only(added.events), 5)])),
    );
    expect(outcome).toEqual({ accepted: 1, conflicts: [], rejected: [], retryLater: 0 });
    // The command row went, which confirms the event; its row is not rewritten (issue 16).
    expect(await strata.pendingCommands()).toEqual([]);
    expect(await strata.db.events.toArray()).toEqual(before);
    expect(
      (await syncedRows(strata.db)).map(({ id, version, pending }) => [id, version, pending]),
    ).toEqual([[only(added.events).id, 1, 0]]);
    expect(await collectCommits(context, 500, 200)).toEqual([]);
  });

  it("replaces the prediction with the server's events and re-runs a later pending command on top", async () => {
    const { strata, context } = await setUp();
    const added = await strata.execute(Todo, 't1', 'add', { title: 'Buy milk' });
    const completed = await strata.execute(Todo, 't1', 'complete', {});
    const [, complete] = await strata.pendingCommands();
    // The server decided the add its own way (its id, its time, here even another title).
    const decided = storedByServer(only(added.events), 11, { data: { title: 'Buy oat milk' } });

    const outcome = await push(context, 1, ([id]) => answer(accepted(id as string, [decided])));
    expect(outcome).toEqual({ accepted: 1, conflicts: [], rejected: [], retryLater: 0 });
    const rows = await log(strata);
    expect(rows).toEqual([
      {
        version: 1,
        id: decided.id,
        type: 'TodoAdded',
        pending: 0,
        serverPosition: 11,
        data: { title: 'Buy oat milk' },
      },
      {
        version: 2,
        id: expect.any(String),
        type: 'TodoCompleted',
        pending: 1,
        serverPosition: undefined,
        data: {},
      },
    ]);
    // The complete was re-run: a new prediction, not the old row.
    const rerun = rows[1]?.id;
    expect(rerun).not.toBe(only(completed.events).id);
    expect(await strata.db.events.where('id').equals(only(added.events).id).count()).toBe(0);
    expect(await strata.pendingCommands()).toEqual([{ ...complete, eventIds: [rerun] }]);
    expect(await todoRows(strata)).toEqual([
      { id: 't1', title: 'Buy oat milk', status: 'completed' },
    ]);
    // The next push carries the re-run prediction, still issued when the user issued it.
    const [next] = await collectCommits(context, 500, 200);
    expect(next?.command.issuedAt).toBe(complete?.executedAt);
    expect(next?.events.map((event) => [event.id, event.version])).toEqual([[rerun, 2]]);
  });

  it('drops the prediction when the server decided nothing; a later command that needed it is rejected', async () => {
    const { strata, context } = await setUp();
    await strata.execute(Todo, 't1', 'add', { title: 'Buy milk' });
    await strata.execute(Todo, 't1', 'complete', {});
    const outcome = await push(context, 1, ([id]) => answer(accepted(id as string, [])));

    expect(outcome.accepted).toBe(1);
    expect(outcome.rejected.map((row) => [row.command, row.code])).toEqual([
      ['complete', 'DOMAIN_RULE_VIOLATED'],
    ]);
    expect(await log(strata)).toEqual([]);
    expect(await strata.pendingCommands()).toEqual([]);
    expect((await strata.db.rejected.toArray()).map((row) => row.command)).toEqual(['complete']);
    expect(await todoRows(strata)).toEqual([]);
  });

  it('stores nothing at a gap: the prediction goes, later commands re-run on the confirmed state, and the aggregate pulls', async () => {
    const { strata, context } = await setUp();
    const other = await open();
    const foreignAdd = only((await other.execute(Todo, 't1', 'add', { title: 'Milk' })).events);
    const foreignRename = only(
      (await other.execute(Todo, 't1', 'rename', { title: 'Whole milk' })).events,
    );
    await applyUpstream(context, [storedAsPredicted(foreignAdd, 1)], 'c1');
    const renamed = await strata.execute(Todo, 't1', 'rename', { title: 'Oat milk' });
    await strata.execute(Todo, 't1', 'complete', {});
    // The server stored our rename at version 3: someone's version 2 is not here yet.
    const decided = storedByServer(only(renamed.events), 30, { version: 3 });

    const outcome = await push(context, 1, ([id]) => answer(accepted(id as string, [decided])));
    expect(outcome.conflicts).toEqual([
      { aggregateType: 'Todo', aggregateId: 't1', currentVersion: 3 },
    ]);
    expect((await log(strata)).map((row) => [row.version, row.type, row.pending])).toEqual([
      [1, 'TodoAdded', 0],
      [2, 'TodoCompleted', 1],
    ]);
    expect(await strata.db.events.where('id').equals(decided.id).count()).toBe(0);
    expect(await pendingNames(strata)).toEqual(['complete']);
    expect(await todoRows(strata)).toEqual([{ id: 't1', title: 'Milk', status: 'completed' }]);

    // Upstream fills the gap; our rename comes back once, under our command's id.
    await applyUpstream(context, [storedAsPredicted(foreignRename, 29), decided], 'c2');
    const rows = await log(strata);
    expect(rows.map((row) => [row.version, row.type, row.pending, row.serverPosition])).toEqual([
      [1, 'TodoAdded', 0, 1],
      [2, 'TodoRenamed', 0, 29],
      [3, 'TodoRenamed', 0, 30],
      [4, 'TodoCompleted', 1, undefined],
    ]);
    expect(rows[2]?.id).toBe(decided.id);
    expect(await pendingNames(strata)).toEqual(['complete']);
    expect(await todoRows(strata)).toEqual([{ id: 't1', title: 'Oat milk', status: 'completed' }]);
  });

  it("stores no event of another aggregate that an answer claims for our command's", async () => {
    const { strata, context } = await setUp();
    const added = await strata.execute(Todo, 't1', 'add', { title: 'Milk' });
    const stray = storedByServer(only(added.events), 2, { aggregateId: 't2' });
    const outcome = await push(context, 1, ([id]) => answer(accepted(id as string, [stray])));
    expect(outcome.conflicts).toEqual([
      { aggregateType: 'Todo', aggregateId: 't1', currentVersion: 1 },
    ]);
    expect(await strata.db.events.count()).toBe(0);
    expect(await strata.pendingCommands()).toEqual([]);
  });

  it('one aggregate, several answers: accepted, rejected, accepted are applied as one rebase', async () => {
    const { strata, context } = await setUp();
    const added = await strata.execute(Todo, 't1', 'add', { title: 'Milk' });
    await strata.execute(Todo, 't1', 'rename', { title: 'Oat milk' });
    const completed = await strata.execute(Todo, 't1', 'complete', {});
    const serverAdd = storedByServer(only(added.events), 1);
    // Decided on the server's state: the refused rename does not hold up the complete.
    const serverComplete = storedByServer(only(completed.events), 2, { version: 2 });

    const outcome = await push(context, 10, ([add, rename, complete]) =>
      answer(
        accepted(add as string, [serverAdd]),
        {
          commitId: rename as string,
          status: 'rejected',
          code: 'DOMAIN_RULE_VIOLATED',
          message: 'Renames are closed',
          currentVersion: 1,
        },
        accepted(complete as string, [serverComplete]),
      ),
    );
    expect(outcome.accepted).toBe(2);
    expect(outcome.conflicts).toEqual([]);
    expect(outcome.rejected.map((row) => [row.command, row.reason])).toEqual([
      ['rename', 'Renames are closed'],
    ]);
    expect((await log(strata)).map((row) => [row.version, row.id, row.pending])).toEqual([
      [1, serverAdd.id, 0],
      [2, serverComplete.id, 0],
    ]);
    expect(await strata.pendingCommands()).toEqual([]);
    expect(await todoRows(strata)).toEqual([{ id: 't1', title: 'Milk', status: 'completed' }]);
  });

  it('changes nothing for an accepted command upstream already brought back', async () => {
    const { strata, context } = await setUp();
    const added = await strata.execute(Todo, 't1', 'add', { title: 'Milk' });
    const commits = await collectCommits(context, 500, 200);
    const decided = storedByServer(only(added.events), 3);
    await applyUpstream(context, [decided], 'c1');
    const before = await strata.db.events.toArray();
    expect(before.map((row) => [row.id, row.pending])).toEqual([[decided.id, 0]]);

    const outcome = await applyPushResults(
      context,
      commits,
      answer(accepted(commits[0]?.commitId as string, [decided])),
    );
    expect(outcome).toEqual({ accepted: 1, conflicts: [], rejected: [], retryLater: 0 });
    expect(await strata.db.events.toArray()).toEqual(before);
    expect(await strata.pendingCommands()).toEqual([]);
  });
});
