import * as z from 'zod/mini';
import { CursorSchema, StoredEventSchema } from './event-schemas.ts';

/**
 * `GET /v1/subscribe` query string. `after` catches up from a cursor (absent: from the
 * beginning); `from=now` is a volatile subscription: live events only, no catch-up. A reconnect's
 * `Last-Event-ID` takes precedence over both.
 */
export const SubscribeQuerySchema = z
  .strictObject({
    after: z.optional(CursorSchema),
    from: z.optional(z.literal('now')),
  })
  .check(
    z.refine((query) => query.after === undefined || query.from === undefined, {
      message: 'give either after or from=now',
    }),
  );

/**
 * Why the server ends a subscription with a `closing` message. `slow-reader`: the client read
 * more slowly than events came, so its unsent buffer reached the server's cap (issue 12).
 * `access-changed`: a server with scopes no longer grants the principal the whole tenant (its
 * `rules.tenant` is checked again at every heartbeat); the reconnect hears why (403).
 */
export const SubscriptionClosingReasonSchema = z.enum(['slow-reader', 'access-changed']);

/**
 * The request header by which a client says which optional subscription messages it
 * understands (comma-separated): `closing` (a `closing` message, reason `slow-reader`) and
 * `access-changed` (a `closing` message with that reason, sent only to a client that also says
 * `closing`). A client that does not send one never gets it, the stream just ends: clients from
 * before a kind or reason existed reject it.
 *
 * @example
 * fetch(`${url}v1/subscribe`, { headers: { [SUBSCRIPTION_FEATURES_HEADER]: 'closing,access-changed' } });
 */
export const SUBSCRIPTION_FEATURES_HEADER = 'strata-subscription-features';

/**
 * The JSON `data` of one Server-Sent Events message. An `event` message's SSE `id` is its
 * cursor, so a reconnecting `EventSource` resumes with `Last-Event-ID`. `caught-up` marks the end
 * of the catch-up phase; `heartbeat` keeps idle connections open. `closing` (only to clients that
 * ask for it, see `SUBSCRIPTION_FEATURES_HEADER`) is the last message before the server ends the
 * stream: reconnect now, after `resumeAfter` (absent: from the beginning), which is the SSE id
 * of the last event message sent, so nothing is lost or repeated.
 */
export const SubscriptionMessageSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('event'), cursor: CursorSchema, event: StoredEventSchema }),
  z.strictObject({ kind: z.literal('caught-up'), cursor: CursorSchema }),
  z.strictObject({ kind: z.literal('heartbeat') }),
  z.strictObject({
    kind: z.literal('closing'),
    reason: SubscriptionClosingReasonSchema,
    resumeAfter: z.optional(CursorSchema),
  }),
]);

/**
 * Every message kind this version knows. A client skips a kind not in it (a newer server's),
 * as SSE clients skip unknown event types.
 *
 * @example
 * if (!SUBSCRIPTION_MESSAGE_KINDS.includes(kind)) continue;
 */
export const SUBSCRIPTION_MESSAGE_KINDS: readonly string[] =
  SubscriptionMessageSchema._zod.def.options.flatMap((option) => option.shape.kind._zod.def.values);

export type SubscribeQuery = z.infer<typeof SubscribeQuerySchema>;
export type SubscriptionMessage = z.infer<typeof SubscriptionMessageSchema>;
export type SubscriptionClosingReason = z.infer<typeof SubscriptionClosingReasonSchema>;
