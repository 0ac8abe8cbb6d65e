import type { NewEvent } from '@strata/core';
import { describe, expect, it } from 'vitest';
import { EVENTS_CHANNEL } from '../migrations/migrations.ts';
import { insertEventsStatement } from './insert-events.ts';

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

  it('takes the tenant, the stream and the count first, seven values per event, the channel last', () => {
    const { params } = insertEventsStatement('acme', stream, [event('a'), event('b')], 4);
    expect(params).toEqual([
      'acme',
      'Note',
      'n1',
      2,
      ...['a', 'NoteAdded', 1, 4, '{"text":"a"}', '{}', '2026-01-01T00:00:00.000Z'],
      ...['b', 'NoteAdded', 1, 5, '{"text":"b"}', '{}', '2026-01-01T00:00:00.000Z'],
      EVENTS_CHANNEL,
    ]);
  });

  it('numbers the rows in the given order and points every placeholder at its parameter', () => {
    const { text, params } = insertEventsStatement('acme', stream, [event('a'), event('b')], 1);
    expect(text).toContain(
      '(1, $5::text, $6::text, $7::integer, $8::integer, $9::jsonb, $10::jsonb, $11::timestamptz), ' +
        '(2, $12::text, $13::text, $14::integer, $15::integer, $16::jsonb, $17::jsonb, $18::timestamptz)',
    );
    expect(text).toContain(`pg_notify($${params.length}, $1)`);
    expect(Math.max(...[...text.matchAll(/\$(\d+)/g)].map((match) => Number(match[1])))).toBe(
      params.length,
    );
  });

  it('bumps the tenant counter and notifies in the same statement as the INSERT', () => {
    const { text } = insertEventsStatement('acme', stream, [event('a')], 1);
    expect(text).toMatch(/^WITH numbered AS \(\s+INSERT INTO strata_tenant_positions/);
    expect(text).toContain('numbered.last - $4::bigint + v.ordinal');
    expect(text).toContain('SELECT inserted.* FROM inserted, notified');
  });
});
