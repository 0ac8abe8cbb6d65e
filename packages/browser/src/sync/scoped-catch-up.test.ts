import type { ScopedItem, ScopedPullResponse } from '@strata/core';
import { describe, expect, it, vi } from 'vitest';
import type { ScopedBatch } from './apply-scoped.ts';
import type { ScopeState } from './scope-set.ts';
import { pullScopesToEnd } from './scoped-catch-up.ts';

const P1 = 'project:{"projectId":"p1"}';
const P2 = 'project:{"projectId":"p2"}';
const item = (cursor: string) => ({ kind: 'left', cursor, scope: P1 }) as unknown as ScopedItem;

/** Pulls `states` against pages served in order; answers what was stored. */
async function pullWith(states: ScopeState[], pages: ScopedPullResponse[]) {
  const applied: ScopedBatch[] = [];
  const pullScopes = vi.fn(async () => pages.shift() as ScopedPullResponse);
  const cursors = await pullScopesToEnd(states, {
    transport: { pullScopes },
    apply: async (batch) => applied.push(batch),
    pullLimit: 100,
    signal: new AbortController().signal,
  });
  return { applied, cursors, pullScopes };
}

describe('pullScopesToEnd', () => {
  it('stores each page with the cursors it reached; the last one completes the scopes', async () => {
    const { applied, cursors } = await pullWith(
      [
        { key: P1, complete: false },
        { key: P2, cursor: 's0.3', complete: false },
      ],
      [
        { items: [item('s0.4')], cursors: { [P1]: 's0.4', [P2]: 's0.4' }, hasMore: true },
        { items: [], cursors: { [P1]: 's0.9', [P2]: 's0.9' }, hasMore: false },
      ],
    );
    expect(applied).toEqual([
      { items: [item('s0.4')], cursors: { [P1]: 's0.4', [P2]: 's0.4' } },
      { items: [], cursors: { [P1]: 's0.9', [P2]: 's0.9' }, complete: [P1, P2] },
    ]);
    expect(cursors).toEqual({ [P1]: 's0.9', [P2]: 's0.9' });
  });

  it('writes nothing when a poll of complete scopes finds nothing new', async () => {
    const { applied, cursors, pullScopes } = await pullWith(
      [{ key: P1, cursor: 's0.9', complete: true }],
      [{ items: [], cursors: { [P1]: 's0.9' }, hasMore: false }],
    );
    expect(pullScopes).toHaveBeenCalledTimes(1);
    expect(applied).toEqual([]);
    expect(cursors).toEqual({ [P1]: 's0.9' });
  });

  it('stores an empty page that moves a cursor or completes a scope', async () => {
    const moved = await pullWith(
      [{ key: P1, cursor: 's0.9', complete: true }],
      [{ items: [], cursors: { [P1]: 's0.12' }, hasMore: false }],
    );
    expect(moved.applied).toEqual([{ items: [], cursors: { [P1]: 's0.12' }, complete: [P1] }]);
    const completed = await pullWith(
      [{ key: P1, cursor: 's0.9', complete: false }],
      [{ items: [], cursors: { [P1]: 's0.9' }, hasMore: false }],
    );
    expect(completed.applied).toEqual([{ items: [], cursors: { [P1]: 's0.9' }, complete: [P1] }]);
  });
});
