import { Cart } from '@strata/example-todo';
import { describe, expect, it } from 'vitest';
import { useMigratedPglite } from '../../test/fixtures/migrated-pglite.ts';
import { createSyncApp } from '../app/create-sync-app.ts';
import { pgliteDatabase } from '../postgres/pglite-database.ts';
import { purgeDecidedCommands } from './purge-decided-commands.ts';

const pglite = useMigratedPglite();

describe('purgeDecidedCommands', () => {
  it('deletes only commands decided before the cut-off, a limited batch at a time; events stay', async () => {
    const db = pgliteDatabase(pglite());
    const app = createSyncApp({
      database: db,
      authenticate: () => ({ tenant: 't', subject: 'ann' }),
      aggregates: [Cart],
    });
    const principal = { tenant: 't', subject: 'ann' };
    const run = (commandId: string, name: string, input: unknown) =>
      app.execute(principal, { commandId, aggregateType: 'Cart', aggregateId: 'c1', name, input });
    await run('open', 'open', {});
    for (let i = 0; i < 4; i++) await run(`add-${i}`, 'addItem', { sku: `s${i}` });
    const count = async (sql: string) => Number((await db.query<{ n: number }>(sql)).rows[0]?.n);
    expect(await count('SELECT count(*)::integer AS n FROM strata_commands')).toBe(5);
    // Decided just now: kept by a one-hour retention.
    expect(await purgeDecidedCommands(db, { olderThanMs: 3_600_000 })).toBe(0);
    await db.query(
      "UPDATE strata_commands SET decided_at = now() - interval '2 hours' WHERE command_id <> 'add-3'",
    );
    expect(await purgeDecidedCommands(db, { olderThanMs: 3_600_000, limit: 3 })).toBe(3);
    expect(await purgeDecidedCommands(db, { olderThanMs: 3_600_000, limit: 3 })).toBe(1);
    expect((await db.query('SELECT command_id FROM strata_commands')).rows).toEqual([
      { command_id: 'add-3' },
    ]);
    expect(
      await count("SELECT count(*)::integer AS n FROM strata_events WHERE aggregate_id = 'c1'"),
    ).toBe(5);
    // The recent command still answers its re-push with what it stored.
    expect((await run('add-3', 'addItem', { sku: 's3' })).map((event) => event.version)).toEqual([
      5,
    ]);
    await expect(purgeDecidedCommands(db, { olderThanMs: -1 })).rejects.toThrow(RangeError);
    await expect(purgeDecidedCommands(db, { olderThanMs: 1, limit: 0 })).rejects.toThrow(
      RangeError,
    );
    await app.close();
  });
});
