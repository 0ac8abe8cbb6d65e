import { describe, expect, it } from 'vitest';
import type { EventRow } from './event-row.ts';
import type { SqlExecutor } from './sql-database.ts';
import { countAfterTenantCursor, lastTenantPosition, readTenantPage } from './tenant-reads.ts';

const row = (tenantPosition: number): EventRow => ({
  position: 100 + tenantPosition,
  tenant_position: tenantPosition,
  tenant: 'acme',
  transaction_id: '900',
  id: `e${tenantPosition}`,
  type: 'NoteAdded',
  schema_version: 1,
  aggregate_type: 'Note',
  aggregate_id: 'n1',
  version: tenantPosition,
  data: { n: tenantPosition },
  metadata: {},
  occurred_at: '2026-01-01T00:00:00.000Z',
  recorded_at: new Date('2026-01-01T00:00:01.000Z'),
});

/** The tenant's log holds positions 1..`last`; records each statement's parameters. */
function fakeLog(last: number) {
  const calls: (readonly unknown[])[] = [];
  const executor: SqlExecutor = {
    async query<TRow>(text: string, params: readonly unknown[] = []) {
      calls.push(params);
      if (text.includes('SELECT last FROM')) return { rows: [{ last: String(last) }] as TRow[] };
      const [, after, limit] = params as [string, number, number];
      const positions = Array.from({ length: last }, (_, index) => index + 1).filter(
        (position) => position > after,
      );
      return { rows: positions.slice(0, limit).map(row) as TRow[] };
    },
  };
  return { executor, calls };
}

describe('readTenantPage', () => {
  it('pages by tenant position: one row more than the limit tells whether more follow', async () => {
    const { executor, calls } = fakeLog(5);
    const page = await readTenantPage(executor, 'acme', { after: 't1', limit: 2 });
    expect(page.events.map((event) => event.tenantPosition)).toEqual([2, 3]);
    expect(page.cursor).toBe('t3');
    expect(page.hasMore).toBe(true);
    expect(calls).toEqual([['acme', 1, 3]]);
    expect(page.events[0]).toMatchObject({
      tenantCursor: 't2',
      recordedAt: '2026-01-01T00:00:01.000Z',
    });
  });

  it('an empty page keeps the cursor it was read after', async () => {
    const { executor } = fakeLog(3);
    expect(await readTenantPage(executor, 'acme', { after: 't3' })).toEqual({
      events: [],
      cursor: 't3',
      hasMore: false,
    });
  });

  it('a cursor past the tenant’s end is INVALID_CURSOR, checked on empty pages only', async () => {
    const { executor, calls } = fakeLog(3);
    await expect(readTenantPage(executor, 'acme', { after: 't9' })).rejects.toMatchObject({
      code: 'INVALID_CURSOR',
    });
    expect(calls).toHaveLength(2);
    const start = fakeLog(0);
    expect((await readTenantPage(start.executor, 'acme')).cursor).toBe('t0');
    expect(start.calls).toHaveLength(1);
  });
});

describe('counting by tenant position', () => {
  it('is a subtraction from the last position, never below zero', async () => {
    const { executor } = fakeLog(7);
    expect(await lastTenantPosition(executor, 'acme')).toBe(7);
    expect(await countAfterTenantCursor(executor, 'acme', 't2')).toBe(5);
    expect(await countAfterTenantCursor(executor, 'acme')).toBe(7);
    expect(await countAfterTenantCursor(executor, 'acme', 't9')).toBe(0);
  });
});
