/**
 * One JSON object per request, for log pipelines (Loki, CloudWatch, Workers Logs, Datadog) that
 * parse JSON lines. What goes in is fixed and safe: the request id, the method, the route's
 * pattern (`/v1/streams/:aggregateType/:aggregateId`, never the path: paths carry aggregate ids),
 * the status, the duration, the error code of a problem answer, and for an unexpected error its
 * scrubbed one-line description (`describeError`). Never headers (tokens), query strings
 * (cursors), bodies (events), the tenant or the principal: a log line tells an operator what
 * happened to a request, the request id leads to the rest.
 */
import type { ErrorCode } from '@strata/core';
import { describeError } from '../logging/describe-error.ts';

/** One request, as logged. */
export interface RequestLogLine {
  /** When the answer was ready, ISO 8601. */
  readonly time: string;
  /** `error` for 5xx answers, else `info`. */
  readonly level: 'info' | 'error';
  readonly msg: 'request';
  readonly requestId: string;
  /** The W3C trace id of the request's `traceparent`, when it sent a valid one. */
  readonly traceId?: string;
  /** One of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, else `OTHER`. */
  readonly method: string;
  /** The pattern of the route that answered (`unmatched` when none did). */
  readonly route: string;
  readonly status: number;
  /** Until the answer's headers were ready (for a subscription: until its stream opened). */
  readonly durationMs: number;
  /** The strata error code of a problem+json answer. */
  readonly code?: ErrorCode;
  /** A 500's error, as `describeError` puts it: no connection string, token or payload. */
  readonly error?: string;
}

/** Where request log lines go. */
export type RequestLogSink = (line: RequestLogLine) => void;

/**
 * The default sink: each line as one JSON text on console.log (stdout in Node, Bun and Deno;
 * Workers Logs in workerd).
 *
 * @example
 * createSyncApp({ database, authenticate, requestLog: jsonConsoleLog });
 */
export const jsonConsoleLog: RequestLogSink = (line) => {
  console.log(JSON.stringify(line));
};

/**
 * The app's default `onError` for a failed request: the line `safeErrorReporter` writes, the
 * request's id after it (the prefix stays `[strata] request failed:` for log filters).
 *
 * @example
 * failedRequestReporter('3f2a…')(error); // [strata] request failed: Error: … (request 3f2a…)
 */
export function failedRequestReporter(requestId: string): (error: unknown) => void {
  return (error) =>
    console.error(`[strata] request failed: ${describeError(error)} (request ${requestId})`);
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The method as logged: a known one, else `OTHER` (a method is any token a client sends). */
export function loggedMethod(method: string): string {
  return METHODS.has(method) ? method : 'OTHER';
}
