/**
 * Bearer tokens whose signature was verified, with their claims: a device sends the same token
 * with every push and pull until it expires, and checking an HMAC signature (a WebCrypto key
 * import and a verify) is a large part of a small push's CPU time. Only tokens that verified are
 * kept, keyed by the whole token (header, claims and signature), so a cached entry answers for
 * exactly the bytes that were checked; a flood of bad tokens never enters it. The token's times
 * are not cached: the caller checks them on every request.
 */

/** Verified tokens' claims, the least recently used dropped past `capacity`. */
export interface VerifiedTokens {
  /** The claims of a token verified before, if it is still kept. */
  get(token: string): Record<string, unknown> | undefined;
  /** Keeps a verified token's claims. */
  set(token: string, claims: Record<string, unknown>): void;
  /** Drops a token (it expired, say). */
  delete(token: string): void;
  readonly size: number;
}

/**
 * @example
 * const tokens = verifiedTokens(1024);
 * tokens.set(token, claims);
 * tokens.get(token); // claims
 */
export function verifiedTokens(capacity: number): VerifiedTokens {
  if (!(Number.isInteger(capacity) && capacity >= 0)) {
    throw new RangeError(`capacity must be a whole number >= 0, got ${capacity}`);
  }
  // A Map iterates in insertion order: re-inserting on use keeps the least recent first.
  const entries = new Map<string, Record<string, unknown>>();
  return {
    get(token) {
      const claims = entries.get(token);
      if (claims !== undefined) {
        entries.delete(token);
        entries.set(token, claims);
      }
      return claims;
    },
    set(token, claims) {
      if (capacity === 0) return;
      entries.delete(token);
      entries.set(token, claims);
      if (entries.size > capacity) entries.delete(entries.keys().next().value as string);
    },
    delete(token) {
      entries.delete(token);
    },
    get size() {
      return entries.size;
    },
  };
}
