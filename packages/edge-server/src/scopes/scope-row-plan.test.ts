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

  it('leaving and re-joining in one append: no left, no second history, just the appended events', () => {
    expect(planScopeRows(['a'], [at(2, 8), at(3, 9)], [[], ['a']])).toEqual({
      spans: [
        { scope: 'a', eff: 8, fromVersion: 2, toVersion: 2 },
        { scope: 'a', eff: 9, fromVersion: 3, toVersion: 3 },
      ],
      leaves: [],
      after: ['a'],
    });
  });

  it('joining and leaving in one append: nothing in that scope', () => {
    expect(planScopeRows(['a'], [at(2, 8), at(3, 9)], [['a', 'b'], ['a']])).toEqual({
      spans: [
        { scope: 'a', eff: 8, fromVersion: 2, toVersion: 2 },
        { scope: 'a', eff: 9, fromVersion: 3, toVersion: 3 },
      ],
      leaves: [],
      after: ['a'],
    });
  });

  it('moving back and forth in one append: one history at the last join, one left at the last leave', () => {
    const moves = [at(1, 1), at(2, 2), at(3, 3), at(4, 4), at(5, 5)];
    expect(planScopeRows([], moves, [['a'], ['b'], ['a'], ['b'], ['a']])).toEqual({
      spans: [{ scope: 'a', eff: 5, fromVersion: 1, toVersion: 5 }],
      leaves: [],
      after: ['a'],
    });
    expect(planScopeRows(['a'], moves.slice(1), [['b'], ['a'], ['b'], ['a']]).leaves).toEqual([]);
    expect(planScopeRows(['a'], moves.slice(1, 4), [['b'], ['a'], ['b']])).toEqual({
      spans: [{ scope: 'b', eff: 4, fromVersion: 1, toVersion: 4 }],
      leaves: [{ scope: 'a', eff: 4 }],
      after: ['b'],
    });
  });

  it('after the last join, the events are own rows', () => {
    expect(planScopeRows([], [at(1, 1), at(2, 2), at(3, 3)], [[], ['a'], ['a']]).spans).toEqual([
      { scope: 'a', eff: 2, fromVersion: 1, toVersion: 2 },
      { scope: 'a', eff: 3, fromVersion: 3, toVersion: 3 },
    ]);
  });

  it('for every sequence, a reader ends holding the aggregate whole in exactly its scopes after the append', () => {
    // Every append of 1 to 4 events over scopes a and b, from every held set: the reader of a
    // scope starts with what the scope held (versions before the append) and applies the rows.
    const subsets: string[][] = [[], ['a'], ['b'], ['a', 'b']];
    const sequences = (length: number): string[][][] =>
      length === 0 ? [[]] : sequences(length - 1).flatMap((s) => subsets.map((l) => [...s, l]));
    for (const held of subsets) {
      for (let length = 1; length <= 4; length++) {
        for (const lists of sequences(length)) {
          const first = held.length > 0 ? 3 : 1;
          const events = lists.map((_, index) => at(first + index, 100 + index));
          const plan = planScopeRows(held, events, lists);
          const last = first + length - 1;
          const finalScopes = lists.at(-1) ?? [];
          for (const scope of ['a', 'b']) {
            const rows = [
              ...plan.spans
                .filter((span) => span.scope === scope)
                .flatMap((span) =>
                  Array.from({ length: span.toVersion - span.fromVersion + 1 }, (_, i) => ({
                    eff: span.eff,
                    pos: span.fromVersion + i === span.toVersion ? span.eff : span.fromVersion + i,
                    version: span.fromVersion + i,
                  })),
                ),
              ...plan.leaves
                .filter((leave) => leave.scope === scope)
                .map((leave) => ({ eff: leave.eff, pos: leave.eff, version: 0 })),
            ].sort((x, y) => x.eff - y.eff || x.pos - y.pos);
            let holds = new Set<number>();
            if (held.includes(scope)) for (let v = 1; v < first; v++) holds.add(v);
            for (const row of rows) {
              if (row.version === 0) holds = new Set();
              else holds.add(row.version);
            }
            const whole = Array.from({ length: last }, (_, i) => i + 1);
            const label = `${scope} held ${held} lists ${JSON.stringify(lists)}`;
            expect(
              [...holds].sort((x, y) => x - y),
              label,
            ).toEqual(finalScopes.includes(scope) ? whole : []);
            // A left only for a scope held before and not after; nothing for one in neither.
            const lefts = plan.leaves.filter((leave) => leave.scope === scope).length;
            const wasIn = held.includes(scope);
            const isIn = finalScopes.includes(scope);
            expect(lefts, label).toBe(wasIn && !isIn ? 1 : 0);
            if (!wasIn && !isIn) expect(rows, label).toEqual([]);
            // Each version at most once: the history is written once.
            const versions = rows.filter((row) => row.version > 0).map((row) => row.version);
            expect(new Set(versions).size, label).toBe(versions.length);
            // Every eff with rows has the scope's own row there (the live feed probes it).
            for (const row of rows) {
              expect(
                rows.some((own) => own.eff === row.eff && own.pos === row.eff),
                label,
              ).toBe(true);
            }
          }
          expect(plan.after).toEqual(finalScopes);
        }
      }
    }
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
