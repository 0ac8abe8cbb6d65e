import {
  type AnyAggregateDefinition,
  LOG_ANCHOR_HEADER,
  PullQuerySchema,
  type PullResponse,
  PushEnvelopeSchema,
  parseLogAnchor,
  parseOrThrow,
  type StoredEvent,
  type StreamRef,
  SubscribeQuerySchema,
} from '@strata/core';
import { Hono } from 'hono';
import { checkLogAnchor } from '../log-identity/log-anchor-check.ts';
import type { PostgresEventStore } from '../postgres/postgres-event-store.ts';
import type { EventFeed } from '../subscriptions/event-feed.ts';
import type { SubscriptionRequest } from '../subscriptions/subscription-response.ts';
import type { Principal } from './auth.ts';
import type { Authorize } from './authorize.ts';
import type { SyncLimits } from './limits.ts';
import { isSettledPage, pullPageResponse } from './pull-cache.ts';
import { applyPush } from './push-handler.ts';
import { enforceEventLimits, pushBodyLimit } from './push-limits.ts';
import { readJson } from './read-json.ts';
import type { SyncEnv } from './sync-env.ts';
import { toWireEvent } from './wire-event.ts';

/** What the sync routes need from the app (its options with the defaults applied). */
export interface SyncRoutesOptions {
  readonly storeFor: (principal: Principal) => PostgresEventStore;
  readonly canRead: (principal: Principal, event: StoredEvent) => boolean;
  readonly authorize: Authorize | undefined;
  /** The version a push rejection reports (`PushOptions.versionOf`); defaults to the stored one. */
  readonly versionOf?: (principal: Principal, stream: StreamRef) => Promise<number>;
  readonly aggregates: ReadonlyMap<string, AnyAggregateDefinition> | undefined;
  readonly foldThroughEvolve: boolean;
  /** Aggregate types a v1 push may not write: their commands are decided (protocol v2). */
  readonly requiresCommand: (aggregateType: string) => boolean;
  readonly limits: SyncLimits;
  /** This instance's feed of new events: woken after a push, read by subscriptions. */
  readonly feed: EventFeed;
  readonly respondSubscription: (subscription: SubscriptionRequest) => Response;
  readonly heartbeatMs: number;
  /**
   * A server with scopes: whether `principal` still holds the whole tenant (`rules.tenant`),
   * asked again at each heartbeat of an open `GET /subscribe` (it was checked at open). Absent:
   * the whole tenant is everyone's, as without scopes.
   */
  readonly holdsTenant?: (principal: Principal) => Promise<boolean>;
}

/**
 * The sync protocol, to mount at `/v1` behind the authentication middleware (errors fall through
 * to the host app's `problem+json` handler), in the principal's tenant:
 * - `POST /push`: commits, each appended on its own (`applyPush`); the body is bounded by
 *   `limits.maxBodyBytes`, its events by `maxEventsPerPush` and `maxEventBytes`
 * - `GET /pull?after&limit&count`: a page of the tenant's events the principal may read
 * - `GET /subscribe?after|from=now` (SSE): the same, live; `Last-Event-ID` wins over the query;
 *   with `holdsTenant`, asked again at every heartbeat: a refusal ends the stream
 *
 * @example
 * app.route('/v1', syncRoutes({ storeFor, canRead, feed, respondSubscription, ... }));
 */
export function syncRoutes(options: SyncRoutesOptions): Hono<SyncEnv> {
  const { storeFor, canRead, limits } = options;
  const routes = new Hono<SyncEnv>();

  routes.post('/push', pushBodyLimit(limits), async (c) => {
    // The envelope only: each commit is validated on its own by applyPush (issue 12, item 2).
    const push = parseOrThrow(PushEnvelopeSchema, await readJson(c.req.raw), 'push request');
    enforceEventLimits(push.commits, limits);
    const principal = c.get('principal');
    const { versionOf } = options;
    const canWrite = (stream: StreamRef) =>
      options.authorize?.canWrite?.(principal, stream) ?? true;
    const response = await applyPush(storeFor(principal), push, {
      ...(options.aggregates === undefined ? {} : { aggregates: options.aggregates }),
      foldThroughEvolve: options.foldThroughEvolve,
      canWrite,
      principal,
      requiresCommand: options.requiresCommand,
      ...(versionOf === undefined
        ? {}
        : { versionOf: (stream: StreamRef) => versionOf(principal, stream) }),
    });
    options.feed.wake(); // this instance's subscribers need not wait for the notification
    return c.json(response);
  });

  routes.get('/pull', async (c) => {
    const query = parseOrThrow(PullQuerySchema, c.req.query(), 'pull query');
    const principal = c.get('principal');
    const store = storeFor(principal);
    // The client names the last event it read here: a log without it is not the one it read.
    const anchor = parseLogAnchor(c.req.header(LOG_ANCHOR_HEADER));
    if (anchor !== undefined) await checkLogAnchor(store, anchor);
    const page = await store.readAll({
      ...(query.after === undefined ? {} : { after: query.after }),
      limit: query.limit,
    });
    const body: PullResponse = {
      events: page.events.filter((event) => canRead(principal, event)).map(toWireEvent),
      cursor: page.cursor,
      hasMore: page.hasMore,
      ...(query.count === 'true'
        ? { remaining: page.hasMore ? await store.countAfter(page.cursor) : 0 }
        : {}),
    };
    // A full page below the horizon never changes: an ETag, and 304 when the client has it.
    return pullPageResponse(c, body, isSettledPage(page, query.limit, query.count === 'true'));
  });

  routes.get('/subscribe', async (c) => {
    const query = parseOrThrow(SubscribeQuerySchema, c.req.query(), 'subscribe query');
    // A reconnecting EventSource sends the last cursor it saw; it wins over the query. A volatile
    // subscription (`from=now`) starts at the end of the tenant's log: live events only.
    const after =
      c.req.header('last-event-id') ??
      (query.from === 'now' ? await storeFor(c.get('principal')).tail() : query.after);
    const principal = c.get('principal');
    const { holdsTenant } = options;
    // INVALID_CURSOR as a 400 before the stream starts: malformed, or past the tenant's end.
    await storeFor(principal).readAll({ ...(after === undefined ? {} : { after }), limit: 1 });
    // Slots per principal and instance, a bounded buffer per subscriber (issue 12).
    return options.respondSubscription({
      request: c.req.raw,
      principal,
      store: storeFor(principal),
      feed: options.feed,
      after,
      heartbeatMs: options.heartbeatMs,
      canRead: (event) => canRead(principal, event),
      ...(holdsTenant === undefined ? {} : { stillGranted: () => holdsTenant(principal) }),
    });
  });

  return routes;
}
