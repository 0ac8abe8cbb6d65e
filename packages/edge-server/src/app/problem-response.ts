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
  return new Response(JSON.stringify(problem), {
    status: problem.status,
    headers: { 'content-type': PROBLEM_JSON },
  });
}
