import { describe, expect, it } from 'vitest';
import { EventEnvelopeSchema, NameSchema, VersionSchema } from './event-schemas.ts';
import { JsonObjectSchema, JsonValueSchema } from './json-schema.ts';
import { PushEnvelopeSchema } from './push.ts';
import { isSafeText, SafeTextSchema, TimestampSchema, unsafeTextReason } from './safe-text.ts';
import { StreamHistoryQuerySchema, StreamParamsSchema } from './streams.ts';

const event = {
  id: '2QpVfYz9bB8bM1cZ3m4k5n6o7pQ',
  type: 'NoteAdded',
  schemaVersion: 1,
  aggregateType: 'Note',
  aggregateId: 'n1',
  version: 1,
  occurredAt: '2026-12-01T10:00:00.000Z',
  data: { text: 'hi' },
  metadata: {},
};

describe('safe text', () => {
  it.each([
    ['plain', true],
    ['', true],
    ['emoji 😀 pair', true],
    ['\uffff and \ufffd', true],
    ['a\u0000b', false],
    ['x\ud800', false],
    ['x\udbff', false],
    ['\udc00x', false],
    ['😀\ude00', false],
    ['\ud83d', false],
  ])('%j is safe: %s', (text, safe) => {
    expect(isSafeText(text)).toBe(safe);
    expect(unsafeTextReason(text) === undefined).toBe(safe);
    expect(SafeTextSchema.safeParse(text).success).toBe(safe);
  });

  it('names the problem: NUL or the lone surrogate', () => {
    expect(unsafeTextReason('a\u0000')).toMatch(/NUL/);
    expect(unsafeTextReason('x\ud800')).toMatch(/lone surrogate \(U\+D800 at 1\)/);
  });

  it('keeps two lone surrogates apart: both ids are refused, not merged into U+FFFD', () => {
    expect(NameSchema.safeParse('x\ud800').success).toBe(false);
    expect(NameSchema.safeParse('x\udbff').success).toBe(false);
    expect(
      StreamParamsSchema.safeParse({ aggregateType: 'T', aggregateId: 'x\ud800' }).success,
    ).toBe(false);
    expect(
      StreamParamsSchema.safeParse({ aggregateType: 'T\u0000', aggregateId: 'x' }).success,
    ).toBe(false);
  });

  it('refuses NUL and lone surrogates anywhere in JSON data, keys included', () => {
    for (const bad of [
      'a\u0000',
      ['ok', { deep: ['x\ud800'] }],
      { 'k\u0000': 1 },
      { nested: { 'k\udfff': true } },
    ]) {
      expect(JsonValueSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
    expect(JsonValueSchema.safeParse({ text: '😀', list: [1, 'two'] }).success).toBe(true);
    expect(JsonObjectSchema.safeParse({ 'k\ud800': 1 }).success).toBe(false);
  });

  it('checks every name and the metadata of an event envelope', () => {
    expect(EventEnvelopeSchema.safeParse(event).success).toBe(true);
    for (const [key, value] of [
      ['type', 'T\u0000'],
      ['aggregateType', 'x\ud800'],
      ['aggregateId', 'x\udbff'],
      ['data', { text: 'a\u0000' }],
      ['metadata', { userId: 'u\ud800' }],
      ['metadata', { app: ['\u0000'] }],
    ] as const) {
      expect(EventEnvelopeSchema.safeParse({ ...event, [key]: value }).success, key).toBe(false);
    }
    expect(
      PushEnvelopeSchema.safeParse({ clientId: 'c\u0000', commits: [{ commitId: 'a' }] }).success,
    ).toBe(false);
    expect(
      PushEnvelopeSchema.safeParse({ clientId: 'c', commits: [{ commitId: 'a\ud800' }] }).success,
    ).toBe(false);
  });
});

describe('timestamps', () => {
  it.each([
    ['2026-12-01T10:00:00Z', true],
    ['2026-12-01T10:00:00.123456+02:00', true],
    ['0001-01-01T00:00:00Z', true],
    ['9999-12-31T23:59:59.999Z', true],
    ['0000-01-01T00:00:00Z', false],
    ['0001-01-01T00:00:00+01:00', false], // year 0 in UTC
    ['9999-12-31T23:00:00-02:00', false], // year 10000 in UTC
    ['2026-13-01T00:00:00Z', false],
    ['2024-01-01T00:00:00.9999996Z', false], // Postgres would round it to another second
    ['9999-12-31T23:59:59.9999995Z', false],
    ['not a time', false],
  ])('%s is accepted: %s', (time, ok) => {
    expect(TimestampSchema.safeParse(time).success).toBe(ok);
    expect(EventEnvelopeSchema.safeParse({ ...event, occurredAt: time }).success).toBe(ok);
  });
});

describe('integers within the columns', () => {
  it('versions are Postgres integers', () => {
    expect(VersionSchema.safeParse(2_147_483_647).success).toBe(true);
    expect(VersionSchema.safeParse(2_147_483_648).success).toBe(false);
    expect(VersionSchema.safeParse(0).success).toBe(false);
  });

  it('fromVersion in a query string is a Postgres integer too', () => {
    expect(StreamHistoryQuerySchema.safeParse({ fromVersion: '2147483647' }).success).toBe(true);
    expect(StreamHistoryQuerySchema.safeParse({ fromVersion: '2147483648' }).success).toBe(false);
    expect(StreamHistoryQuerySchema.safeParse({ fromVersion: '99999999999' }).success).toBe(false);
    expect(StreamHistoryQuerySchema.safeParse({ limit: '1000000' }).success).toBe(false);
  });
});
