/**
 * `GET /metrics` (opt-in): strata's metrics in the Prometheus text format, for a scraper that
 * holds the metrics secret. It is not a tenant's route: a tenant's JWT opens nothing here, only
 * the separate bearer secret does (compared in constant time), and what it serves holds no
 * tenant's names or data (sync-metrics.ts). Without the secret: 401 problem+json; while metrics
 * are not enabled there is no route at all (404, like any unknown path).
 */
import { UnauthorizedError } from '@strata/core';
import { Hono } from 'hono';
import { problemResponse } from '../app/problem-response.ts';
import type { SyncEnv } from '../app/sync-env.ts';
import type { SqlExecutor } from '../postgres/sql-database.ts';
import { PROMETHEUS_TEXT_CONTENT_TYPE } from './prometheus-text.ts';
import type { SyncMetrics } from './sync-metrics.ts';

/** The shortest metrics secret accepted: guessing one must be hopeless. */
export const MIN_METRICS_TOKEN_LENGTH = 16;

/**
 * `createSyncApp`'s `metrics`: a route the app serves behind a bearer secret, or (`route: false`)
 * metrics recorded into `registry` for the host to serve where it likes (`registry.render()`).
 */
export type MetricsOption =
  | {
      /**
       * The bearer secret a scraper sends (`Authorization: Bearer <token>`), at least 16
       * characters. Not a tenant's token: keep it in the scraper's config only.
       */
      readonly token: string;
      /** Where the route is. Defaults to `/metrics`. */
      readonly path?: string;
      /**
       * Where this app records and what the route serves. Defaults to metrics of this app
       * alone; give one `createSyncMetrics()` to every app of a process or isolate (workerd
       * builds an app per request: `createSyncWorker` does so).
       */
      readonly registry?: SyncMetrics;
    }
  | {
      /** No route: the host serves `registry.render({ database })` on its own (port, auth). */
      readonly route: false;
      readonly registry: SyncMetrics;
    };

/** What the route needs from the app. */
export interface MetricsRouteOptions {
  readonly token: string;
  readonly path: string;
  readonly metrics: SyncMetrics;
  readonly database: SqlExecutor;
  /** Where a failed backlog read is reported (the scrape still answers, without those gauges). */
  readonly onError: (error: unknown) => void;
}

/**
 * The route as a Hono sub-app, to mount at the root before the API's middleware.
 *
 * @example
 * app.route('/', metricsRoute({ token, path: '/metrics', metrics, database, onError }));
 */
export function metricsRoute(options: MetricsRouteOptions): Hono<SyncEnv> {
  assertMetricsToken(options.token);
  const expected = digest(options.token);
  const routes = new Hono<SyncEnv>();
  routes.get(options.path, async (c) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match === null || !(await sameSecret(await expected, match[1] ?? ''))) {
      const refused = problemResponse(
        new UnauthorizedError('The metrics route needs its bearer secret'),
        new URL(c.req.url).pathname,
      );
      refused.headers.set('www-authenticate', 'Bearer realm="metrics"');
      return refused;
    }
    const text = await options.metrics.render({
      database: options.database,
      onError: options.onError,
    });
    return c.body(text, 200, {
      'content-type': PROMETHEUS_TEXT_CONTENT_TYPE,
      'cache-control': 'no-store',
    });
  });
  return routes;
}

/** Throws unless `token` is a usable metrics secret. */
export function assertMetricsToken(token: string): void {
  if (typeof token !== 'string' || token.length < MIN_METRICS_TOKEN_LENGTH || /\s/.test(token)) {
    throw new RangeError(
      `The metrics token must be at least ${MIN_METRICS_TOKEN_LENGTH} characters without spaces`,
    );
  }
}

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
}

/** Compares digests byte by byte without stopping early: the time tells nothing of the secret. */
async function sameSecret(expected: Uint8Array, given: string): Promise<boolean> {
  const actual = await digest(given);
  let difference = 0;
  for (let index = 0; index < expected.length; index++) {
    difference |= (expected[index] ?? 0) ^ (actual[index] ?? 0);
  }
  return difference === 0;
}
