import { createWakeSignal } from '@strata/core';
import { describe, expect, it, vi } from 'vitest';
import { scopedUpstream } from './scoped-upstream.ts';

describe('scopedUpstream', () => {
  it('follows nothing and returns when sync stopped before the stream opened (a stop during the catch-up)', async () => {
    const stopping = new AbortController();
    stopping.abort();
    const subscribeScopes = vi.fn();
    const upstream = scopedUpstream({
      // Never read: a stopped upstream touches neither the database nor the network.
      db: undefined as never,
      transport: { pullScopes: vi.fn(), subscribeScopes },
      apply: vi.fn(),
      refuse: vi.fn(),
      scopesChanged: createWakeSignal(),
      pullLimit: 100,
      idleTimeoutMs: 45_000,
      refusedRetryMs: 100,
      live: true,
      clock: () => new Date(),
      connection: { fail: vi.fn() },
      backoff: undefined,
      random: () => 0.5,
      onPage: vi.fn(),
      onCaughtUp: vi.fn(),
      signal: stopping.signal,
    });
    const outcome = await Promise.race([
      upstream.follow(undefined).then(() => 'returned'),
      new Promise((resolve) => setTimeout(() => resolve('still waiting'), 1000)),
    ]);
    expect(outcome).toBe('returned');
    expect(subscribeScopes).not.toHaveBeenCalled();
  });
});
