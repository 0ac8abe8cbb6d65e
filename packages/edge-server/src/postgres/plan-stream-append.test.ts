import { ANY, type NewEvent, NO_STREAM, STREAM_EXISTS } from '@strata/core';
import { describe, expect, it } from 'vitest';
import { locksStream, looksUpStoredIds, planStreamAppend } from './plan-stream-append.ts';
import type { SqlExecutor } from './sql-database.ts';

/** Answers the version query with `version` and the id lookup with no rows; records the statements. */
function fakeExecutor(version: number) {
  const statements: string[] = [];
  const executor: SqlExecutor = {
    async query<TRow>(text: string) {
      statements.push(text.trim().split(/\s+/).slice(0, 3).join(' '));
      return { rows: (text.includes('max(version)') ? [{ version }] : []) as TRow[] };
    },
  };
  return { executor, statements };
}

const stream = { aggregateType: 'Note', aggregateId: 'n1' };
const events: NewEvent[] = [
  {
    id: 'e1',
    type: 'NoteAdded',
    schemaVersion: 1,
    data: {},
    metadata: {},
    occurredAt: '2026-01-01T00:00:00.000Z',
  },
];

describe('locksStream', () => {
  it('locks for writers that append wherever the stream ends, not for exact versions', () => {
    expect(
      ([ANY, STREAM_EXISTS, NO_STREAM, 0, 3] as const).map((expected) => locksStream(expected)),
    ).toEqual([true, true, false, false, false]);
  });
});

describe('looksUpStoredIds', () => {
  it('looks ids up only when the version does not fit or a writer raced this one', () => {
    expect(looksUpStoredIds(3, 3, false)).toBe(false);
    expect(looksUpStoredIds(3, 3, true)).toBe(true);
    expect(looksUpStoredIds(2, 3, false)).toBe(true);
    expect(looksUpStoredIds(ANY, 3, false)).toBe(false);
  });
});

describe('planStreamAppend', () => {
  it('an exact version that fits: the version query only, appending after it', async () => {
    const { executor, statements } = fakeExecutor(3);
    const { plan, currentVersion } = await planStreamAppend(
      executor,
      'acme',
      stream,
      events,
      3,
      false,
    );
    expect(plan).toEqual({ kind: 'append', firstVersion: 4 });
    expect(currentVersion).toBe(3);
    expect(statements).toEqual(['SELECT max(version) AS']);
  });

  it('ANY: the stream lock first; a raced retry looks the ids up', async () => {
    const { executor, statements } = fakeExecutor(0);
    const { plan } = await planStreamAppend(executor, 'acme', stream, events, ANY, true);
    expect(plan).toEqual({ kind: 'append', firstVersion: 1 });
    expect(statements).toEqual([
      'SELECT pg_advisory_xact_lock(hashtextextended($1, 0))',
      'SELECT max(version) AS',
      'SELECT position, tenant_position,',
    ]);
  });

  it('a version that does not fit looks the ids up, then is a typed conflict', async () => {
    const { executor, statements } = fakeExecutor(5);
    await expect(
      planStreamAppend(executor, 'acme', stream, events, 2, false),
    ).rejects.toMatchObject({ code: 'VERSION_CONFLICT' });
    expect(statements).toHaveLength(2);
  });
});
