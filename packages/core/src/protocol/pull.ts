import { z } from 'zod';
import { CursorSchema, StoredEventSchema } from './event-schemas.ts';

/** The most events one pull returns. */
export const MAX_PULL_LIMIT = 1000;

/** `GET /v1/pull` query string: `after` absent means from the beginning. */
export const PullQuerySchema = z.strictObject({
  after: CursorSchema.optional(),
  // Query strings carry text; only plain decimal digits count (no '1e2', ' 5 ' or 'true').
  limit: z
    .union([
      z.number(),
      z
        .string()
        .regex(/^[0-9]{1,4}$/, 'must be a whole number')
        .transform(Number),
    ])
    .pipe(z.number().int().min(1).max(MAX_PULL_LIMIT))
    .default(100),
  /** `true` asks for `remaining` in the response (a count query: ask once per catch-up). */
  count: z.enum(['true', 'false']).optional(),
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
  remaining: z.number().int().min(0).optional(),
});

export type PullQuery = z.infer<typeof PullQuerySchema>;
export type PullResponse = z.infer<typeof PullResponseSchema>;
