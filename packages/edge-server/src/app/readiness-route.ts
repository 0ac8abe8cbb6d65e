/**
 * Readiness beside liveness (issue 12, item 6): `/healthz` says the process answers, `/readyz`
 * says it can serve, i.e. its database answers and has every migration this build needs. Load
 * balancers and orchestrators route traffic (or wait at a rollout) on it.
 */
import { isStrataError, UnavailableError } from '@strata/core';
import { Hono } from 'hono';
import { schemaStatus } from '../migrations/schema-status.ts';
import { DATABASE_RETRY_AFTER_SECONDS } from '../postgres/connection-errors.ts';
import type { SqlDatabase } from '../postgres/sql-database.ts';
import { problemResponse } from './problem-response.ts';

/** How long `/readyz` waits for the database before answering 503 (2 s): probes must be quick. */
export const READINESS_TIMEOUT_MS = 2_000;

/** What the readiness route needs. */
export interface ReadinessOptions {
  readonly database: SqlDatabase;
  /** Defaults to `READINESS_TIMEOUT_MS`. */
  readonly timeoutMs?: number;
}

/** The body of a ready answer. */
export interface ReadinessResponse {
  readonly ok: true;
  /** The newest migration version applied (all of this build's are). */
  readonly schemaVersion: number;
}

/**
 * Throws `UnavailableError` (with `retryAfterSeconds`) unless the database answers within
 * `timeoutMs` and has no pending migration; resolves the schema version otherwise.
 *
 * @example
 * const { schemaVersion } = await checkReadiness({ database });
 */
export async function checkReadiness(options: ReadinessOptions): Promise<ReadinessResponse> {
  const timeoutMs = options.timeoutMs ?? READINESS_TIMEOUT_MS;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new UnavailableError(`The database did not answer within ${timeoutMs} ms`, {
            retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS,
          }),
        ),
      timeoutMs,
    );
  });
  try {
    const status = await Promise.race([schemaStatus(options.database), timedOut]);
    if (status.pending.length > 0) {
      throw new UnavailableError(`Migrations ${status.pending.join(', ')} are not applied`, {
        retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS,
      });
    }
    return { ok: true, schemaVersion: status.applied.at(-1) ?? 0 };
  } catch (error) {
    if (isStrataError(error, 'UNAVAILABLE')) throw error;
    // Any other failure (a permission, a broken table) also means "do not send traffic here".
    throw new UnavailableError('The database cannot be read', {
      cause: error,
      retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS,
    });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Liveness and readiness probes, to mount at `/` before any authentication: `GET /healthz` (liveness: 200
 * `{ ok: true }` while the process answers) and `GET /readyz` (readiness: 200
 * `{ ok: true, schemaVersion }` when the database answers within the timeout and its migrations
 * are current; else 503 `application/problem+json` (`UNAVAILABLE`) with `Retry-After`). Neither
 * says anything about tenants or data.
 *
 * @example
 * app.route('/', readinessRoutes({ database }));
 * // curl -i http://127.0.0.1:8787/readyz
 */
export function readinessRoutes(options: ReadinessOptions): Hono {
  const routes = new Hono();
  routes.get('/healthz', (c) => c.json({ ok: true }));
  routes.get('/readyz', async (c) => {
    try {
      return c.json(await checkReadiness(options));
    } catch (error) {
      return problemResponse(error, '/readyz');
    }
  });
  return routes;
}
