import {
  fromProblemDetails,
  InternalError,
  RateLimitedError,
  toProblemDetails,
  UnavailableError,
  UnsupportedProtocolError,
} from '@strata/core';
import { describe, expect, it } from 'vitest';
import { MAX_RETRY_AFTER_MS, retryDelay } from './retry-delay.ts';

const noJitter = { initialDelayMs: 100, maxDelayMs: 10_000, jitter: 'none' } as const;
const random = () => 0.5;

describe('retryDelay', () => {
  it('is the backoff when the server did not say when to retry', () => {
    expect(retryDelay(new InternalError(), 0, noJitter, random)).toBe(100);
    expect(retryDelay(new UnavailableError(), 3, noJitter, random)).toBe(800);
  });

  it("waits at least the server's Retry-After for 429 and 503, also through the wire", () => {
    const limited = fromProblemDetails(toProblemDetails(new RateLimitedError('slow down', 7)));
    expect(retryDelay(limited, 0, noJitter, random)).toBe(7000);
    const down = new UnavailableError('database down', { retryAfterSeconds: 2 });
    expect(retryDelay(down, 0, noJitter, random)).toBe(2000);
    // A longer backoff wins over a short Retry-After.
    expect(retryDelay(down, 6, noJitter, random)).toBe(6400);
  });

  it('waits long for a server of another protocol (issue 17): retrying soon fails the same way', () => {
    const other = fromProblemDetails(
      toProblemDetails(new UnsupportedProtocolError(3, { minProtocol: 2, maxProtocol: 2 })),
    );
    expect(retryDelay(other, 0, noJitter, random)).toBe(MAX_RETRY_AFTER_MS);
  });

  it('caps an absurd Retry-After and ignores a negative or non-finite one', () => {
    expect(retryDelay(new RateLimitedError('x', 86_400), 0, noJitter, random)).toBe(
      MAX_RETRY_AFTER_MS,
    );
    expect(retryDelay(new RateLimitedError('x', -5), 0, noJitter, random)).toBe(100);
    expect(retryDelay(new RateLimitedError('x', Number.NaN), 0, noJitter, random)).toBe(100);
  });
});
