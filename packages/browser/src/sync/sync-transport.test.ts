import { isStrataError, RateLimitedError, toProblemDetails } from '@strata/core';
import { describe, expect, it } from 'vitest';
import { createSyncTransport } from './sync-transport.ts';

/** A transport whose server answers every request with `response`. */
const answering = (response: () => Response) =>
  createSyncTransport({ url: 'http://sync.test/', fetch: async () => response() });

const pullError = (response: () => Response) =>
  answering(response)
    .pull(undefined, 10)
    .then(
      () => undefined,
      (error: unknown) => error,
    );

describe('sync transport errors that say when to retry', () => {
  it("turns the server's 429 problem into RATE_LIMITED with its retry advice", async () => {
    const problem = toProblemDetails(new RateLimitedError('Too many requests', 4));
    const error = await pullError(
      () =>
        new Response(JSON.stringify(problem), {
          status: 429,
          headers: { 'content-type': 'application/problem+json', 'retry-after': '4' },
        }),
    );
    expect(isStrataError(error, 'RATE_LIMITED') && error.retryAfterSeconds).toBe(4);
  });

  it("reads a proxy's bare 429 and 503 with Retry-After", async () => {
    const limited = await pullError(
      () => new Response('slow down', { status: 429, headers: { 'retry-after': '9' } }),
    );
    expect(isStrataError(limited, 'RATE_LIMITED') && limited.retryAfterSeconds).toBe(9);
    const down = await pullError(
      () => new Response('<html>down</html>', { status: 503, headers: { 'retry-after': '2' } }),
    );
    expect(isStrataError(down, 'UNAVAILABLE') && down.retryAfterSeconds).toBe(2);
  });

  it('ignores a Retry-After it cannot read', async () => {
    const down = await pullError(
      () =>
        new Response('', {
          status: 503,
          headers: { 'retry-after': 'Wed, 21 Oct 2015 07:28:00 GMT' },
        }),
    );
    expect(isStrataError(down, 'UNAVAILABLE') && down.retryAfterSeconds).toBeUndefined();
  });
});
