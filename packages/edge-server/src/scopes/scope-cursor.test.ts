import { CursorSchema, InvalidCursorError } from '@strata/core';
import { describe, expect, it } from 'vitest';
import {
  compareScopePositions,
  decodeScopeCursor,
  encodeScopeCursor,
  SCOPE_START,
} from './scope-cursor.ts';

describe('scope cursors', () => {
  it('round-trip a scope position and fit the protocol cursor charset', () => {
    for (const position of [
      { eff: 0, pos: 0 },
      { eff: 12, pos: 7 },
      { eff: 12, pos: 12 },
      { eff: Number.MAX_SAFE_INTEGER, pos: 1 },
    ]) {
      const cursor = encodeScopeCursor(position);
      expect(CursorSchema.safeParse(cursor).success).toBe(true);
      expect(decodeScopeCursor(cursor)).toEqual(position);
    }
    expect(encodeScopeCursor({ eff: 12, pos: 7 })).toBe('s12.7');
  });

  it('read absent and empty as the start', () => {
    expect(decodeScopeCursor(undefined)).toEqual(SCOPE_START);
    expect(decodeScopeCursor('')).toEqual(SCOPE_START);
  });

  it.each([
    ['t12', 'a tenant cursor'],
    ['977.1001', 'a global cursor'],
    ['s12', 'no pos'],
    ['s012.1', 'a leading zero (two spellings of one place)'],
    ['s3.4', 'pos past eff: no row has one'],
    ['s-1.0', 'a negative position'],
    ['s1.0 ', 'trailing space'],
    ['s99999999999999999.0', 'beyond 2^53'],
    ['S1.0', 'upper case'],
  ])('refuse %j as INVALID_CURSOR (%s)', (text) => {
    expect(() => decodeScopeCursor(text)).toThrow(InvalidCursorError);
  });

  it('encode only positions a scope can have', () => {
    expect(() => encodeScopeCursor({ eff: 3, pos: 4 })).toThrow(RangeError);
    expect(() => encodeScopeCursor({ eff: -1, pos: 0 })).toThrow(RangeError);
    expect(() => encodeScopeCursor({ eff: 1.5, pos: 0 })).toThrow(RangeError);
  });

  it('order by eff, then pos', () => {
    expect(compareScopePositions({ eff: 2, pos: 1 }, { eff: 1, pos: 1 })).toBeGreaterThan(0);
    expect(compareScopePositions({ eff: 2, pos: 1 }, { eff: 2, pos: 2 })).toBeLessThan(0);
    expect(compareScopePositions({ eff: 2, pos: 2 }, { eff: 2, pos: 2 })).toBe(0);
  });
});
