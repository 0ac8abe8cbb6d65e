import { describe, expect, it } from 'vitest';
import { createCatchUpBuffer } from './catch-up-buffer.ts';
import { approximateEventBytes, createLiveBacklog } from './live-backlog.ts';
import { createSubscriptionSlots, principalSlotKey } from './subscription-slots.ts';

describe('createSubscriptionSlots', () => {
  it('caps open subscriptions per principal; release frees one slot, once', () => {
    const slots = createSubscriptionSlots({ maxPerPrincipal: 2, maxTotal: 10 });
    const a = principalSlotKey({ tenant: 't', subject: 'a' });
    const first = slots.acquire(a);
    const second = slots.acquire(a);
    expect(slots.acquire(a)).toEqual({ refused: 'principal' });
    expect('release' in slots.acquire(principalSlotKey({ tenant: 't', subject: 'b' }))).toBe(true);
    if (!('release' in first) || !('release' in second)) throw new Error('expected slots');
    first.release();
    first.release(); // idempotent: must not free the second slot too
    expect(slots.count(a)).toBe(1);
    expect('release' in slots.acquire(a)).toBe(true);
    expect(slots.acquire(a)).toEqual({ refused: 'principal' });
    expect(slots.count()).toBe(3);
  });

  it('caps open subscriptions in all', () => {
    const slots = createSubscriptionSlots({ maxPerPrincipal: 5, maxTotal: 2 });
    slots.acquire('a');
    const b = slots.acquire('b');
    expect(slots.acquire('c')).toEqual({ refused: 'total' });
    if ('release' in b) b.release();
    expect('release' in slots.acquire('c')).toBe(true);
  });

  it('keys principals unambiguously', () => {
    expect(principalSlotKey({ tenant: 'a,b', subject: 'c' })).not.toBe(
      principalSlotKey({ tenant: 'a', subject: 'b,c' }),
    );
  });
});

describe('createCatchUpBuffer', () => {
  it('keeps items up to its size, then forgets them until the next take', () => {
    const buffer = createCatchUpBuffer<string>(10, (item) => item.length);
    buffer.push('abcd');
    buffer.push('efgh');
    expect(buffer.take()).toEqual(['abcd', 'efgh']);
    buffer.push('123456');
    buffer.push('789012'); // 12 bytes: over
    buffer.push('x'); // forgotten too: the log must be read again
    expect(buffer.take()).toBeUndefined();
    buffer.push('y');
    expect(buffer.take()).toEqual(['y']);
  });
});

describe('createLiveBacklog', () => {
  it('admits up to its size and frees on release', () => {
    const backlog = createLiveBacklog<{ n: number }>(10, (item) => item.n);
    const a = { n: 6 };
    const b = { n: 5 };
    expect(backlog.admit(a)).toBe(true);
    expect(backlog.admit(b)).toBe(false);
    backlog.release(b); // never admitted: ignored
    expect(backlog.bytes).toBe(6);
    backlog.release(a);
    backlog.release(a);
    expect(backlog.bytes).toBe(0);
    expect(backlog.admit(b)).toBe(true);
  });

  it('sizes an event by its JSON', () => {
    const event = {
      id: 'e',
      type: 'Noted',
      schemaVersion: 1,
      aggregateType: 'Note',
      aggregateId: 'n',
      version: 1,
      occurredAt: '2026-11-22T10:00:00.000Z',
      data: { text: 'x'.repeat(1000) },
      metadata: {},
      position: 1,
      recordedAt: '2026-11-22T10:00:00.000Z',
    };
    expect(approximateEventBytes(event)).toBe(JSON.stringify(event).length);
  });
});
