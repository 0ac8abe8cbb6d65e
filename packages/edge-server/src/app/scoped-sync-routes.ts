import {
  LOG_ANCHOR_HEADER,
  parseLogAnchor,
  parseOrThrow,
  ScopedPullRequestSchema,
  type ScopedPullResponse,
  ScopedSubscribeBodySchema,
  ScopedSubscribeQuerySchema,
  type StoredEvent,
  ValidationFailedError,
} from '@strata/core';
import { type Context, Hono } from 'hono';
import { checkLogAnchor } from '../log-identity/log-anchor-check.ts';
import { createPostgresEventStore } from '../postgres/postgres-event-store.ts';
import type { SqlDatabase } from '../postgres/sql-database.ts';
import { readScopes, type ScopeReadRequest } from '../scopes/read-scopes.ts';
import { assertHolds, type ScopeAccess } from '../scopes/scope-rules.ts';
import type { ScopeFeed } from '../subscriptions/scope-feed.ts';
import { streamScopedSubscription } from '../subscriptions/scoped-subscription-stream.ts';
import type { SseResponder } from '../subscriptions/subscription-response.ts';
import type { Principal } from './auth.ts';
import type { SyncLimits } from './limits.ts';
import { pushBodyLimit } from './push-limits.ts';
import { readJson } from './read-json.ts';
import { toScopedItems } from './scoped-item.ts';
import type { SyncEnv } from './sync-env.ts';

/** What the scoped sync routes need from the app (its options with the defaults applied). */
export interface ScopedSyncRoutesOptions {
  readonly database: SqlDatabase;
  readonly access: ScopeAccess;
  /**
   * The app's `authorize.canRead`; absent when it has none (every event readable). Only then do
   * pulls answer snapshots: a snapshot's state folds in events the rule might hide.
   */
  readonly canRead?: (principal: Principal, event: StoredEvent) => boolean;
  readonly limits: SyncLimits;
  /** The instance's SSE responder (its subscription slots are shared with v1). */
  readonly sse: SseResponder;
  readonly scopeFeed: ScopeFeed;
  readonly heartbeatMs: number;
}

/**
 * Scoped sync (protocol v2 reads), to mount at `/v2` behind the authentication middleware, in
 * the principal's tenant. Every requested scope is resolved against the declared definitions
 * (unknown name, bad or non-canonical parameters: 400 `VALIDATION_FAILED`) and checked against
 * its rule (refused: 403 `FORBIDDEN` with `scopes`, the refused keys) before anything is read.
 * - `POST /pull` (`ScopedPullRequestSchema`): a page of the scopes' items, each scope after its
 *   own cursor; answers `ScopedPullResponseSchema`. Its `bootstrap` reads answer the snapshots
 *   the body names (`readScopes`), unless the app has a `canRead`: then they read as the others.
 *   With `strata-anchor` (the last event the client received, at its tenant position as every
 *   item carries it), a log that no longer holds it is 409 `LOG_DIVERGED`, as on `GET /v1/pull`.
 * - `GET /subscribe?scope=k&scope=k2&after=c` (SSE): the same from one cursor, then live; the
 *   rules are checked again at every heartbeat, and a refused one ends the stream with
 *   `closing: access-changed`. `Last-Event-ID` wins over `after`.
 * - `POST /subscribe` (`ScopedSubscribeBodySchema`: `{ scopes, after }`): the same, for scope
 *   sets too long for a URL.
 *
 * @example
 * app.route('/v2', scopedSyncRoutes({ database, access, canRead, limits, sse, scopeFeed, heartbeatMs }));
 */
