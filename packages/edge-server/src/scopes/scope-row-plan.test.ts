import { describe, expect, it } from 'vitest';
import { planScopeRows } from './scope-row-plan.ts';

const at = (version: number, tenantPosition: number) => ({ version, tenantPosition });

describe('scope row plans', () => {
  it('a new aggregate joins its first scopes with its first event', () => {
    expect(planScopeRows([], [at(1, 7)], [['a', 'b']])).toEqual({
      spans: [
        { scope: 'a', eff: 7, fromVersion: 1, toVersion: 1 },
        { scope: 'b', eff: 7, fromVersion: 1, toVersion: 1 },
      ],
      leaves: [],
      after: ['a', 'b'],
    });
  });

  it('an event in a held scope is one row of itself', () => {
    expect(planScopeRows(['a'], [at(4, 20), at(5, 21)], [['a'], ['a']]).spans).toEqual([
      { scope: 'a', eff: 20, fromVersion: 4, toVersion: 4 },
      { scope: 'a', eff: 21, fromVersion: 5, toVersion: 5 },
    ]);
  });

  it('a move leaves one scope (a left row, the event not in it) and joins another with the whole history', () => {
    expect(planScopeRows(['a', 'b'], [at(3, 30)], [['a', 'c']])).toEqual({
      spans: [
        { scope: 'a', eff: 30, fromVersion: 3, toVersion: 3 },
        { scope: 'c', eff: 30, fromVersion: 1, toVersion: 3 },
      ],
      leaves: [{ scope: 'b', eff: 30 }],
      after: ['a', 'c'],
    });
  });

  it('leaving and re-joining in one append: a left row, then the history again at the re-join', () => {
    expect(planScopeRows(['a'], [at(2, 8), at(3, 9)], [[], ['a']])).toEqual({
      spans: [{ scope: 'a', eff: 9, fromVersion: 1, toVersion: 3 }],
      leaves: [{ scope: 'a', eff: 8 }],
      after: ['a'],
    });
  });

  it('an aggregate in no scope has no rows', () => {
    expect(planScopeRows([], [at(1, 1), at(2, 2)], [[], []])).toEqual({
      spans: [],
      leaves: [],
      after: [],
    });
  });

  it('drop the tenant scope: it is read from the events themselves', () => {
    expect(
      planScopeRows([], [at(1, 1)], [['tenant', 'a']]).spans.map((span) => span.scope),
    ).toEqual(['a']);
  });

  it('refuse lists that do not match the events', () => {
    expect(() => planScopeRows([], [at(1, 1)], [])).toThrow(RangeError);
  });
});
