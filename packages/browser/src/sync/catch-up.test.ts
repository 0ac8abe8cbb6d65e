import { InvalidCursorError, type PullResponse } from '@strata/core';
import { describe, expect, it, vi } from 'vitest';
import { type CatchUpOptions, catchUp } from './catch-up.ts';
import type { UpstreamEvent } from './sync-context.ts';
import type { CatchUpProgress } from './sync-status.ts';
import type { PullPage } from './sync-transport.ts';

const event = (id: string) => ({ id }) as unknown as UpstreamEvent;
const page = (cursor: string, ids: string[], hasMore: boolean, remaining?: number) =>
  ({
    events: ids.map(event),
    cursor,
    hasMore,
    ...(remaining === undefined ? {} : { remaining }),
  }) as PullResponse;

/** A catch-up over `pages`, recording what it pulled, stored and reported. */
function setUp(pages: PullPage[], overrides: Partial<CatchUpOptions> = {}) {
  const pulls: { after: string | undefined; limit: number; count: boolean | undefined }[] = [];
  const stored: { ids: string[]; cursor: string }[] = [];
  const progress: CatchUpProgress[] = [];
  let received = 0;
  const signal = new AbortController().signal;
  const options: CatchUpOptions = {
    transport: {
      pull: vi.fn(async (after, limit, pullOptions) => {
        pulls.push({ after, limit, count: pullOptions?.count });
        expect(pullOptions?.signal).toBe(signal);
        const next = pages.shift();
        if (next === undefined) throw new Error('pulled past the last page');
        return next;
      }),
    },
    readCursor: async () => 'c0',
    apply: async (events, cursor) => {
      received += events.length;
      stored.push({ ids: events.map((e) => e.id), cursor });
    },
    received: () => received,
    pullLimit: 2,
    countRemaining: () => true,
    onPage: async (reached) => {
      progress.push(reached);
    },
    signal,
    ...overrides,
  };
  return { options, pulls, stored, progress };
}

describe('catchUp', () => {
  it('pulls pages after the stored cursor until the server has no more, and returns the last cursor', async () => {
    const { options, pulls, stored } = setUp([
      page('c1', ['e1', 'e2'], true),
      page('c2', ['e3'], false),
    ]);
    await expect(catchUp(options)).resolves.toBe('c2');
    expect(pulls.map(({ after, limit }) => [after, limit])).toEqual([
      ['c0', 2],
      ['c1', 2],
    ]);
    expect(stored).toEqual([
      { ids: ['e1', 'e2'], cursor: 'c1' },
      { ids: ['e3'], cursor: 'c2' },
    ]);
  });

  it('asks for the remaining count on the first page only, and only when told to', async () => {
    const counted = setUp([page('c1', ['e1'], true), page('c2', ['e2'], false)]);
    await catchUp(counted.options);
    expect(counted.pulls.map((pull) => pull.count)).toEqual([true, false]);

    const uncounted = setUp([page('c1', ['e1'], false)], { countRemaining: () => false });
    await catchUp(uncounted.options);
    expect(uncounted.pulls.map((pull) => pull.count)).toEqual([false]);
  });

  it('reports progress after each page, with a total once the server counted', async () => {
    const { options, progress } = setUp([
      page('c1', ['e1', 'e2'], true, 3),
      page('c2', ['e3', 'e4'], true),
      page('c3', ['e5'], false),
    ]);
    await catchUp(options);
    expect(progress).toEqual([
      { received: 2, total: 5, done: false },
      { received: 4, total: 5, done: false },
      { received: 5, total: 5, done: true },
    ]);
  });

  it('stores a page that only moves the cursor, and skips one that changes nothing', async () => {
    const moved = setUp([page('c1', [], false)]);
    await catchUp(moved.options);
    expect(moved.stored).toEqual([{ ids: [], cursor: 'c1' }]);

    const unchanged = setUp([page('c0', [], false)]);
    await expect(catchUp(unchanged.options)).resolves.toBe('c0');
    expect(unchanged.stored).toEqual([]);
    expect(unchanged.progress).toEqual([{ received: 0, done: true }]);
  });

  it('fails with the pull or the store, reporting nothing for that page', async () => {
    const pullFails = setUp([]);
    await expect(catchUp(pullFails.options)).rejects.toThrow('pulled past the last page');
    expect(pullFails.progress).toEqual([]);

    const storeFails = setUp([page('c1', ['e1'], false)], {
      apply: async () => {
        throw new Error('disk full');
      },
    });
    await expect(catchUp(storeFails.options)).rejects.toThrow('disk full');
    expect(storeFails.progress).toEqual([]);
  });

  describe('the log this device read (issue 17)', () => {
    const anchor = { position: 7, eventId: '2TnV6vLtuN4Kc1yQdVvP8Wm8Ksm' };
    function withLog(pages: PullPage[], stored: { logId?: string; anchor?: typeof anchor }) {
      const remembered: string[] = [];
      const anchors: unknown[] = [];
      const setup = setUp(pages, {
        log: { read: async () => stored, remember: async (id) => void remembered.push(id) },
      });
      const pull = setup.options.transport.pull;
      setup.options = {
        ...setup.options,
        transport: {
          pull: (after, limit, options) => {
            anchors.push(options?.anchor);
            return pull(after, limit, options);
          },
        },
      };
      return { ...setup, remembered, anchors };
    }

    it('sends the anchor with the first page only, and remembers a log id seen for the first time', async () => {
      const { options, anchors, remembered, stored } = withLog(
        [
          { ...page('c1', ['e1'], true), logId: 'log-a' },
          { ...page('c2', ['e2'], false), logId: 'log-a' },
        ],
        { anchor },
      );
      await expect(catchUp(options)).resolves.toBe('c2');
      expect(anchors).toEqual([anchor, undefined]);
      expect(remembered).toEqual(['log-a']);
      expect(stored).toHaveLength(2);
    });

    it('another log id than the one read is LOG_DIVERGED, before anything of the page is stored', async () => {
      const { options, remembered, stored } = withLog(
        [{ ...page('c1', ['e1'], false), logId: 'log-b' }],
        { logId: 'log-a', anchor },
      );
      await expect(catchUp(options)).rejects.toMatchObject({
        code: 'LOG_DIVERGED',
        logId: 'log-b',
      });
      expect(stored).toEqual([]);
      expect(remembered).toEqual([]);
    });

    it('the same log id, or a server that sends none, is the same log', async () => {
      const same = withLog([{ ...page('c1', ['e1'], false), logId: 'log-a' }], { logId: 'log-a' });
      await expect(catchUp(same.options)).resolves.toBe('c1');
      const older = withLog([page('c1', ['e1'], false)], { logId: 'log-a' });
      await expect(catchUp(older.options)).resolves.toBe('c1');
      expect([...same.remembered, ...older.remembered]).toEqual([]);
    });

    it('a cursor past the log end (INVALID_CURSOR) is LOG_DIVERGED; without a cursor it stays what it is', async () => {
      const pastEnd = withLog([], {});
      pastEnd.options = {
        ...pastEnd.options,
        transport: { pull: async () => Promise.reject(new InvalidCursorError('t9')) },
      };
      await expect(catchUp(pastEnd.options)).rejects.toMatchObject({ code: 'LOG_DIVERGED' });
      const fromStart = withLog([], {});
      fromStart.options = {
        ...fromStart.options,
        readCursor: async () => undefined,
        transport: { pull: async () => Promise.reject(new InvalidCursorError('t9')) },
      };
      await expect(catchUp(fromStart.options)).rejects.toMatchObject({ code: 'INVALID_CURSOR' });
    });
  });
});
