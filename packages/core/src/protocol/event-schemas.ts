import * as z from 'zod/mini';
import { isKsuid } from '../ids/ksuid.ts';
import { JsonObjectSchema, JsonValueSchema } from './json-schema.ts';
import { MAX_INT4, SafeTextSchema, TimestampSchema } from './safe-text.ts';

const MAX_NAME_LENGTH = 200;

/** A KSUID: 27 base62 characters. */
export const EventIdSchema = z
  .string()
  .check(z.refine(isKsuid, { message: 'must be a KSUID (27 base62 characters)' }));

/**
 * Names of types and ids of aggregates, commits, clients and consumers: non-empty, bounded, and
 * stored faithfully by Postgres (no NUL, no lone surrogates: `SafeTextSchema`).
 */
export const NameSchema = SafeTextSchema.check(z.minLength(1), z.maxLength(MAX_NAME_LENGTH));

/** An aggregate version: the first event is 1; a Postgres `integer`, so at most 2^31 - 1. */
export const VersionSchema = z.number().check(z.int(), z.minimum(1), z.maximum(MAX_INT4));

/** Event metadata: well-known string keys plus app JSON keys. */
export const EventMetadataSchema = z.pipe(
  JsonObjectSchema as z.ZodMiniType<Record<string, unknown>, unknown>,
  z.catchall(
    z.object({
      clientId: z.optional(NameSchema),
      commandId: z.optional(NameSchema),
      correlationId: z.optional(NameSchema),
      causationId: z.optional(NameSchema),
      userId: z.optional(NameSchema),
    }),
    JsonValueSchema,
  ),
);

/** An event envelope on the wire (`POST /v1/push`). */
export const EventEnvelopeSchema = z.strictObject({
  id: EventIdSchema,
  type: NameSchema,
  schemaVersion: z.number().check(z.int(), z.minimum(1), z.maximum(10_000)),
  aggregateType: NameSchema,
  aggregateId: NameSchema,
  version: VersionSchema,
  occurredAt: TimestampSchema,
  data: JsonValueSchema,
  metadata: EventMetadataSchema,
});

/** A stored event on the wire (`GET /v1/pull`, `GET /v1/subscribe`). */
export const StoredEventSchema = z.extend(EventEnvelopeSchema, {
  position: z.number().check(z.int(), z.minimum(1)),
  recordedAt: TimestampSchema,
});

/** An opaque cursor into the server's global order. */
export const CursorSchema = z
  .string()
  .check(z.minLength(1), z.maxLength(200), z.regex(/^[A-Za-z0-9_.~-]+$/, 'not a cursor'));
