import { ForbiddenError, parseOrThrow, StreamParamsSchema, type StreamRef } from '@strata/core';
import { Hono } from 'hono';
import { forgetAggregate } from '../crypto/forget-aggregate.ts';
import type { SqlDatabase } from '../postgres/sql-database.ts';
import type { Authorize } from './authorize.ts';
import type { SyncEnv } from './sync-env.ts';

/** What the forget route needs from the app. */
export interface ForgetRouteOptions {
  readonly database: SqlDatabase;
  readonly authorize?: Authorize | undefined;
  /** Told after a key is deleted: caches of the tenant's decrypted states must go. */
  readonly onForgotten?: (tenant: string, stream: StreamRef) => void;
}

/** The body of a forget response. */
export interface ForgetResponse {
  readonly aggregateType: string;
  readonly aggregateId: string;
  /** Whether a key was deleted now; false when the aggregate had none (or it was gone already). */
  readonly forgotten: boolean;
  readonly kid?: string;
  readonly forgottenAt?: string;
}

/**
 * The forget route, to mount at `/v1/streams` behind the authentication middleware:
 * `DELETE /:aggregateType/:aggregateId/key` crypto-shreds one aggregate of the principal's tenant (`forgetAggregate`). Needs write access (`authorize.canWrite`, else
 * `FORBIDDEN`). Idempotent: deleting again answers `forgotten: false`.
 *
 * @example
 * app.route('/v1/streams', forgetRoute({ database, authorize }));
 * await fetch(`${server}/v1/streams/User/u1/key`, { method: 'DELETE', headers: { authorization } });
 */
export function forgetRoute(options: ForgetRouteOptions): Hono<SyncEnv> {
  const routes = new Hono<SyncEnv>();
  routes.delete('/:aggregateType/:aggregateId/key', async (c) => {
    // Checked like body fields: a NUL or lone surrogate in the path is a 400, not a query.
    const stream: StreamRef = parseOrThrow(StreamParamsSchema, c.req.param(), 'stream path');
    const { aggregateType, aggregateId } = stream;
    const principal = c.get('principal');
    if (!((await options.authorize?.canWrite?.(principal, stream)) ?? true)) {
      throw new ForbiddenError(`Forgetting ${aggregateType}/${aggregateId} is not allowed`);
    }
    const result = await forgetAggregate(options.database, { tenant: principal.tenant, stream });
    options.onForgotten?.(principal.tenant, stream);
    const body: ForgetResponse = {
      aggregateType,
      aggregateId,
      forgotten: result.kid !== undefined,
      ...result,
    };
    return c.json(body);
  });
  return routes;
}