export function scopedSyncRoutes(options: ScopedSyncRoutesOptions): Hono<SyncEnv> {
  const { database, access, canRead } = options;
  const readable = (principal: Principal) =>
    canRead === undefined ? undefined : (event: StoredEvent) => canRead(principal, event);
  const routes = new Hono<SyncEnv>();

  routes.post('/pull', pushBodyLimit(options.limits), async (c) => {
    const body = parseOrThrow(ScopedPullRequestSchema, await readJson(c.req.raw), 'scoped pull');
    const principal = c.get('principal');
    const reads: ScopeReadRequest[] = body.scopes.map(({ scope, after, bootstrap }) => ({
      scope,
      ...(after === undefined ? {} : { after }),
      ...(bootstrap === undefined ? {} : { bootstrap }),
    }));
    const scopes = access.resolve(
      reads.map((read) => read.scope),
      (index) => ['scopes', index, 'scope'],
    );
    await assertHolds(access, principal, scopes);
    // As on v1 (sync-routes.ts), after the scope checks and before the page is read: items carry
    // tenant positions, so the anchor names one in the tenant's log. Malformed: ignored.
    const anchor = parseLogAnchor(c.req.header(LOG_ANCHOR_HEADER));
    if (anchor !== undefined) {
      await checkLogAnchor(
        createPostgresEventStore(database, { tenant: principal.tenant }),
        anchor,
      );
    }
    const page = await readScopes(
      database,
      principal.tenant,
      reads,
      body.limit,
      canRead === undefined ? body.snapshots : undefined,
    );
    const response: ScopedPullResponse = {
      items: toScopedItems(page.items, readable(principal)),
      cursors: page.cursors,
      hasMore: page.hasMore,
    };
    return c.json(response);
  });

  /** One subscription to `keys` (as the client named them: `path` says where, for errors). */
  const subscribe = async (
    c: Context<SyncEnv>,
    keys: readonly string[],
    after: string | undefined,
    path: (index: number) => (string | number)[],
  ) => {
    const principal = c.get('principal');
    const scopes = access.resolve(keys, path);
    await assertHolds(access, principal, scopes);
    // A reconnecting EventSource sends the last id it saw; it wins over the query or body.
    const from = c.req.header('last-event-id') ?? after;
    const filter = readable(principal);
    // INVALID_CURSOR as a 400 before the stream starts: malformed, or past the tenant's end.
    await readScopes(
      database,
      principal.tenant,
      keys.map((scope) => (from === undefined ? { scope } : { scope, after: from })),
      1,
    );
    return options.sse({
      request: c.req.raw,
      principal,
      initialId: from,
      closing: true, // v2 clients all know the closing message
      run: (writer, maxBacklogBytes) =>
        streamScopedSubscription(writer, {
          database,
          tenant: principal.tenant,
          scopes: keys,
          scopeFeed: options.scopeFeed,
          after: from,
          heartbeatMs: options.heartbeatMs,
          maxBacklogBytes,
          stillGranted: async () => (await access.refused(principal, scopes)).length === 0,
          ...(filter === undefined ? {} : { canRead: filter }),
        }),
    });
  };

  routes.get('/subscribe', async (c) => {
    const query = parseOrThrow(
      ScopedSubscribeQuerySchema,
      singleValues(c.req.queries()),
      'scoped subscribe query',
    );
    const keys = typeof query.scope === 'string' ? [query.scope] : query.scope;
    if (new Set(keys).size !== keys.length) {
      throw new ValidationFailedError('Invalid scoped subscribe query: names a scope twice', [
        { path: ['scope'], message: 'names a scope twice' },
      ]);
    }
    return subscribe(c, keys, query.after, (index) => ['scope', index]);
  });

  // The same with the scopes in the body: a set of long keys would not fit in a URL.
  routes.post('/subscribe', pushBodyLimit(options.limits), async (c) => {
    const body = parseOrThrow(
      ScopedSubscribeBodySchema,
      await readJson(c.req.raw),
      'scoped subscribe body',
    );
    return subscribe(c, body.scopes, body.after, (index) => ['scopes', index]);
  });

  return routes;
}

/** A query's parameters: a repeated one as its list of values, any other as its one value. */
function singleValues(queries: Record<string, string[]>): Record<string, string | string[]> {
  return Object.fromEntries(
    Object.entries(queries).map(([name, values]) => [
      name,
      values.length === 1 ? (values[0] as string) : values,
    ]),
  );
}
