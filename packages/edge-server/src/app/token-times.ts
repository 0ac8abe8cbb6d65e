/**
 * When a bearer token may be used: its `exp`, `nbf` and `iat` claims against the clock, with a
 * tolerance for clocks that disagree by a few seconds (issue 12, item 13). A pure policy, kept
 * apart from the signature check so it can be tested without tokens.
 */

/** Options of `checkTokenTimes`. */
export interface TokenTimePolicy {
  /** A token without `exp` is refused. */
  readonly requireExpiry: boolean;
  /** Seconds by which `exp`, `nbf` and `iat` may be off (clock skew between issuer and server). */
  readonly clockToleranceSeconds: number;
}

/** `exp` required, 30 seconds of clock tolerance. */
export const DEFAULT_TOKEN_TIME_POLICY: TokenTimePolicy = {
  requireExpiry: true,
  clockToleranceSeconds: 30,
};

/**
 * Why the token may not be used at `nowSeconds` (a message for the 401), or undefined when it
 * may. Time claims must be finite numbers of seconds since the epoch (RFC 7519 NumericDate).
 *
 * @example
 * checkTokenTimes({ exp: 100 }, 200, DEFAULT_TOKEN_TIME_POLICY); // 'The bearer token expired …'
 */
export function checkTokenTimes(
  claims: Readonly<Record<string, unknown>>,
  nowSeconds: number,
  policy: TokenTimePolicy,
): string | undefined {
  const tolerance = policy.clockToleranceSeconds;
  for (const claim of ['exp', 'nbf', 'iat'] as const) {
    const value = claims[claim];
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value))) {
      return `The bearer token's "${claim}" claim is not a number of seconds`;
    }
  }
  const { exp, nbf, iat } = claims as { exp?: number; nbf?: number; iat?: number };
  if (exp === undefined && policy.requireExpiry) {
    return 'The bearer token has no "exp" (expiry) claim';
  }
  if (exp !== undefined && exp + tolerance <= nowSeconds) {
    return `The bearer token expired at ${isoSeconds(exp)}`;
  }
  if (nbf !== undefined && nbf - tolerance > nowSeconds) {
    return `The bearer token is not valid before ${isoSeconds(nbf)}`;
  }
  if (iat !== undefined && iat - tolerance > nowSeconds) {
    return `The bearer token was issued in the future (${isoSeconds(iat)})`;
  }
  return undefined;
}

function isoSeconds(seconds: number): string {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? `${seconds}` : date.toISOString();
}
