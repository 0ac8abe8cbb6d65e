// Issue 17: pending commands survive an app update that changes their command's input schema.
// An old app executes commands offline (fake-indexeddb); the new app opens the same database and
// migrates them once: upgraded by the declared upgrader, or rejected visibly with their predicted
// events and projection rows gone, the aggregate's later commands re-run without them.
import 'fake-indexeddb/auto';
import { newKsuid } from '@strata/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type MemoRow,
  memoTables,
  NewMemo,
  newMemoList,
  OldMemo,
  oldMemoList,
} from '../../test/fixtures/memo-versions.ts';
import { createStrata, type Strata } from '../runtime/create-strata.ts';
import { migratePendingCommands } from './migrate-pending-commands.ts';
import { syncContext } from './sync-context.ts';

const opened: Strata[] = [];
afterEach(() => {
  for (const strata of opened.splice(0)) strata.close();
});
let databases = 0;

async function open(name: string, app: 'old' | 'new') {
  const strata = await createStrata({
    name,
    tables: memoTables,
    projections: [app === 'old' ? oldMemoList : newMemoList],
  });
  opened.push(strata);
  return strata;
}

/** The old app, offline: its commands wait in the outbox when it closes. */
async function oldAppOffline() {
  const name = `migrate-pending-${databases++}`;
  const old = await open(name, 'old');
  await old.execute(OldMemo, 'm1', 'write', { text: ' Milk ' });
  await old.execute(OldMemo, 'm2', 'write', { text: 'Bread' });
  await old.execute(OldMemo, 'm2', 'write', { text: 'explode' }); // the upgrader throws
  await old.execute(OldMemo, 'm2', 'write', { text: 'Rye bread' });
  await old.execute(OldMemo, 'm3', 'archive', {}); // a command the new app removed
  await old.execute(OldMemo, 'm1', 'write', { text: '' }); // upgrades to an invalid title
  const before = await old.pendingCommands();
  old.close();
  opened.splice(opened.indexOf(old), 1);
  return { name, before };
}

const rows = async (strata: Strata) =>
  (await strata.db.table<MemoRow, string>('memos').toArray()).sort((a, b) =>
    a.id.localeCompare(b.id),
  );

describe('migratePendingCommands', () => {
  it('upgrades old pending input once, and rejects what cannot be upgraded, visibly', async () => {
    const { name, before } = await oldAppOffline();
    // Old rows carry no input version: they are version 1.
    expect(before.map((row) => row.inputVersion)).toEqual(before.map(() => undefined));
    const strata = await open(name, 'new');
    const context = syncContext(strata, [NewMemo], () => newKsuid());
    const { upgraded, rejected } = await migratePendingCommands(context);

    expect(upgraded).toBe(3);
    const pending = await strata.pendingCommands();
    expect(pending.map((row) => [row.aggregateId, row.input, row.inputVersion])).toEqual([
      ['m1', { title: 'Milk' }, 2],
      ['m2', { title: 'Bread' }, 2],
      ['m2', { title: 'Rye bread' }, 2],
    ]);
    // The rejected ones, with their typed code and reason, in the rejected list.
    const listed = (await strata.db.rejected.toArray()).sort((a, b) =>
      a.aggregateId.localeCompare(b.aggregateId),
    );
    expect(listed.map((row) => [row.aggregateId, row.command, row.code])).toEqual([
      ['m1', 'write', 'VALIDATION_FAILED'],
      ['m2', 'write', 'VALIDATION_FAILED'],
      ['m3', 'archive', 'UNKNOWN_COMMAND'],
    ]);
    expect(rejected.map((row) => row.commandId).sort()).toEqual(
      listed.map((row) => row.commandId).sort(),
    );
    expect(listed[1]?.reason).toContain('could not be upgraded to version 2');
    expect(listed[2]?.reason).toContain('has no command "archive"');

    // Their predicted events went; the aggregate's other commands were re-run without them.
    const m2 = await strata.history(NewMemo, 'm2');
    expect(m2.map((event) => [event.version, event.data.title])).toEqual([
      [1, 'Bread'],
      [2, 'Rye bread'],
    ]);
    expect(pending[2]?.eventIds).toEqual([m2[1]?.id]);
    expect(await strata.history(NewMemo, 'm3')).toEqual([]);
    // m1's first command was re-run too, from its upgraded input.
    expect((await strata.history(NewMemo, 'm1')).map((event) => event.data.title)).toEqual([
      'Milk',
    ]);
    // Projections follow: m2 wrote twice, m3 is gone, m1's invalid write is gone.
    expect(await rows(strata)).toEqual([
      { id: 'm1', title: 'Milk', writes: 1 },
      { id: 'm2', title: 'Rye bread', writes: 2 },
    ]);
    // Every event the pending commands list is there, and no pending event is left unlisted.
    const listedIds = new Set(pending.flatMap((row) => row.eventIds));
    const events = await strata.db.events.toArray();
    expect(
      events
        .filter((event) => event.pending === 1)
        .map((event) => event.id)
        .sort(),
    ).toEqual([...listedIds].sort());

    // Once: a second run (another tab, the next start) changes nothing.
    expect(await migratePendingCommands(context)).toEqual({ upgraded: 0, rejected: [] });
    expect(await strata.pendingCommands()).toEqual(pending);
  });

  it('leaves current rows, unknown aggregates and newer versions alone', async () => {
    const strata = await open(`migrate-pending-${databases++}`, 'new');
    await strata.execute(NewMemo, 'm1', 'write', { title: 'Tea' });
    const [row] = await strata.pendingCommands();
    // A command of input version 2 says so in its row.
    expect(row?.inputVersion).toBe(2);
    // A row a newer app wrote (version 3): this app leaves it for the server to judge.
    await strata.db.commands.update(row?.seq as number, { inputVersion: 3 });
    const none = syncContext(strata, [], () => newKsuid());
    expect(await migratePendingCommands(none)).toEqual({ upgraded: 0, rejected: [] });
    const context = syncContext(strata, [NewMemo], () => newKsuid());
    expect(await migratePendingCommands(context)).toEqual({ upgraded: 0, rejected: [] });
    expect((await strata.pendingCommands())[0]?.inputVersion).toBe(3);
  });

  it('with the same commands as the last migration, it reads one key and not the outbox', async () => {
    const { name } = await oldAppOffline();
    const strata = await open(name, 'new');
    const context = syncContext(strata, [NewMemo], () => newKsuid());
    const first = await migratePendingCommands(context);
    expect(first.upgraded).toBeGreaterThan(0);
    const reads = vi.spyOn(strata.db.commands, 'orderBy');
    expect(await migratePendingCommands(context)).toEqual({ upgraded: 0, rejected: [] });
    expect(reads).not.toHaveBeenCalled();
    // Other commands (another app version, another set of aggregates): the outbox is read again.
    await migratePendingCommands(syncContext(strata, [NewMemo, OldMemo], () => newKsuid()));
    expect(reads).toHaveBeenCalledTimes(1);
  });
});
