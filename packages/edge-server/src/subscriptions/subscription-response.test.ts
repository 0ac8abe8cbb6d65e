import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createSseResponder } from './subscription-response.ts';

const limits = {
  maxSubscriptionBufferBytes: 1 << 20,
  subscriptionCloseGraceMs: 100,
  subscriptionStallMs: 60_000,
  maxSubscriptionsPerPrincipal: 1,
  maxSubscriptions: 10,
};
const principal = { tenant: 't', subject: 'ann' };

describe('createSseResponder', () => {
  const onError = vi.fn();
  beforeEach(() => onError.mockClear());

  it('ends at once the stream of a client that left before it was answered, and frees its slot', async () => {
    const respond = createSseResponder({ limits, onError });
    const gone = new AbortController();
    gone.abort(); // e.g. while the route checked the scope rules
    const endedAtStart: (string | undefined)[] = [];
    const ran = new Promise<void>((resolve) => {
      respond({
        request: new Request('http://sync.test/v2/subscribe', { signal: gone.signal }),
        principal,
        initialId: undefined,
        closing: true,
        async run(writer) {
          endedAtStart.push(writer.ended);
          resolve();
        },
      });
    });
    await ran;
    expect(endedAtStart).toEqual(['closed']);
    // Its slot is free again: the principal's one subscription may open.
    await new Promise((resolve) => setTimeout(resolve, 0));
    const next = respond({
      request: new Request('http://sync.test/v2/subscribe'),
      principal,
      initialId: undefined,
      closing: true,
      run: async () => undefined,
    });
    expect(next.status).toBe(200);
    expect(onError).not.toHaveBeenCalled();
  });

  it('cuts a subscriber whose runtime neither cancels nor aborts when it leaves, and frees its slot', async () => {
    const respond = createSseResponder({ limits: { ...limits, subscriptionStallMs: 50 }, onError });
    let stop: () => void = () => undefined;
    // The runtime takes the first chunk, then nothing more: heartbeats wait, unread.
    const stalled = respond({
      request: new Request('http://sync.test/v1/subscribe'),
      principal,
      initialId: undefined,
      closing: true,
      async run(writer) {
        while (writer.ended === undefined) {
          writer.write('{"kind":"heartbeat"}');
          await writer.wait(10);
        }
        stop();
      },
    });
    const reader = (stalled.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    const refused = () =>
      respond({
        request: new Request('http://sync.test/v1/subscribe'),
        principal,
        initialId: undefined,
        closing: true,
        run: async () => undefined,
      });
    expect(refused).toThrow('At most 1 subscriptions'); // the stalled one holds the slot
    await new Promise<void>((resolve) => {
      stop = resolve;
    });
    await expect(reader.read()).rejects.toThrow('took nothing for 50 ms');
    expect(refused().status).toBe(200);
    expect(onError).not.toHaveBeenCalled();
  });
});
