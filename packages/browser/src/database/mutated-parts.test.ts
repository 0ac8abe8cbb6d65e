import { RangeSet } from 'dexie';
import { describe, expect, it } from 'vitest';
import { mutatesIndex, mutatesRows } from './mutated-parts.ts';

describe('mutatesRows, mutatesIndex', () => {
  const rows = (...keys: number[]) => {
    const set = new RangeSet();
    for (const key of keys) set.addKey(key);
    return set;
  };
  it('see written and deleted rows, index entries, and a change of the whole database', () => {
    const keys = rows(5);
    expect(mutatesRows({ 'idb://db/events/': rows(5) }, 'db', 'events', keys)).toBe(true);
    expect(mutatesRows({ 'idb://db/events/:dels': rows(5) }, 'db', 'events', keys)).toBe(true);
    expect(mutatesRows({ 'idb://db/events/': rows(6) }, 'db', 'events', keys)).toBe(false);
    expect(mutatesRows({ 'idb://other/events/': rows(5) }, 'db', 'events', keys)).toBe(false);
    expect(mutatesRows({ 'idb://db/commands/': rows(5) }, 'db', 'events', keys)).toBe(false);
    expect(mutatesRows({ all: rows(0) }, 'db', 'events', keys)).toBe(true);
    expect(mutatesIndex({ 'idb://db/events/v': rows(5) }, 'db', 'events', 'v', keys)).toBe(true);
    expect(mutatesIndex({ 'idb://db/events/w': rows(5) }, 'db', 'events', 'v', keys)).toBe(false);
    expect(mutatesIndex({ all: rows(0) }, 'db', 'events', 'v', keys)).toBe(true);
  });
});
