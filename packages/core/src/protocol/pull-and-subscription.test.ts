import { describe, expect, expectTypeOf, it } from 'vitest';
import type { $ZodType } from 'zod/v4/core';
import { safeParseSchema } from '../errors/validation-issues.ts';
import { newKsuid } from '../ids/ksuid.ts';
import { CursorSchema, StoredEventSchema } from './event-schemas.ts';
import { MAX_PULL_LIMIT, PullQuerySchema, PullResponseSchema } from './pull.ts';
import { SubscribeQuerySchema, SubscriptionMessageSchema } from './subscription.ts';

type Json = Record<string, unknown>;

function storedEvent(overrides: Json = {}): Json {
  return {
    id: newKsuid(),
    type: 'TodoAdded',
    schemaVersion: 1,
    aggregateType: 'Todo',
    aggregateId: 'todo-1',
    version: 1,
    occurredAt: '2024-02-29T12:34:56.000Z',
    data: { title: 'Milk' },
    metadata: { clientId: 'client-1' },
    position: 1,
    recordedAt: '2024-02-29T12:34:57.123Z',
    ...overrides,
  };
}

function paths(schema: $ZodType, input: unknown): PropertyKey[][] {
  const result = safeParseSchema(schema, input);
  if (result.success) throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
  const seen = new Map<string, PropertyKey[]>();
  for (const { path } of result.error.issues) seen.set(JSON.stringify(path), path);
  return [...seen.values()];
}

describe('PullQuerySchema', () => {
  it('defaults limit to 100 and leaves after absent', () => {
    const parsed = PullQuerySchema.parse({});
    expect(parsed).toEqual({ limit: 100 });
    expect('after' in parsed).toBe(false);
  });

  it('defaults limit when it is undefined', () => {
    expect(PullQuerySchema.parse({ limit: undefined }).limit).toBe(100);
  });

  it('coerces limit from a query string value', () => {
    const parsed = PullQuerySchema.parse({ after: 'abc', limit: '25' });
    expect(parsed).toEqual({ after: 'abc', limit: 25 });
    expect(typeof parsed.limit).toBe('number');
    expectTypeOf(parsed.limit).toEqualTypeOf<number>();
  });

  it('parses a URLSearchParams object', () => {
    const query = Object.fromEntries(new URLSearchParams('after=c_1.2~x-y&limit=7'));
    expect(PullQuerySchema.parse(query)).toEqual({ after: 'c_1.2~x-y', limit: 7 });
  });

  it.each([
    ['1', 1],
    [String(MAX_PULL_LIMIT), MAX_PULL_LIMIT],
    [1, 1],
    [MAX_PULL_LIMIT, MAX_PULL_LIMIT],
  ])('accepts limit %j at the bounds', (limit, expected) => {
    expect(PullQuerySchema.parse({ limit }).limit).toBe(expected);
  });

  it('caps the limit at 1000', () => {
    expect(MAX_PULL_LIMIT).toBe(1000);
  });

  it.each([
    '0',
    '-1',
    String(MAX_PULL_LIMIT + 1),
    '1.5',
    'abc',
    '',
    'NaN',
    'Infinity',
    0,
    1001,
    2.5,
    '1e2',
    ' 5 ',
    true,
    ['7'],
  ])('rejects limit %j, at limit', (limit) => {
    expect(paths(PullQuerySchema, { limit })).toEqual([['limit']]);
  });

  it.each(['a', 'ABCxyz019', '0000000001.00000042', 'tx_17-pos_99~v1', 'x'.repeat(200)])(
    'accepts cursor %s',
    (after) => {
      expect(PullQuerySchema.parse({ after }).after).toBe(after);
      expect(CursorSchema.safeParse(after).success).toBe(true);
    },
  );

  it.each([
    ['empty', ''],
    ['too long', 'x'.repeat(201)],
    ['a space', 'a b'],
    ['a slash', 'a/b'],
    ['a plus', 'a+b'],
    ['an equals sign', 'abc='],
    ['a percent escape', 'a%20b'],
    ['a colon', 'tx:1'],
    ['a newline', 'abc\n'],
    ['a non-ASCII letter', 'curs\u00e9r'],
    ['a quote', "a'b"],
  ])('rejects a cursor with %s, at after', (_, after) => {
    expect(paths(PullQuerySchema, { after })).toEqual([['after']]);
  });

  it('rejects a non-string cursor', () => {
    expect(paths(PullQuerySchema, { after: 5 })).toEqual([['after']]);
  });

  it('rejects unknown query keys', () => {
    const result = PullQuerySchema.safeParse({ after: 'abc', limit: '5', offset: '2' });
    expect(result.success).toBe(false);
    expect(result.error?.issues).toEqual([
      expect.objectContaining({ code: 'unrecognized_keys', keys: ['offset'], path: [] }),
    ]);
  });
});

