/**
 * The sync app's first middleware: it names each request (request-id.ts), and once the answer is
 * ready it sets `x-request-id`, adds `requestId` to a problem+json body, writes the request's log
 * line (structured-log.ts) and records the answer in the metrics (sync-metrics.ts).
 *
 * Push outcomes are read from the answer itself, after the route made it: the routes stay as they
 * are, and what is counted is exactly what the client was told (a commit rejected before it
 * reached the store, for a bad payload or a missing right, counts as much as a version conflict).
 * The answer is parsed a second time only when metrics are on, and only for push routes.
 */
import { type ErrorCode, isStrataError, PROBLEM_JSON, ProblemDetailsSchema } from '@strata/core';
import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { SyncEnv } from '../app/sync-env.ts';
import { describeError } from '../logging/describe-error.ts';
import { REQUEST_ID_HEADER, requestIdentity } from './request-id.ts';
import { loggedMethod, type RequestLogLine, type RequestLogSink } from './structured-log.ts';
import type { PushProtocol, SyncMetricsRecorder } from './sync-metrics.ts';

/** What `observeRequests` does with each answer. */
export interface ObserveRequestsOptions {
  /** Where the request's log line goes; undefined for none. */
  readonly log: RequestLogSink | undefined;
  /** Where the answer is counted; undefined when metrics are off. */
  readonly metrics: SyncMetricsRecorder | undefined;
}

const CODES = new Set<string>(ProblemDetailsSchema.shape.code.options);

/**
 * The middleware, to mount first (`app.use('*', observeRequests(...))`); it sets `requestId`.
 *
 * @example
 * app.use('*', observeRequests({ log: jsonConsoleLog, metrics: undefined }));
 */
export function observeRequests(options: ObserveRequestsOptions): MiddlewareHandler<SyncEnv> {
  return async (c, next) => {
    const started = performance.now();
    const identity = requestIdentity(c.req.raw.headers);
    c.set('requestId', identity.requestId);
    await next();
    const durationMs = performance.now() - started;
    const route = routeOf(routePath(c, -1));
    const status = c.res.status;
    let code: ErrorCode | undefined = isStrataError(c.error) ? c.error.code : undefined;
    if (isProblem(c.res)) code = (await withRequestId(c, identity.requestId)) ?? code;
    c.header(REQUEST_ID_HEADER, identity.requestId);
    if (code === undefined && status >= 500) code = 'INTERNAL';

    const { metrics } = options;
    if (metrics !== undefined) {
      metrics.response(status, status >= 400 ? code : undefined);
      const protocol = c.req.method === 'POST' ? pushProtocolOf(route) : undefined;
      if (protocol !== undefined) {
        await recordPush(
          metrics,
          protocol,
          c.res,
          durationMs / 1000,
          status >= 400 ? code : undefined,
        );
      }
    }
    if (options.log !== undefined) {
      const line: RequestLogLine = {
        time: new Date().toISOString(),
        level: status >= 500 ? 'error' : 'info',
        msg: 'request',
        requestId: identity.requestId,
        ...(identity.traceId === undefined ? {} : { traceId: identity.traceId }),
        method: loggedMethod(c.req.method),
        route,
        status,
        durationMs: Math.round(durationMs * 10) / 10,
        ...(status >= 400 && code !== undefined ? { code } : {}),
        ...(status >= 500 && c.error !== undefined ? { error: describeError(c.error) } : {}),
      };
      try {
        options.log(line);
      } catch {
        // A failing log sink must not fail the request it logs.
      }
    }
  };
}

/** A route's pattern as logged: the registered path, never the request's own. */
function routeOf(pattern: string): string {
  return pattern === '' || pattern === '*' || pattern === '/*' ? 'unmatched' : pattern;
}

/** Which push a route is (mounted at the root or under a host's prefix). */
function pushProtocolOf(route: string): PushProtocol | undefined {
  if (route.endsWith('/v1/push')) return 'v1';
  if (route.endsWith('/v2/push')) return 'v2';
  if (route.endsWith('/v2/commands')) return 'command';
  return undefined;
}

function isProblem(response: Response): boolean {
  return response.headers.get('content-type')?.startsWith(PROBLEM_JSON) === true;
}

/** Adds `requestId` to the problem body; answers the body's code. */
async function withRequestId(
  c: Parameters<MiddlewareHandler<SyncEnv>>[0],
  requestId: string,
): Promise<ErrorCode | undefined> {
  const text = await c.res.text();
  let problem: unknown;
  try {
    problem = JSON.parse(text);
  } catch {
    problem = undefined;
  }
  const { status, headers } = c.res;
  if (typeof problem !== 'object' || problem === null || Array.isArray(problem)) {
    c.res = new Response(text, { status, headers });
    return undefined;
  }
  c.res = new Response(JSON.stringify({ ...problem, requestId }), { status, headers });
  c.res.headers.delete('content-length');
  const code = (problem as { code?: unknown }).code;
  return typeof code === 'string' && CODES.has(code) ? (code as ErrorCode) : undefined;
}

async function recordPush(
  metrics: SyncMetricsRecorder,
  protocol: PushProtocol,
  response: Response,
  seconds: number,
  code: ErrorCode | undefined,
): Promise<void> {
  if (protocol === 'command') {
    metrics.pushAnswered(protocol, seconds, [
      code === undefined ? { status: 'accepted' } : { status: 'rejected', code },
    ]);
    return;
  }
  if (code !== undefined) {
    metrics.pushRefused(protocol, seconds, code);
    return;
  }
  let results: readonly { status: string; code?: string }[] = [];
  try {
    const body = (await response.clone().json()) as { results?: unknown };
    if (Array.isArray(body.results)) results = body.results as typeof results;
  } catch {
    // Not a push answer (a host's own handler): counted as a push without results.
  }
  metrics.pushAnswered(protocol, seconds, results);
}
