import { isStrataError, PROBLEM_JSON, toProblemDetails } from '@strata/core';

/**
 * The `application/problem+json` response for any error. Unknown errors become a generic 500
 * (their detail is reported, never sent).
 */
export function problemResponse(
  error: unknown,
  instance?: string,
  report?: (error: unknown) => void,
): Response {
  if (!isStrataError(error)) report?.(error);
  const problem = toProblemDetails(error, instance);
  const headers = new Headers({ 'content-type': PROBLEM_JSON });
  // RFC 9110: 429 and 503 may say when to come back; clients and proxies read the header.
  if (typeof problem.retryAfterSeconds === 'number') {
    headers.set('retry-after', String(Math.max(0, Math.ceil(problem.retryAfterSeconds))));
  }
  return new Response(JSON.stringify(problem), { status: problem.status, headers });
}
