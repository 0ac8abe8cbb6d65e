import { describe, expect, it, vi } from 'vitest';
import type { LockManagerLike } from './leader-lock.ts';
import { lead } from './leadership.ts';
import { createTabStatus } from './tab-status.ts';

/** Web Locks as the browser grants them: one holder per name, waiters in order, aborts. */
function fakeLocks(): LockManagerLike {
  const tails = new Map<string, Promise<void>>();
  return {
    request(name, { signal }, callback) {
      if (signal?.aborted) return Promise.reject(new DOMException('aborted', 'AbortError'));
      const previous = tails.get(name) ?? Promise.resolve();
      let release: () => void = () => undefined;
      tails.set(
        name,
        previous.then(() => new Promise<void>((resolve) => (release = resolve))),
      );
      return new Promise((resolve, reject) => {
        let granted = false;
        signal?.addEventListener('abort', () => {
          if (granted) return;
          reject(new DOMException('aborted', 'AbortError'));
          release();
        });
        void previous.then(async () => {
          if (signal?.aborted) return;
          granted = true;
          try {
            resolve(await callback());
          } catch (error) {
            reject(error);
          } finally {
            release();
          }
        });
      });
    },
  };
}

/** A tab that leads until stopped: its session runs until its signal aborts. */
function tab(locks: LockManagerLike | null, onError = vi.fn()) {
  const stopping = new AbortController();
  const status = createTabStatus(true);
  const sessions: string[] = [];
  const running = lead({
    locks,
    name: 'strata-sync:todos',
    signal: stopping.signal,
    tab: status,
    session: async () => {
      sessions.push('started');
      await new Promise((resolve) => stopping.signal.addEventListener('abort', resolve));
      sessions.push('ended');
    },
    onError,
  });
  return {
    status,
    sessions,
    onError,
    async stop() {
      stopping.abort();
      await running;
    },
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('lead', () => {
  it('without Web Locks leads at once: the only syncing instance', async () => {
    const only = tab(null);
    await settle();
    expect(only.status.get().leader).toBe(true);
    expect(only.sessions).toEqual(['started']);
    await only.stop();
    expect(only.status.get().leader).toBe(false);
    expect(only.sessions).toEqual(['started', 'ended']);
  });

  it('one tab leads; the next takes over when it stops', async () => {
    const locks = fakeLocks();
    const first = tab(locks);
    const second = tab(locks);
    await settle();
    expect([first.status.get().leader, second.status.get().leader]).toEqual([true, false]);
    expect(second.sessions).toEqual([]);

    await first.stop();
    await settle();
    expect([first.status.get().leader, second.status.get().leader]).toEqual([false, true]);
    expect(second.sessions).toEqual(['started']);
    await second.stop();
  });

  it('stopping while waiting for the lock is not a failure, and the session never runs', async () => {
    const locks = fakeLocks();
    const first = tab(locks);
    const waiting = tab(locks);
    await settle();
    await waiting.stop();
    expect(waiting.sessions).toEqual([]);
    expect(waiting.onError).not.toHaveBeenCalled();
    await first.stop();
  });

  it('a failing session is reported, no longer leads, and frees the lock', async () => {
    const locks = fakeLocks();
    const onError = vi.fn();
    const failure = new Error('broken database');
    const status = createTabStatus(true);
    await lead({
      locks,
      name: 'strata-sync:todos',
      signal: new AbortController().signal,
      tab: status,
      session: () => Promise.reject(failure),
      onError,
    });
    expect(onError).toHaveBeenCalledWith(failure);
    expect(status.get().leader).toBe(false);

    const next = tab(locks);
    await settle();
    expect(next.status.get().leader).toBe(true);
    await next.stop();
  });
});
