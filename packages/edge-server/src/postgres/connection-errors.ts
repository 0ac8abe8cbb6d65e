/**
 * Which database errors mean "the database cannot be reached right now" (issue 12, item 6): they
 * become one typed `UnavailableError` (503 with Retry-After) at the database layer, so routes, the
 * subscription feed and background loops all see the same error instead of a raw driver error
 * answered as a 500. Everything else (constraint violations, bad input) passes through untouched:
 * the event store branches on those SQLSTATEs itself.
 *
 * The shapes below were captured from the Neon driver (through a WebSocket proxy) and PGlite;
 * connection-errors.test.ts replays them.
 */
import { isAnyStrataError, UnavailableError } from '@strata/core';

/** Seconds a client is told to wait (`Retry-After`) when the database is unavailable. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/**
 * SQLSTATEs of a lost or refused session: 57P01 admin_shutdown (pg_terminate_backend, a fast
 * stop), 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up, recovering), 57014
 * query_canceled (a statement timeout), 53300 too_many_connections. Class 08 (connection
 * exception) is matched as a class.
 */
const UNAVAILABLE_SQLSTATES: ReadonlySet<string> = new Set([
  '57P01',
  '57P02',
  '57P03',
  '57014',
  '53300',
]);

/** Node socket errors (`error.code`) of a connection that could not be made or was cut. */
const UNAVAILABLE_ERRNOS: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * Messages of drivers that carry no code: pg (the Neon driver is its fork) and PGlite. Lower case;
 * matched as substrings.
 */
const UNAVAILABLE_MESSAGES: readonly string[] = [
  'connection terminated', // "... unexpectedly", "... due to connection timeout"
  'timeout exceeded when trying to connect', // the pool had no free client in time
  'client has encountered a connection error and is not queryable',
  'client was closed and is not queryable',
  'cannot use a pool after calling end on the pool',
  'connect econnrefused', // a WebSocket ErrorEvent's message
  'socket hang up',
  'pglite is closed',
];

/**
 * True when `error` says the database is unreachable or dropped the session: a retry later may
 * work. Looks at the error itself and (one level) at what it wraps: a WebSocket `ErrorEvent`'s
 * `error`, an `Error.cause`.
 *
 * @example
 * isConnectionLoss(Object.assign(new Error('terminating connection'), { code: '57P01' })); // true
 * isConnectionLoss(Object.assign(new Error('duplicate key'), { code: '23505' })); // false
 */
export function isConnectionLoss(error: unknown): boolean {
  return matches(error) || matches(inner(error));
}

/**
 * `error` as the app should see it: an `UnavailableError` (with `retryAfterSeconds` and the
 * original as `cause`) when it is a connection loss, else `error` itself. Strata errors pass
 * through, so mapping twice is harmless.
 *
 * @example
 * try { await pool.query(text) } catch (error) { throw toDatabaseError(error); }
 */
export function toDatabaseError(error: unknown): unknown {
  if (isAnyStrataError(error) || !isConnectionLoss(error)) return error;
  return new UnavailableError('The database is unavailable; retry later', {
    cause: error,
    retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS,
  });
}

function matches(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  // A code decides: a message may quote a payload ("invalid input syntax ... \"connection refused\"").
  if (typeof code === 'string') {
    return (
      UNAVAILABLE_SQLSTATES.has(code) ||
      /^08[0-9A-Z]{3}$/.test(code) ||
      UNAVAILABLE_ERRNOS.has(code)
    );
  }
  if (typeof message !== 'string') return false;
  const text = message.toLowerCase();
  return UNAVAILABLE_MESSAGES.some((known) => text.includes(known));
}

/** What an error wraps: `ErrorEvent.error` (the WebSocket's socket error) or `cause`. */
function inner(error: unknown): unknown {
  if (typeof error !== 'object' || error === null) return undefined;
  const { error: wrapped, cause } = error as { error?: unknown; cause?: unknown };
  return wrapped ?? cause;
}
