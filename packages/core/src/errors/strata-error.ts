/**
 * Every error strata raises carries one of these stable codes. Codes cross the wire (the server
 * answers with `application/problem+json` carrying `code`) and survive bundling and realms, so
 * they, not `instanceof`, are what callers branch on.
 */
export const ERROR_CODES = [
  'VERSION_CONFLICT',
  'VALIDATION_FAILED',
  'UNKNOWN_EVENT_TYPE',
  'UNKNOWN_COMMAND',
  'AGGREGATE_NOT_FOUND',
  'NOT_FOUND',
  'NO_EVENTS',
  'DUPLICATE_EVENT_ID',
  'INVALID_CURSOR',
  'LOG_DIVERGED',
  'DOMAIN_RULE_VIOLATED',
  'REACTOR_REJECTED',
  'COMMAND_REQUIRED',
  'PREDICTION_MISMATCH',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'UNSUPPORTED_PROTOCOL',
  'RATE_LIMITED',
  'STORAGE_FAILED',
  'UNAVAILABLE',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Options every strata error accepts: `cause` is passed through to `Error.cause`. */
export interface StrataErrorOptions {
  cause?: unknown;
}

/**
 * Base class of all strata errors: a stable string `code`, a message for humans, and the
 * original `cause` when one error wraps another.
 *
 * @example
 * try { await app.execute(Todo, id, 'rename', { title: '' }); }
 * catch (error) { if (isStrataError(error, 'VALIDATION_FAILED')) showIssues(error.issues); }
 */
export class StrataError<C extends ErrorCode = ErrorCode> extends Error {
  readonly code: C;

  constructor(code: C, message: string, options: StrataErrorOptions = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.code = code;
    this.name = new.target.name;
  }

  /** Fields beyond code and message that describe this error on the wire. */
  details(): Record<string, unknown> {
    return {};
  }
}

/** True for strata errors, including ones thrown by another copy of this package. */
export function isAnyStrataError(value: unknown): value is StrataError {
  if (value instanceof StrataError) return true;
  return (
    value instanceof Error &&
    (ERROR_CODES as readonly unknown[]).includes((value as Error & { code?: unknown }).code)
  );
}
