/**
 * The arithmetic of request rate limits (issue 12, item 5): a token bucket per key. A bucket
 * holds at most `requests` tokens and refills at `requests` per `windowMs`, so a client may
 * burst up to `requests` at once and then goes at the sustained rate; unlike a fixed window, no
 * boundary lets it send twice the limit in a moment. Pure functions; the store and the
 * middleware are in rate-limit.ts.
 */

/** At most `requests` per `windowMs` (sustained), with bursts of up to `requests`. */
export interface RateLimitRule {
  readonly requests: number;
  readonly windowMs: number;
}

/** A key's bucket: tokens left as of `updatedAt` (ms since the epoch). */
export interface TokenBucket {
  readonly tokens: number;
  readonly updatedAt: number;
}

/** What `takeToken` decided. */
export interface TokenDecision {
  readonly allowed: boolean;
  /** The bucket to store (one token fewer when allowed). */
  readonly bucket: TokenBucket;
  /** When refused: milliseconds until a token is back. 0 when allowed. */
  readonly retryAfterMs: number;
  /** Whole tokens left after this request. */
  readonly remaining: number;
}

/**
 * Refills `bucket` (a new key starts full) up to `now` and takes one token if there is one.
 *
 * @example
 * const first = takeToken(undefined, { requests: 2, windowMs: 1000 }, 0); // allowed, 1 left
 */
export function takeToken(
  bucket: TokenBucket | undefined,
  rule: RateLimitRule,
  now: number,
): TokenDecision {
  const rate = rule.requests / rule.windowMs; // tokens per millisecond
  const elapsed = bucket === undefined ? 0 : Math.max(0, now - bucket.updatedAt);
  const tokens =
    bucket === undefined ? rule.requests : Math.min(rule.requests, bucket.tokens + elapsed * rate);
  if (tokens >= 1) {
    return {
      allowed: true,
      bucket: { tokens: tokens - 1, updatedAt: now },
      retryAfterMs: 0,
      remaining: Math.floor(tokens - 1),
    };
  }
  return {
    allowed: false,
    bucket: { tokens, updatedAt: now },
    retryAfterMs: Math.ceil((1 - tokens) / rate),
    remaining: 0,
  };
}

/**
 * True when `bucket` has refilled to a full burst by `now`: forgetting it changes nothing, since
 * a new key starts full too.
 *
 * @example
 * isRefilled({ tokens: 0, updatedAt: 0 }, { requests: 10, windowMs: 1000 }, 1000); // true
 */
export function isRefilled(bucket: TokenBucket, rule: RateLimitRule, now: number): boolean {
  const elapsed = Math.max(0, now - bucket.updatedAt);
  return bucket.tokens + (elapsed * rule.requests) / rule.windowMs >= rule.requests;
}

/** Throws a RangeError unless `rule` has a positive whole number of requests and a positive window. */
export function checkRateLimitRule(rule: RateLimitRule, name: string): void {
  if (!Number.isInteger(rule.requests) || rule.requests < 1) {
    throw new RangeError(`${name}.requests must be a whole number of at least 1`);
  }
  if (!Number.isFinite(rule.windowMs) || rule.windowMs <= 0) {
    throw new RangeError(`${name}.windowMs must be a positive number of milliseconds`);
  }
}
