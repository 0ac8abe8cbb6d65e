import * as z from 'zod/mini';
import { CursorSchema, StoredEventSchema } from './event-schemas.ts';
import { queryInteger } from './query-integer.ts';

/** The most events one pull returns. */
export const MAX_PULL_LIMIT = 1000;

/** `GET /v1/pull` query string: `after` absent means from the beginning. */
export const PullQuerySchema = z.strictObject({
  after: z.optional(CursorSchema),
  limit: z._default(queryInteger(1, MAX_PULL_LIMIT), 100),
  /** `true` asks for `remaining` in the response (a count query: ask once per catch-up). */
  count: z.optional(z.enum(['true', 'false'])),
});

/** `GET /v1/pull` response. */
export const PullResponseSchema = z.strictObject({
  events: z.array(StoredEventSchema),
  /** Pass as `after` to continue. */
  cursor: CursorSchema,
  /** True when more events were waiting. */
  hasMore: z.boolean(),
  /**
   * Events waiting after this page, when the query asked (`count=true`): what a catch-up still
   * has to fetch. It may count events the principal is not allowed to read, which are skipped.
   */
  remaining: z.optional(z.number().check(z.int(), z.minimum(0))),
});

export type PullQuery = z.infer<typeof PullQuerySchema>;
export type PullResponse = z.infer<typeof PullResponseSchema>;
