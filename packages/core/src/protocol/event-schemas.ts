import { z } from 'zod';
import { isKsuid } from '../ids/ksuid.ts';
import { JsonObjectSchema, JsonValueSchema } from './json-schema.ts';
import { MAX_INT4, SafeTextSchema, TimestampSchema } from './safe-text.ts';

const MAX_NAME_LENGTH = 200;

/** A KSUID: 27 base62 characters. */
export const EventIdSchema = z
  .string()
  .refine(isKsuid, { message: 'must be a KSUID (27 base62 characters)' });

/**
 * Names of types and ids of aggregates, commits, clients and consumers: non-empty, bounded, and
 * stored faithfully by Postgres (no NUL, no lone surrogates: `SafeTextSchema`).
 */
export const NameSchema = SafeTextSchema.min(1).max(MAX_NAME_LENGTH);

/** An aggregate version: the first event is 1; a Postgres `integer`, so at most 2^31 - 1. */
export const VersionSchema = z.number().int().min(1).max(MAX_INT4);

/** Event metadata: well-known string keys plus app JSON keys. */
export const EventMetadataSchema = (
  JsonObjectSchema as z.ZodType<Record<string, unknown>, unknown>
).pipe(
  z
    .object({
      clientId: NameSchema.optional(),
      commandId: NameSchema.optional(),
      correlationId: NameSchema.optional(),
      causationId: NameSchema.optional(),
      userId: NameSchema.optional(),
    })
    .catchall(JsonValueSchema),
);

/** An event envelope on the wire (`POST /v1/push`). */
export const EventEnvelopeSchema = z.strictObject({
  id: EventIdSchema,
  type: NameSchema,
  schemaVersion: z.number().int().min(1).max(10_000),
  aggregateType: NameSchema,
  aggregateId: NameSchema,
  version: VersionSchema,
  occurredAt: TimestampSchema,
  data: JsonValueSchema,
  metadata: EventMetadataSchema,
});

/** A stored event on the wire (`GET /v1/pull`, `GET /v1/subscribe`). */
export const StoredEventSchema = EventEnvelopeSchema.extend({
  position: z.number().int().min(1),
  recordedAt: TimestampSchema,
});

/** An opaque cursor into the server's global order. */
export const CursorSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9_.~-]+$/, 'not a cursor');
