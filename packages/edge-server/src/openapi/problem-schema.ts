/**
 * An `application/problem+json` body as the server sends it, one variant per code: core's
 * problem details (`ProblemDetailsSchema`), the request's id (observe-requests.ts adds it to
 * every problem) and the members the code's error class adds (its `details()`), so a client in
 * another language knows where `issues`, `actualVersion` or `retryAfterSeconds` are. Each variant
 * stays open: a newer server may add members. tooling/checks/openapi.test.ts checks every error
 * class's details against its variant, and real problem bodies against the document.
 */
import { type ErrorCode, ProblemDetailsSchema } from '@strata/core';
import { z } from 'zod';
import type * as zc from 'zod/v4/core';

const Text = z.string();
const Count = z.number().int().min(0);

/** The members each code adds to the problem details; the record names every code (typed). */
const MEMBERS: Readonly<Record<ErrorCode, Readonly<Record<string, zc.$ZodType>>>> = {
  VERSION_CONFLICT: {
    aggregateType: Text,
    aggregateId: Text,
    expectedVersion: z.union([Count, z.enum(['any', 'no_stream', 'stream_exists'])]),
    actualVersion: Count,
  },
  VALIDATION_FAILED: {
    issues: z.array(
      z.looseObject({ path: z.array(z.union([z.string(), z.number()])), message: Text }),
    ),
  },
  UNKNOWN_EVENT_TYPE: { eventType: Text, schemaVersion: z.optional(Count) },
  UNKNOWN_COMMAND: {
    aggregateType: Text,
    command: Text,
    inputVersion: z.optional(Count),
    knownInputVersion: z.optional(Count),
  },
  AGGREGATE_NOT_FOUND: { aggregateType: Text, aggregateId: Text },
  NOT_FOUND: {},
  NO_EVENTS: {},
  DUPLICATE_EVENT_ID: { eventId: Text },
  INVALID_CURSOR: { cursor: Text },
  LOG_DIVERGED: { logId: z.optional(Text) },
  DOMAIN_RULE_VIOLATED: { reason: Text },
  REACTOR_REJECTED: { reactor: Text },
  COMMAND_REQUIRED: { aggregateType: Text },
  PREDICTION_MISMATCH: { index: Count },
  UNAUTHORIZED: {},
  FORBIDDEN: { scopes: z.optional(z.array(Text)) },
  PAYLOAD_TOO_LARGE: { limit: Count },
  UNSUPPORTED_MEDIA_TYPE: { accepted: z.array(Text) },
  UNSUPPORTED_PROTOCOL: { protocol: z.optional(Count), minProtocol: Count, maxProtocol: Count },
  RATE_LIMITED: { retryAfterSeconds: z.number().min(0) },
  STORAGE_FAILED: {
    reason: z.enum(['QUOTA_EXCEEDED', 'UNAVAILABLE', 'UPGRADE_BLOCKED', 'ABORTED', 'UNKNOWN']),
  },
  UNAVAILABLE: { retryAfterSeconds: z.optional(z.number().min(0)) },
  INTERNAL: {},
};

/** The members every problem has: core's problem details less `code`, and the request id. */
const { code: _code, ...base } = (ProblemDetailsSchema as unknown as zc.$ZodObject)._zod.def.shape;

/** The codes, in core's order (`ProblemDetailsSchema`'s enum). */
const CODES = Object.values(
  ((ProblemDetailsSchema as unknown as zc.$ZodObject)._zod.def.shape.code as zc.$ZodEnum)._zod.def
    .entries,
) as ErrorCode[];

/** A problem body, by `code`. */
export const ProblemSchema = z.discriminatedUnion(
  'code',
  CODES.map((code) =>
    z.looseObject({
      ...base,
      code: z.literal(code),
      requestId: z.string().min(1).max(64),
      ...MEMBERS[code],
    }),
  ) as unknown as [zc.$ZodTypeDiscriminable, ...zc.$ZodTypeDiscriminable[]],
);
