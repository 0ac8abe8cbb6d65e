import { describe, expect, it, vi } from 'vitest';
import { createSseResponder } from './subscription-response.ts';

const limits = {
  maxSubscriptionBufferBytes: 1 << 20,
  subscriptionCloseGraceMs: 100,
  maxSubscriptionsPerPrincipal: 1,
  maxSubscriptions: 10,
};
const principal = { tenant: 't', subject: 'ann' };

describe('createSseResponder', () => {
  it('ends at once the stream of a client that left before it was answered, and frees its slot', async () => {
    const onError = vi.fn();
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
});
