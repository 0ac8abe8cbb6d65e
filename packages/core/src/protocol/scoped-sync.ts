// Scoped sync (protocol v2 reads): a device names the scopes it holds, each with its own
// cursor, and receives only their aggregates. Positions are the tenant's dense positions; an
// aggregate that joins a scope is sent whole (its history at the position where it joined),
// one that leaves is announced with a `left` item, both in the scope's order.
import * as z from 'zod/mini';
import { parseScopeKey } from '../scopes/scope-key.ts';
import { CursorSchema, NameSchema, StoredEventSchema, VersionSchema } from './event-schemas.ts';
import { JsonValueSchema } from './json-schema.ts';
import { MAX_PULL_LIMIT } from './pull.ts';
import { queryInteger } from './query-integer.ts';
import { TimestampSchema } from './safe-text.ts';
import { SubscriptionClosingReasonSchema } from './subscription.ts';

/** The most scopes one pull or subscription names. */
export const MAX_SCOPES_PER_REQUEST = 100;

/** A scope's canonical key (`scopeKey`): `name` or `name:{"param":"value"}`. */
export const ScopeKeySchema = z.string().check(
  z.minLength(1),
  z.maxLength(1000),
  z.refine((key) => parseScopeKey(key) !== undefined, { message: 'not a scope key' }),
);

/** A snapshot schema's fingerprint (`snapshotFingerprint`). */
export const SnapshotFingerprintSchema = z.string().check(z.minLength(1), z.maxLength(200));

/**
 * One scope a pull reads, after the cursor the device holds for it (absent: from the start).
 * `bootstrap`: the device is back-filling this scope, so an aggregate of a type named in the
 * request's `snapshots` comes as its server snapshot instead of the events before it (see
 * `ScopeSnapshotItemSchema`). Ask for it on every page of a back-fill, and on none after it.
 */
export const ScopeReadSchema = z.strictObject({
  scope: ScopeKeySchema,
  after: z.optional(CursorSchema),
  bootstrap: z.optional(z.boolean()),
});

/** The most aggregate types one pull names in `snapshots`. */
export const MAX_SNAPSHOT_TYPES = 100;

/** `POST /v2/pull` body: the scopes with their cursors; no scope twice. */
export const ScopedPullRequestSchema = z
  .strictObject({
    scopes: z.array(ScopeReadSchema).check(z.minLength(1), z.maxLength(MAX_SCOPES_PER_REQUEST)),
    limit: z._default(queryInteger(1, MAX_PULL_LIMIT), 100),
    /** Aggregate types whose snapshots the device reads, each with the fingerprint it decodes. */
    snapshots: z.optional(
      z.record(NameSchema, SnapshotFingerprintSchema).check(
        z.refine((types) => Object.keys(types).length <= MAX_SNAPSHOT_TYPES, {
          message: `names more than ${MAX_SNAPSHOT_TYPES} aggregate types`,
        }),
      ),
    ),
  })
  .check(
    z.refine((body) => new Set(body.scopes.map((read) => read.scope)).size === body.scopes.length, {
      message: 'names a scope twice',
    }),
  );

/** An event of the device's scopes: `scopes` are those of the request it is in. */
export const ScopedEventItemSchema = z.strictObject({
  kind: z.literal('event'),
  cursor: CursorSchema,
  event: StoredEventSchema,
  scopes: z.array(ScopeKeySchema).check(z.minLength(1)),
});

/** An aggregate left `scope` at `cursor` (an event moved it): the device drops what only it held. */
export const ScopeLeftItemSchema = z.strictObject({
  kind: z.literal('left'),
  cursor: CursorSchema,
  scope: ScopeKeySchema,
  aggregateType: NameSchema,
  aggregateId: NameSchema,
});

/**
 * An aggregate's server snapshot sent instead of its history, in a `bootstrap` read of a pull
 * naming the aggregate's type and this `fingerprint` in `snapshots`: its state at `version`. It
 * comes just before the event at `version` (same cursor); the events before that are left out
 * of the read, those after it follow as `event` items. Older events are read on demand
 * (`GET /v1/streams/...`).
 */
export const ScopeSnapshotItemSchema = z.strictObject({
  kind: z.literal('snapshot'),
  cursor: CursorSchema,
  scopes: z.array(ScopeKeySchema).check(z.minLength(1)),
  aggregateType: NameSchema,
  aggregateId: NameSchema,
  version: VersionSchema,
  state: JsonValueSchema,
  fingerprint: SnapshotFingerprintSchema,
  takenAt: TimestampSchema,
});

/** One item of a scoped read, in the scopes' order. */
export const ScopedItemSchema = z.discriminatedUnion('kind', [
  ScopedEventItemSchema,
  ScopeLeftItemSchema,
  ScopeSnapshotItemSchema,
]);

/**
 * `POST /v2/pull` answer: items in order, each scope's next cursor, and whether more are
 * waiting in any of them. Scopes that are caught up all get the same cursor, so a device whose
 * scopes are all caught up follows them with one subscription.
 */
export const ScopedPullResponseSchema = z.strictObject({
  items: z.array(ScopedItemSchema),
  cursors: z.record(ScopeKeySchema, CursorSchema),
  hasMore: z.boolean(),
});

/** `GET /v2/subscribe` query: `scope` repeated (or one), all read from the one `after` cursor. */
export const ScopedSubscribeQuerySchema = z.strictObject({
  scope: z.union([
    ScopeKeySchema,
    z.array(ScopeKeySchema).check(z.minLength(1), z.maxLength(MAX_SCOPES_PER_REQUEST)),
  ]),
  after: z.optional(CursorSchema),
});

/**
 * `POST /v2/subscribe` body: the same as the query of `GET /v2/subscribe`, for scope sets whose
 * keys make a URL longer than servers and proxies accept (16 KB of request line and headers on
 * Node; clients switch to POST well before that).
 */
export const ScopedSubscribeBodySchema = z
  .strictObject({
    scopes: z.array(ScopeKeySchema).check(z.minLength(1), z.maxLength(MAX_SCOPES_PER_REQUEST)),
    after: z.optional(CursorSchema),
  })
  .check(
    z.refine((body) => new Set(body.scopes).size === body.scopes.length, {
      message: 'names a scope twice',
    }),
  );

/**
 * The JSON `data` of one `GET /v2/subscribe` message: the items of a scoped read (SSE `id` is
 * the item's cursor, shared by every scope of the subscription), then as in v1.
 */
export const ScopedSubscriptionMessageSchema = z.discriminatedUnion('kind', [
  ScopedEventItemSchema,
  ScopeLeftItemSchema,
  ScopeSnapshotItemSchema,
  z.strictObject({ kind: z.literal('caught-up'), cursor: CursorSchema }),
  z.strictObject({ kind: z.literal('heartbeat') }),
  z.strictObject({
    kind: z.literal('closing'),
    reason: SubscriptionClosingReasonSchema,
    resumeAfter: z.optional(CursorSchema),
  }),
]);

export type ScopeRead = z.infer<typeof ScopeReadSchema>;
export type ScopedPullRequest = z.input<typeof ScopedPullRequestSchema>;
export type ScopedPullResponse = z.infer<typeof ScopedPullResponseSchema>;
export type ScopedSubscribeBody = z.infer<typeof ScopedSubscribeBodySchema>;
export type ScopedItem = z.infer<typeof ScopedItemSchema>;
export type ScopedSubscriptionMessage = z.infer<typeof ScopedSubscriptionMessageSchema>;
