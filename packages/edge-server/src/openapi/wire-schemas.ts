/**
 * The wire shapes of the answers whose schemas core does not hold (it holds the sync protocol's:
 * push, pull, subscribe, commands, scoped sync, streams, problems): the probes, the forget route
 * and the consumer-group routes, which answer what this package builds. They exist for the
 * protocol description (openapi-document.ts); its tests validate real answers against them, so
 * they cannot drift from what the routes send. Problems: problem-schema.ts.
 */
import { CursorSchema, NameSchema, PullResponseSchema } from '@strata/core';
import { z } from 'zod';
import type * as zc from 'zod/v4/core';
import { ParkedIdSchema } from '../app/consumer-group-routes.ts';

/** An object schema's shape, through zod's core definition (classic and mini schemas alike). */
function shapeOf(schema: unknown): Record<string, zc.$ZodType> {
  return (schema as zc.$ZodObject)._zod.def.shape;
}

/** An array schema's element, through zod's core definition. */
function elementOf(schema: unknown): zc.$ZodType {
  return (schema as zc.$ZodArray)._zod.def.element;
}

/**
 * A stored event on the wire, as core's pull answer holds it (core exports the answer, not the
 * event on its own).
 */
export const WireEventSchema = elementOf(shapeOf(PullResponseSchema).events);

/** `GET /healthz`. */
export const HealthResponseSchema = z.strictObject({ ok: z.literal(true) });

/** `GET /readyz` (`ReadinessResponse`). */
export const ReadinessResponseSchema = z.strictObject({
  ok: z.literal(true),
  schemaVersion: z.number().int().min(0),
});

/** `DELETE /v1/streams/{aggregateType}/{aggregateId}/key` (`ForgetResponse`). */
export const ForgetResponseSchema = z.strictObject({
  aggregateType: NameSchema,
  aggregateId: NameSchema,
  forgotten: z.boolean(),
  kid: z.string().optional(),
  forgottenAt: z.string().optional(),
});

const Partition = z.number().int().min(0);
const Count = z.number().int().min(0);
const ParkedId = ParkedIdSchema;

/** An event as the group routes hand it out: the wire event and its tenant cursor. */
export const GroupEventSchema = z.strictObject({
  ...shapeOf(WireEventSchema),
  cursor: CursorSchema,
});

/** `POST /v1/groups/{group}/claim` (`ClaimAnswer`). */
export const ClaimResponseSchema = z.strictObject({
  consumerId: NameSchema,
  owned: z.array(Partition),
  partitions: z.array(
    z.strictObject({
      partition: Partition,
      from: CursorSchema,
      until: CursorSchema,
      attempts: Count,
      events: z.array(z.strictObject({ ...shapeOf(GroupEventSchema), previous: CursorSchema })),
    }),
  ),
  replays: z.array(
    z.strictObject({
      parkedId: ParkedId,
      partition: Partition,
      attempts: Count,
      event: GroupEventSchema,
    }),
  ),
});

/** `PUT` and `GET /v1/groups/{group}`: the group's status (`statusAnswer`). */
export const ConsumerGroupStatusResponseSchema = z.strictObject({
  name: NameSchema,
  partitions: z.array(
    z.strictObject({
      partition: Partition,
      checkpoint: CursorSchema,
      owner: z.optional(NameSchema),
      leaseUntil: z.string().optional(),
      attempts: Count,
      lastError: z.string().optional(),
      retryAt: z.string().optional(),
      lag: Count,
    }),
  ),
  consumers: z.array(z.strictObject({ consumerId: NameSchema, expiresAt: z.string() })),
  lag: Count,
  lagExact: z.boolean(),
  parked: Count,
  queued: Count,
  settings: z.strictObject({
    partitions: z.number().int().min(1),
    maxAttempts: z.number().int().min(1),
    retryBaseMs: Count,
    retryMaxMs: Count,
  }),
});

/** `POST /v1/groups/{group}/ack` (`AckResult`). */
export const AckResponseSchema = z.strictObject({
  acked: z.array(Partition),
  lost: z.array(Partition),
  replaysAcked: z.array(ParkedId),
});

/** `POST /v1/groups/{group}/nack` (`NackOutcome`; a failed replay answers `parked` or `lost` alone). */
export const NackResponseSchema = z.discriminatedUnion('outcome', [
  z.strictObject({ outcome: z.literal('retry'), attempts: Count, retryAt: z.string() }),
  z.strictObject({
    outcome: z.literal('parked'),
    attempts: z.optional(Count),
    parkedId: z.optional(ParkedId),
  }),
  z.strictObject({ outcome: z.literal('lost') }),
]);

/** `POST /v1/groups/{group}/leave`. */
export const LeaveResponseSchema = z.strictObject({ left: z.literal(true) });

/** `GET /v1/groups/{group}/parked`. */
export const ParkedListResponseSchema = z.strictObject({
  parked: z.array(
    z.strictObject({
      id: ParkedId,
      partition: Partition,
      error: z.string(),
      attempts: Count,
      parkedAt: z.string(),
      state: z.enum(['parked', 'queued']),
      event: GroupEventSchema,
    }),
  ),
});

/** `POST /v1/groups/{group}/parked/{id}/replay`. */
export const ReplayResponseSchema = z.strictObject({ queued: z.literal(true) });

/** `DELETE /v1/groups/{group}/parked/{id}`. */
export const DiscardResponseSchema = z.strictObject({ discarded: z.literal(true) });