describe('PullResponseSchema', () => {
  it('parses events, cursor and hasMore', () => {
    const body = {
      events: [storedEvent(), storedEvent({ version: 2, position: 5 })],
      cursor: 'next_1',
      hasMore: true,
    };
    expect(PullResponseSchema.parse(body)).toEqual(body);
  });

  it('parses an empty page', () => {
    expect(PullResponseSchema.parse({ events: [], cursor: 'c', hasMore: false })).toEqual({
      events: [],
      cursor: 'c',
      hasMore: false,
    });
  });

  it.each([
    ['missing cursor', { events: [], hasMore: false }, ['cursor']],
    ['a bad cursor', { events: [], cursor: 'a b', hasMore: false }, ['cursor']],
    ['hasMore as a string', { events: [], cursor: 'c', hasMore: 'true' }, ['hasMore']],
    ['missing hasMore', { events: [], cursor: 'c' }, ['hasMore']],
    ['events not an array', { events: {}, cursor: 'c', hasMore: false }, ['events']],
  ])('rejects %s', (_, body, path) => {
    expect(paths(PullResponseSchema, body)).toEqual([path]);
  });

  it.each([
    ['position', undefined],
    ['position', 0],
    ['position', -3],
    ['position', 1.5],
    ['position', '1'],
    ['recordedAt', undefined],
    ['recordedAt', 'later'],
    ['version', 0],
    ['id', 'not-a-ksuid'],
  ])('rejects a stored event whose %s is %j, at that field', (field, value) => {
    const body = {
      events: [storedEvent(), storedEvent({ [field]: value })],
      cursor: 'c',
      hasMore: false,
    };
    expect(paths(PullResponseSchema, body)).toEqual([['events', 1, field]]);
  });

  it('rejects unknown keys on the response and on stored events', () => {
    expect(
      PullResponseSchema.safeParse({ events: [], cursor: 'c', hasMore: false, total: 3 }).success,
    ).toBe(false);
    expect(
      paths(PullResponseSchema, {
        events: [storedEvent({ tenantId: 't1' })],
        cursor: 'c',
        hasMore: false,
      }),
    ).toEqual([['events', 0]]);
    expect(StoredEventSchema.safeParse(storedEvent({ tenantId: 't1' })).success).toBe(false);
  });

  it('rejects unsafe keys in stored event data', () => {
    const text = JSON.stringify({
      events: [storedEvent({ data: 'X' })],
      cursor: 'c',
      hasMore: false,
    });
    const body = JSON.parse(
      text.replace('"data":"X"', '"data":{"__proto__":{"admin":true}}'),
    ) as unknown;
    expect(paths(PullResponseSchema, body)).toEqual([['events', 0, 'data', '__proto__']]);
  });
});

