import type { SubscriptionMessage } from '@strata/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type FollowOptions, follow } from './follow.ts';
import type { SyncTransport } from './sync-transport.ts';

/** A server stream the test writes to: messages, an end, or an error. */
function fakeStream() {
  const queue: (SubscriptionMessage | Error | 'end')[] = [];
  let notify: (() => void) | undefined;
  const opened: { after: string | undefined; signal: AbortSignal }[] = [];
  const transport: Pick<SyncTransport, 'subscribe'> = {
    async *subscribe(after, signal) {
      opened.push({ after, signal });
      // As fetch does: an abort rejects whatever the reader waits for.
      const aborted = new Promise<never>((_, reject) => {
        const fail = () => reject(new DOMException('The operation was aborted.', 'AbortError'));
        if (signal.aborted) fail();
        else signal.addEventListener('abort', fail, { once: true });
      });
      aborted.catch(() => undefined);
      for (;;) {
        while (queue.length === 0) {
          await Promise.race([new Promise<void>((resolve) => (notify = resolve)), aborted]);
        }
        const next = queue.shift();
        if (next === 'end') return;
        if (next instanceof Error) throw next;
        if (next !== undefined) yield next;
      }
    },
  };
  const push = (item: SubscriptionMessage | Error | 'end') => {
    queue.push(item);
    notify?.();
  };
  return { transport, opened, push };
}

const eventMessage = (id: string, cursor: string): SubscriptionMessage =>
  ({ kind: 'event', cursor, event: { id } }) as unknown as SubscriptionMessage;

/** Lets the stream, the writer and `follow` run as far as they can without the clock moving. */
const settle = () => vi.advanceTimersByTimeAsync(0);

function setUp(overrides: Partial<FollowOptions> = {}) {
  const stream = fakeStream();
  const stopping = new AbortController();
  const stored: { ids: string[]; cursor: string }[] = [];
  const onCaughtUp = vi.fn(async () => undefined);
  const options: FollowOptions = {
    transport: stream.transport,
    apply: async (events, cursor) => {
      stored.push({ ids: events.map((event) => event.id), cursor });
    },
    batchLimit: 2,
    idleTimeoutMs: 45_000,
    signal: stopping.signal,
    onCaughtUp,
    ...overrides,
  };
  let outcome: 'running' | 'returned' | unknown = 'running';
  const run = () => {
    const done = follow('c0', options).then(
      () => {
        outcome = 'returned';
      },
      (error: unknown) => {
        outcome = error;
      },
    );
    return done;
  };
  return { stream, stopping, stored, onCaughtUp, options, run, outcome: () => outcome };
}

describe('follow', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('subscribes after the cursor and stores events; caught-up is reported', async () => {
    const { stream, stored, onCaughtUp, run, outcome } = setUp();
    const done = run();
    stream.push(eventMessage('e1', 'c1'));
    await settle();
    stream.push({ kind: 'caught-up', cursor: 'c1' });
    await settle();
    expect(stream.opened[0]?.after).toBe('c0');
    expect(stored).toEqual([{ ids: ['e1'], cursor: 'c1' }]);
    expect(onCaughtUp).toHaveBeenCalledTimes(1);
    stream.push('end');
    await done;
    expect(outcome()).toBe('returned');
  });

  it('opens no lasting stream when sync stopped before it started (a stop during the catch-up)', async () => {
    const { stream, stopping, stored, run, outcome } = setUp();
    stopping.abort();
    await run();
    expect(outcome()).toBe('returned');
    expect(stream.opened).toEqual([]);
    expect(stored).toEqual([]);
  });

  it('batches the events that arrive while a batch is written, up to the batch limit', async () => {
    let release: () => void = () => undefined;
    const batches: string[][] = [];
    const { stream, run } = setUp({
      apply: async (events) => {
        batches.push(events.map((event) => event.id));
        if (batches.length === 1) await new Promise<void>((resolve) => (release = resolve));
      },
    });
    const done = run();
    stream.push(eventMessage('e1', 'c1'));
    await settle();
    for (const id of ['e2', 'e3', 'e4']) stream.push(eventMessage(id, `c${id.slice(1)}`));
    await settle();
    expect(batches).toEqual([['e1']]);
    release();
    await settle();
    expect(batches).toEqual([['e1'], ['e2', 'e3'], ['e4']]);
    stream.push('end');
    await done;
  });

  it('closes a stream silent for the idle timeout and returns (the caller reconnects)', async () => {
    const { stream, run, outcome } = setUp();
    const done = run();
    await vi.advanceTimersByTimeAsync(30_000);
    stream.push({ kind: 'heartbeat' });
    await vi.advanceTimersByTimeAsync(44_999);
    expect(outcome()).toBe('running');
    await vi.advanceTimersByTimeAsync(1);
    await done;
    expect(outcome()).toBe('returned');
    expect(stream.opened[0]?.signal.aborted).toBe(true);
  });

  it('waits for the batch being written before it returns', async () => {
    let release: () => void = () => undefined;
    const { stream, run, outcome } = setUp({
      apply: () => new Promise<void>((resolve) => (release = resolve)),
    });
    const done = run();
    stream.push(eventMessage('e1', 'c1'));
    stream.push('end');
    await settle();
    expect(outcome()).toBe('running');
    release();
    await done;
    expect(outcome()).toBe('returned');
  });

  it('closes the stream and throws when storing a batch fails', async () => {
    const failure = new Error('quota exceeded');
    const { stream, run, outcome } = setUp({
      apply: async () => {
        throw failure;
      },
    });
    const done = run();
    stream.push(eventMessage('e1', 'c1'));
    await done;
    expect(outcome()).toBe(failure);
    expect(stream.opened[0]?.signal.aborted).toBe(true);
  });

  it('throws a stream error, but not the abort of stopping or of going offline', async () => {
    const broken = setUp();
    const brokenDone = broken.run();
    const failure = new Error('connection reset');
    broken.stream.push(failure);
    await brokenDone;
    expect(broken.outcome()).toBe(failure);

    const stopped = setUp();
    const stoppedDone = stopped.run();
    await settle();
    stopped.stopping.abort();
    await stoppedDone;
    expect(stopped.outcome()).toBe('returned');

    let stream: AbortController | undefined;
    const offline = setUp({ onOpen: (opened) => (stream = opened) });
    const offlineDone = offline.run();
    await settle();
    stream?.abort();
    await offlineDone;
    expect(offline.outcome()).toBe('returned');
  });

  it('leaves no timer or listener behind', async () => {
    const { stream, stopping, run } = setUp();
    const removed = vi.spyOn(stopping.signal, 'removeEventListener');
    const done = run();
    stream.push('end');
    await done;
    expect(vi.getTimerCount()).toBe(0);
    expect(removed).toHaveBeenCalledWith('abort', expect.any(Function));
  });
});
