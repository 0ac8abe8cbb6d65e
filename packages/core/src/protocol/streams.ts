import * as z from 'zod/mini';
import { CursorSchema, EventIdSchema, NameSchema, StoredEventSchema } from './event-schemas.ts';
import { queryInteger } from './query-integer.ts';
import { MAX_INT4, TimestampSchema } from './safe-text.ts';

/** The most events one history page returns. */
export const MAX_HISTORY_LIMIT = 1000;

/** `GET /v1/streams/:aggregateType/:aggregateId/events` query string. */
export const StreamHistoryQuerySchema = z.strictObject({
  /** First version to return. Defaults to 1. */
  fromVersion: z._default(queryInteger(1, MAX_INT4), 1),
  limit: z._default(queryInteger(1, MAX_HISTORY_LIMIT), 100),
});

/**
 * The path parameters of the stream routes (`/v1/streams/:aggregateType/:aggregateId`, its
 * `/events` and `/key`): names as `NameSchema` allows them, so a NUL or a lone surrogate in a
 * path is a 400, never a query.
 *
 * @example
 * const stream = parseOrThrow(StreamParamsSchema, c.req.param(), 'stream path');
 */
export const StreamParamsSchema = z.strictObject({
  aggregateType: NameSchema,
  aggregateId: NameSchema,
});

/** One page of an aggregate's history, in version order. */
export const StreamHistoryResponseSchema = z.strictObject({
  aggregateType: NameSchema,
  aggregateId: NameSchema,
  events: z.array(StoredEventSchema),
  /** The stream's version when the page was read. */
  version: z.number().check(z.int(), z.minimum(1)),
  /** Pass as `fromVersion` to continue. */
  nextVersion: z.number().check(z.int(), z.minimum(1)),
  hasMore: z.boolean(),
});

/** `GET /v1/streams/:aggregateType/:aggregateId`: what the stream is, without its events. */
export const StreamMetadataSchema = z.strictObject({
  aggregateType: NameSchema,
  aggregateId: NameSchema,
  /** The version of the last event; versions are contiguous, so also the event count. */
  version: z.number().check(z.int(), z.minimum(1)),
  /** When the server stored the first and the last event. */
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
  lastEventId: EventIdSchema,
  lastEventType: NameSchema,
  /** The last event's place in the global order. */
  lastCursor: CursorSchema,
  /** The version of the server's snapshot of the stream, if it keeps one. */
  snapshotVersion: z.optional(z.number().check(z.int(), z.minimum(1))),
});

export type StreamHistoryQuery = z.infer<typeof StreamHistoryQuerySchema>;
export type StreamHistoryResponse = z.infer<typeof StreamHistoryResponseSchema>;
export type StreamMetadata = z.infer<typeof StreamMetadataSchema>;