describe('SubscribeQuerySchema', () => {
  it('accepts no cursor or a valid one, and rejects a bad one or unknown keys', () => {
    expect(SubscribeQuerySchema.parse({})).toEqual({});
    expect(SubscribeQuerySchema.parse({ after: 'abc.1' })).toEqual({ after: 'abc.1' });
    expect(paths(SubscribeQuerySchema, { after: 'a/b' })).toEqual([['after']]);
    expect(SubscribeQuerySchema.safeParse({ after: 'a', limit: '5' }).success).toBe(false);
  });
});

describe('SubscriptionMessageSchema', () => {
  it('parses an event message and narrows on kind', () => {
    const message = { kind: 'event', cursor: 'c_1', event: storedEvent() };
    const parsed = SubscriptionMessageSchema.parse(message);
    expect(parsed).toEqual(message);
    if (parsed.kind !== 'event') throw new Error('expected an event message');
    expectTypeOf(parsed.event.position).toEqualTypeOf<number>();
    expect(parsed.event.position).toBe(1);
  });

  it('parses caught-up and heartbeat messages', () => {
    expect(SubscriptionMessageSchema.parse({ kind: 'caught-up', cursor: 'c_9' })).toEqual({
      kind: 'caught-up',
      cursor: 'c_9',
    });
    expect(SubscriptionMessageSchema.parse({ kind: 'heartbeat' })).toEqual({ kind: 'heartbeat' });
  });

  it('parses a closing message, with or without the cursor to resume after', () => {
    const closing = { kind: 'closing', reason: 'slow-reader', resumeAfter: 'c_7' };
    expect(SubscriptionMessageSchema.parse(closing)).toEqual(closing);
    expect(SubscriptionMessageSchema.parse({ kind: 'closing', reason: 'slow-reader' })).toEqual({
      kind: 'closing',
      reason: 'slow-reader',
    });
  });

  it('parses messages from their JSON text', () => {
    const text = JSON.stringify({ kind: 'event', cursor: 'c', event: storedEvent() });
    expect(SubscriptionMessageSchema.safeParse(JSON.parse(text)).success).toBe(true);
  });

  it.each([
    ['an unknown kind', { kind: 'ping' }, ['kind']],
    ['no kind', { cursor: 'c' }, ['kind']],
    ['an event without event', { kind: 'event', cursor: 'c' }, ['event']],
    ['an event without cursor', { kind: 'event', event: storedEvent() }, ['cursor']],
    ['an event with a bad cursor', { kind: 'event', cursor: '', event: storedEvent() }, ['cursor']],
    [
      'an event with an unstored event',
      { kind: 'event', cursor: 'c', event: storedEvent({ position: undefined }) },
      ['event', 'position'],
    ],
    ['caught-up without cursor', { kind: 'caught-up' }, ['cursor']],
    ['caught-up with a bad cursor', { kind: 'caught-up', cursor: 'x y' }, ['cursor']],
    ['closing without a reason', { kind: 'closing' }, ['reason']],
    ['closing with an unknown reason', { kind: 'closing', reason: 'bored' }, ['reason']],
    [
      'closing with a bad cursor',
      { kind: 'closing', reason: 'slow-reader', resumeAfter: 'x y' },
      ['resumeAfter'],
    ],
  ])('rejects %s', (_, message, path) => {
    expect(paths(SubscriptionMessageSchema, message)).toEqual([path]);
  });

  it.each([
    ['a heartbeat with a cursor', { kind: 'heartbeat', cursor: 'c' }],
    ['caught-up with an event', { kind: 'caught-up', cursor: 'c', event: storedEvent() }],
    ['an event with extra keys', { kind: 'event', cursor: 'c', event: storedEvent(), retry: 5 }],
  ])('rejects %s (variants are strict)', (_, message) => {
    const result = SubscriptionMessageSchema.safeParse(message);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.code).toBe('unrecognized_keys');
  });

  it.each([null, 'heartbeat', [], 1])('rejects the non-object %j', (message) => {
    expect(SubscriptionMessageSchema.safeParse(message).success).toBe(false);
  });
});
