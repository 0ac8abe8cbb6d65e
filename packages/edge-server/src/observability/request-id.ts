/**
 * Request ids: every response names its request in `x-request-id`, and so do its log line and its
 * problem+json body, so a user's report ("the push failed, request 3f…") finds the server's line.
 *
 * A proxy or client may send its own id (`x-request-id`, or a W3C `traceparent`): it is kept only
 * when it is short and made of safe characters. Anything else (a megabyte, control characters, a
 * line break that would forge a log line or a header) is ignored and a fresh id is made, so what
 * the server echoes is never attacker-shaped beyond a short token.
 */

/** The header a response names its request in (and a request may bring its own id in). */
export const REQUEST_ID_HEADER = 'x-request-id';

/** Longest incoming id kept: a UUID is 36, a KSUID 27, a 128-bit hex trace id 32. */
export const MAX_REQUEST_ID_LENGTH = 64;

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]+$/;

/** W3C Trace Context: `version-traceid-parentid-flags`, lower-case hex. */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** What a request is known by: its id, and the trace it belongs to when it said so. */
export interface RequestIdentity {
  readonly requestId: string;
  /** The W3C trace id of a valid incoming `traceparent`. */
  readonly traceId?: string;
}

/**
 * Whether `value` may be used as a request id as it came: 1 to 64 characters of
 * `A-Z a-z 0-9 . _ : -`.
 *
 * @example
 * isSafeRequestId('req-42'); // true
 * isSafeRequestId('a\nforged: line'); // false
 */
export function isSafeRequestId(value: string): boolean {
  return value.length <= MAX_REQUEST_ID_LENGTH && SAFE_REQUEST_ID.test(value);
}

/**
 * The request's identity: a safe incoming `x-request-id`, else the trace id of a valid
 * `traceparent`, else a new random UUID. A valid `traceparent` also gives `traceId`.
 *
 * @example
 * requestIdentity(new Headers({ 'x-request-id': 'edge-7f3a' })); // { requestId: 'edge-7f3a' }
 */
export function requestIdentity(headers: Headers): RequestIdentity {
  const traceId = traceIdOf(headers.get('traceparent'));
  const incoming = headers.get(REQUEST_ID_HEADER)?.trim();
  const requestId =
    incoming !== undefined && incoming !== '' && isSafeRequestId(incoming)
      ? incoming
      : (traceId ?? crypto.randomUUID());
  return traceId === undefined ? { requestId } : { requestId, traceId };
}

function traceIdOf(traceparent: string | null): string | undefined {
  if (traceparent === null || traceparent.length > 128) return undefined;
  const match = TRACEPARENT.exec(traceparent.trim());
  if (match === null) return undefined;
  const [, version, traceId, parentId] = match;
  // Version ff and all-zero ids are invalid by the spec.
  if (version === 'ff' || /^0+$/.test(traceId ?? '') || /^0+$/.test(parentId ?? '')) {
    return undefined;
  }
  return traceId;
}
