import {
  AggregateNotFoundError,
  parseOrThrow,
  type StoredEvent,
  StreamHistoryQuerySchema,
  type StreamHistoryResponse,
  type StreamMetadata,
  StreamParamsSchema,
  type StreamRef,
} from '@strata/core';
import { Hono } from 'hono';
import type { PostgresEventStore } from '../postgres/postgres-event-store.ts';
import type { Principal } from './auth.ts';
import type { SyncEnv } from './sync-env.ts';
import { toWireEvent } from './wire-event.ts';

/** What the stream routes need from the app. */
export interface StreamRoutesOptions {
  readonly storeFor: (principal: Principal) => PostgresEventStore;
  readonly canRead: (principal: Principal, event: StoredEvent) => boolean;
}

/**
 * The stream routes, to mount at `/v1/streams` behind the authentication middleware:
 * `GET /:aggregateType/:aggregateId` (metadata) and `.../events?fromVersion&limit` (history), in
 * the principal's tenant. Events the principal may not read are left out of a history page; a
 * stream whose last event it may not read is answered as missing (404), so its existence does
 * not leak either.
 *
 * @example
 * app.route('/v1/streams', streamRoutes({ storeFor, canRead }));
 */
export function streamRoutes(options: StreamRoutesOptions): Hono<SyncEnv> {
  const routes = new Hono<SyncEnv>();
  const readableMetadata = async (
    store: PostgresEventStore,
    principal: Principal,
    stream: StreamRef,
  ) => {
    const metadata = await store.streamMetadata(stream);
    if (metadata === undefined || !options.canRead(principal, metadata.lastEvent)) {
      throw new AggregateNotFoundError(stream);
    }
    return metadata;
  };

  // Path parameters are checked like body fields: a NUL or lone surrogate is a 400, not a query.
  const streamOf = (params: Record<string, string>): StreamRef =>
    parseOrThrow(StreamParamsSchema, params, 'stream path');

  routes.get('/:aggregateType/:aggregateId', async (c) => {
    const stream = streamOf(c.req.param());
    const principal = c.get('principal');
    const { lastEvent, createdAt, snapshotVersion } = await readableMetadata(
      options.storeFor(principal),
      principal,
      stream,
    );
    const body: StreamMetadata = {
      aggregateType: stream.aggregateType,
      aggregateId: stream.aggregateId,
      version: lastEvent.version,
      createdAt,
      updatedAt: lastEvent.recordedAt,
      lastEventId: lastEvent.id,
      lastEventType: lastEvent.type,
      lastCursor: lastEvent.tenantCursor,
      ...(snapshotVersion === undefined ? {} : { snapshotVersion }),
    };
    return c.json(body);
  });

  routes.get('/:aggregateType/:aggregateId/events', async (c) => {
    const stream = streamOf(c.req.param());
    const query = parseOrThrow(StreamHistoryQuerySchema, c.req.query(), 'history query');
    const principal = c.get('principal');
    const store = options.storeFor(principal);
    const { lastEvent } = await readableMetadata(store, principal, stream);
    const events = await store.readStream(stream, query);
    const nextVersion = (events.at(-1)?.version ?? query.fromVersion - 1) + 1;
    const body: StreamHistoryResponse = {
      aggregateType: stream.aggregateType,
      aggregateId: stream.aggregateId,
      events: events.filter((event) => options.canRead(principal, event)).map(toWireEvent),
      version: lastEvent.version,
      nextVersion: Math.max(nextVersion, query.fromVersion),
      hasMore: nextVersion <= lastEvent.version,
    };
    return c.json(body);
  });

  return routes;
}
