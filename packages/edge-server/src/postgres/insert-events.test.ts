import type { NewEvent } from '@strata/core';
import { describe, expect, it } from 'vitest';
import { insertEventsStatement, insertRowsStatement } from './insert-events.ts';

const event = (id: string): NewEvent => ({
  id,
  type: 'NoteAdded',
  schemaVersion: 1,
  data: { text: id },
  metadata: {},
  occurredAt: '2026-01-01T00:00:00.000Z',
});

describe('insertEventsStatement', () => {
  const stream = { aggregateType: 'Note', aggregateId: 'n1' };

  it('takes the tenant first, then one array per column in the given order', () => {
    const { params } = insertEventsStatement('acme', stream, [event('a'), event('b')], 4);
    expect(params).toEqual([
      'acme',
      ['a', 'b'],
      ['Note', 'Note'],
      ['n1', 'n1'],
      ['NoteAdded', 'NoteAdded'],
      [1, 1],
      [4, 5],
      ['{"text":"a"}', '{"text":"b"}'],
      ['{}', '{}'],
      ['2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z'],
    ]);
  });

  it('keeps the same text and parameter count whatever the number of events', () => {
    const one = insertEventsStatement('acme', stream, [event('a')], 1);
    const many = insertEventsStatement('acme', stream, [event('a'), event('b'), event('c')], 1);
    expect(many.text).toBe(one.text);
    expect(many.params).toHaveLength(one.params.length);
    expect(one.text).not.toContain('pg_notify'); // after COMMIT: notify-appended.ts
    expect(Math.max(...[...one.text.matchAll(/\$(\d+)/g)].map((match) => Number(match[1])))).toBe(
      one.params.length,
    );
  });

  it('bumps the tenant counter by the number of events and numbers them in the given order', () => {
    const { text } = insertEventsStatement('acme', stream, [event('a')], 1);
    expect(text).toMatch(/^WITH numbered AS \(\s+INSERT INTO strata_tenant_positions/);
    expect(text).toContain('numbered.last - cardinality($2::text[]) + v.ordinal');
  });
});

describe('insertRowsStatement', () => {
  it('names each row its own aggregate, so one statement stores many streams', () => {
    const { params } = insertRowsStatement('acme', [
      { stream: { aggregateType: 'Note', aggregateId: 'n1' }, event: event('a'), version: 3 },
      { stream: { aggregateType: 'Todo', aggregateId: 't9' }, event: event('b'), version: 1 },
    ]);
    expect(params.slice(1, 4)).toEqual([
      ['a', 'b'],
      ['Note', 'Todo'],
      ['n1', 't9'],
    ]);
    expect(params[6]).toEqual([3, 1]);
  });
});
