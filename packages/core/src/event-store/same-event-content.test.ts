import { describe, expect, it } from 'vitest';
import { forgottenPayload } from '../crypto/forgotten.ts';
import type { NewEvent, StoredEvent } from '../events/event.ts';
import { canonicalJson, differingField } from './same-event-content.ts';

const stored: StoredEvent = {
  id: '2QpVfYz9bB8bM1cZ3m4k5n6o7pQ',
  type: 'NoteAdded',
  schemaVersion: 1,
  aggregateType: 'Note',
  aggregateId: 'n1',
  version: 1,
  occurredAt: '2026-12-01T10:00:00.000Z',
  data: { text: 'hi', list: [1, { b: 2, a: 1 }] },
  metadata: { commandId: 'c1', clientId: 'client-a', userId: 'u1' },
  position: 7,
  recordedAt: '2026-12-01T10:00:01.000Z',
};
const {
  position: _p,
  recordedAt: _r,
  aggregateType: _t,
  aggregateId: _i,
  version: _v,
  ...base
} = stored;
const event: NewEvent = base;

describe('canonicalJson', () => {
  it('sorts keys at every level, drops undefined members, writes one form per number', () => {
    expect(canonicalJson({ b: 1, a: [2, { d: null, c: 1.0, e: undefined }] })).toBe(
      '{"a":[2,{"c":1,"d":null}],"b":1}',
    );
    expect(canonicalJson(JSON.parse('{"x": 1e2}'))).toBe(canonicalJson({ x: 100 }));
    expect(canonicalJson({ a: 1 })).not.toBe(canonicalJson({ a: '1' }));
  });
});

describe('differingField', () => {
  it('the same event in another key order, time zone and fraction form is a retry', () => {
    expect(differingField(stored, event)).toBeUndefined();
    expect(
      differingField(stored, {
        ...event,
        occurredAt: '2026-12-01T12:00:00.000400+02:00',
        data: JSON.parse('{"list": [1.0, {"a": 1, "b": 2}], "text": "hi"}'),
        metadata: { commandId: 'c1' },
      }),
    ).toBeUndefined();
  });

  it('server-stamped keys do not count; every other field does', () => {
    expect(
      differingField(stored, {
        ...event,
        metadata: { commandId: 'c1', clientId: 'b', userId: 'x' },
      }),
    ).toBeUndefined();
    expect(differingField(stored, { ...event, type: 'NoteRemoved' })).toBe('type');
    expect(differingField(stored, { ...event, schemaVersion: 2 })).toBe('schemaVersion');
    expect(differingField(stored, { ...event, occurredAt: '2026-12-01T10:00:00.001Z' })).toBe(
      'occurredAt',
    );
    expect(differingField(stored, { ...event, data: { text: 'hi' } })).toBe('data');
    expect(differingField(stored, { ...event, metadata: { commandId: 'c2' } })).toBe('metadata');
  });

  it('shredded data cannot be compared, so it does not count', () => {
    const shredded = { ...stored, data: forgottenPayload('kid-1') };
    expect(differingField(shredded, event)).toBeUndefined();
    expect(differingField(shredded, { ...event, type: 'Other' })).toBe('type');
  });
});
