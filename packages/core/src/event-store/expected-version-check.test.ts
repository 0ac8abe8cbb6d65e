import { describe, expect, it } from 'vitest';
import { isStrataError } from '../errors/errors.ts';
import { ANY, type ExpectedVersion, NO_STREAM, STREAM_EXISTS } from './expected-version.ts';
import {
  assertExpectedVersion,
  assertValidExpectedVersion,
  matchesExpectedVersion,
} from './expected-version-check.ts';

const ref = { aggregateType: 'Todo', aggregateId: 'todo-1' };

/** Runs `fn` and returns what it threw. */
function thrown(fn: () => void): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

const INVALID: [string, ExpectedVersion][] = [
  ['0', 0],
  ['-0', -0],
  ['-1', -1],
  ['1.5', 1.5],
  ['NaN', Number.NaN],
  ['Infinity', Number.POSITIVE_INFINITY],
  ['-Infinity', Number.NEGATIVE_INFINITY],
  ['MAX_SAFE_INTEGER + 1', Number.MAX_SAFE_INTEGER + 1],
  ['an unknown sentinel', 'ANY' as ExpectedVersion],
  ['a numeric string', '3' as unknown as ExpectedVersion],
  ['null', null as unknown as ExpectedVersion],
];

describe('sentinels', () => {
  it('are distinct strings, none of them a number', () => {
    expect(new Set([ANY, NO_STREAM, STREAM_EXISTS]).size).toBe(3);
    for (const sentinel of [ANY, NO_STREAM, STREAM_EXISTS]) expect(typeof sentinel).toBe('string');
  });
});

describe('matchesExpectedVersion', () => {
  it.each([
    [ANY, 0, true],
    [ANY, 1, true],
    [ANY, 99, true],
    [NO_STREAM, 0, true],
    [NO_STREAM, 1, false],
    [NO_STREAM, 7, false],
    [STREAM_EXISTS, 0, false],
    [STREAM_EXISTS, 1, true],
    [STREAM_EXISTS, 7, true],
    [1, 0, false],
    [1, 1, true],
    [1, 2, false],
    [5, 4, false],
    [5, 5, true],
    [5, 6, false],
  ] as [ExpectedVersion, number, boolean][])(
    'expected %j, actual %i: %s',
    (expected, actual, result) => {
      expect(matchesExpectedVersion(expected, actual)).toBe(result);
    },
  );
});

describe('assertValidExpectedVersion', () => {
  it.each([
    ANY,
    NO_STREAM,
    STREAM_EXISTS,
    1,
    2,
    1000,
    Number.MAX_SAFE_INTEGER,
  ] as ExpectedVersion[])('accepts %j', (expected) => {
    expect(() => assertValidExpectedVersion(expected)).not.toThrow();
  });

  it.each(INVALID)('rejects %s with VALIDATION_FAILED', (_, expected) => {
    const error = thrown(() => assertValidExpectedVersion(expected));
    if (!isStrataError(error, 'VALIDATION_FAILED')) throw error;
    expect(error.issues).toEqual([{ path: ['expectedVersion'], message: expect.any(String) }]);
    expect(error.message).toMatch(/NO_STREAM/);
  });
});

describe('assertExpectedVersion', () => {
  it.each([
    [ANY, 0],
    [ANY, 4],
    [NO_STREAM, 0],
    [STREAM_EXISTS, 1],
    [STREAM_EXISTS, 9],
    [3, 3],
  ] as [ExpectedVersion, number][])('passes for expected %j, actual %i', (expected, actual) => {
    expect(() => assertExpectedVersion(ref, expected, actual)).not.toThrow();
  });

  it.each([
    [NO_STREAM, 1],
    [NO_STREAM, 5],
    [STREAM_EXISTS, 0],
    [3, 0],
    [3, 2],
    [3, 4],
  ] as [ExpectedVersion, number][])(
    'throws VERSION_CONFLICT carrying expected %j and actual %i',
    (expected, actual) => {
      const error = thrown(() => assertExpectedVersion(ref, expected, actual));
      if (!isStrataError(error, 'VERSION_CONFLICT')) throw error;
      expect(error.expectedVersion).toBe(expected);
      expect(error.actualVersion).toBe(actual);
      expect(error.aggregateType).toBe('Todo');
      expect(error.aggregateId).toBe('todo-1');
      expect(error.message).toContain(String(expected));
    },
  );

  it.each(INVALID)('throws VALIDATION_FAILED for %s, even on an empty stream', (_, expected) => {
    for (const actual of [0, 1]) {
      const error = thrown(() => assertExpectedVersion(ref, expected, actual));
      expect(isStrataError(error, 'VALIDATION_FAILED')).toBe(true);
      expect(isStrataError(error, 'VERSION_CONFLICT')).toBe(false);
    }
  });

  it('never treats 0 as NO_STREAM', () => {
    expect(() => assertExpectedVersion(ref, NO_STREAM, 0)).not.toThrow();
    const error = thrown(() => assertExpectedVersion(ref, 0, 0));
    expect(isStrataError(error, 'VALIDATION_FAILED')).toBe(true);
  });
});
