import { describe, expect, it } from 'vitest';
import { everyNVersions, neverSnapshot, type SnapshotPolicyInput } from './snapshot-policy.ts';

const at = (version: number, snapshotVersion = 0, appended = 1): SnapshotPolicyInput => ({
  version,
  snapshotVersion,
  appended,
});

describe('everyNVersions', () => {
  it.each([
    [100, at(99), false],
    [100, at(100), true],
    [100, at(101), true],
    [100, at(150, 100), false],
    [100, at(199, 100), false],
    [100, at(200, 100), true],
    [100, at(260, 100, 70), true],
    [100, at(105, 0, 10), true],
    [3, at(2), false],
    [3, at(3), true],
    [3, at(5, 3), false],
    [3, at(6, 3), true],
    [1, at(1), true],
    [1, at(8, 7), true],
    [1, at(7, 7), false],
  ] as [number, SnapshotPolicyInput, boolean][])('every %i at %j: %s', (every, input, expected) => {
    expect(everyNVersions(every)(input)).toBe(expected);
  });

  it('snapshots at every Nth version when one event is appended at a time', () => {
    const policy = everyNVersions(10);
    let snapshotVersion = 0;
    const taken: number[] = [];
    for (let version = 1; version <= 35; version++) {
      if (policy(at(version, snapshotVersion))) {
        taken.push(version);
        snapshotVersion = version;
      }
    }
    expect(taken).toEqual([10, 20, 30]);
  });

  it('never leaves N or more events to replay after a decision not to snapshot', () => {
    const policy = everyNVersions(5);
    let snapshotVersion = 0;
    let version = 0;
    for (const appended of [1, 3, 2, 7, 1, 1, 4, 9, 2]) {
      version += appended;
      if (policy(at(version, snapshotVersion, appended))) snapshotVersion = version;
      expect(version - snapshotVersion).toBeLessThan(5);
    }
  });

  it('accepts the largest safe integer', () => {
    const policy = everyNVersions(Number.MAX_SAFE_INTEGER);
    expect(policy(at(1_000_000))).toBe(false);
  });

  it.each([
    0,
    -1,
    -100,
    1.5,
    0.5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.MAX_SAFE_INTEGER + 1,
  ])('rejects %d with a RangeError', (every) => {
    expect(() => everyNVersions(every)).toThrow(RangeError);
    expect(() => everyNVersions(every)).toThrow(/positive integer/);
  });

  it('rejects a non-number', () => {
    expect(() => everyNVersions('10' as unknown as number)).toThrow(RangeError);
  });
});

describe('neverSnapshot', () => {
  it.each([at(1), at(100), at(1_000_000, 0, 1000)])('says no at %j', (input) => {
    expect(neverSnapshot(input)).toBe(false);
  });
});
