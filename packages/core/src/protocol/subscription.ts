import { z } from 'zod';
import { CursorSchema, StoredEventSchema } from './event-schemas.ts';

/**
 * `GET /v1/subscribe` query string. `after` catches up from a cursor (absent: from the
 * beginning); `from=now` is a volatile subscription: live events only, no catch-up. A reconnect's
 * `Last-Event-ID` takes precedence over both.
 */
export const SubscribeQuerySchema = z
  .strictObject({
    after: CursorSchema.optional(),
    from: z.literal('now').optional(),
  })
  .refine((query) => query.after === undefined || query.from === undefined, {
    message: 'give either after or from=now',
  });

/**
 * The JSON `data` of one Server-Sent Events message. An `event` message's SSE `id` is its
 * cursor, so a reconnecting `EventSource` resumes with `Last-Event-ID`. `caught-up` marks the end
 * of the catch-up phase; `heartbeat` keeps idle connections open.
 */
export const SubscriptionMessageSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('event'), cursor: CursorSchema, event: StoredEventSchema }),
  z.strictObject({ kind: z.literal('caught-up'), cursor: CursorSchema }),
  z.strictObject({ kind: z.literal('heartbeat') }),
]);

export type SubscribeQuery = z.infer<typeof SubscribeQuerySchema>;
export type SubscriptionMessage = z.infer<typeof SubscriptionMessageSchema>;
