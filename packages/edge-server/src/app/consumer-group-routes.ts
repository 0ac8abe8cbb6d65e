/**
 * Consumer groups over HTTP (issue 7), on the same claim/ack/nack state machine as the
 * server-side consumer. Mounted under `/v1/groups` by `createSyncApp`, so the sync API's
 * authentication applies; a group lives in the principal's tenant and sees only its events.
 */
import {
  CursorSchema,
  NameSchema,
  NotFoundError,
  PayloadTooLargeError,
  parseOrThrow,
  queryInteger,
  SafeTextSchema,
  type StoredEvent,
  ValidationFailedError,
} from '@strata/core';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { ackEvents, nackEvent, nackReplay } from '../consumer-groups/acknowledge-events.ts';
import { claimEvents } from '../consumer-groups/claim-events.ts';
import {
  consumerGroupStatus,
  DEFAULT_LAG_SCAN_LIMIT,
  discardParkedEvent,
  listParkedEvents,
  replayParkedEvent,
} from '../consumer-groups/consumer-group-admin.ts';
import {
  type ConsumerGroup,
  ensureConsumerGroup,
  getConsumerGroup,
} from '../consumer-groups/consumer-group-definition.ts';
import { leaveConsumerGroup } from '../consumer-groups/consumer-membership.ts';
import type { SqlDatabase } from '../postgres/sql-database.ts';
import type { Principal } from './auth.ts';
import {
  claimAnswer,
  parkedAnswer,
  statusAnswer,
  storedAcks,
  storedNack,
  storedSettings,
} from './consumer-group-answers.ts';
import { consumerGroupCursors } from './consumer-group-cursors.ts';
import { readJson } from './read-json.ts';
import type { SyncEnv } from './sync-env.ts';

/** Consumer groups bodies are small; this bounds what a request may make the server parse. */
const MAX_BODY_BYTES = 256 * 1024;

// Core's NameSchema: no NUL or lone surrogate reaches a text column (issue 12, item 9).
const ConsumerIdSchema = NameSchema;
const LeaseMsSchema = z.number().int().min(100).max(3_600_000);
// Core's protocol schemas are zod/mini ones (small browser bundles): bounded with checks here.
const ErrorTextSchema = SafeTextSchema.check(z.minLength(1), z.maxLength(4000));
/** A parked event's id (`/:group/parked/:id`, a nack's `parkedId`, a replay's id). */
export const ParkedIdSchema = z.string().regex(/^[1-9][0-9]{0,17}$/, 'must be a parked event id');

/**
 * `PUT /v1/groups/:group`: settings fixed at creation (ignored when the group exists). The wire
 * keeps its flat names: `retryBaseMs` and `retryMaxMs` are the group's `backoff.initialDelayMs`
 * and `backoff.maxDelayMs`.
 */
export const CreateConsumerGroupSchema = z.strictObject({
  partitions: z.number().int().min(1).max(1024).optional(),
  maxAttempts: z.number().int().min(1).max(1000).optional(),
  retryBaseMs: z.number().int().min(0).max(86_400_000).optional(),
  retryMaxMs: z.number().int().min(0).max(86_400_000).optional(),
});

/** `POST /v1/groups/:group/claim`. */
export const ClaimRequestSchema = z.strictObject({
  consumerId: ConsumerIdSchema,
  limit: z.number().int().min(1).max(1000).default(100),
  leaseMs: LeaseMsSchema.optional(),
});

/** `POST /v1/groups/:group/ack`: partitions handled up to `to`, replays handled. */
export const AckRequestSchema = z.strictObject({
  consumerId: ConsumerIdSchema,
  partitions: z
    .array(
      z.strictObject({
        partition: z.number().int().min(0),
        from: CursorSchema,
        to: CursorSchema,
      }),
    )
    .max(1024)
    .default([]),
  replays: z.array(ParkedIdSchema).max(1000).default([]),
  leaseMs: LeaseMsSchema.optional(),
});

/**
 * `POST /v1/groups/:group/nack`: either a partition's event failed (the events after `from` up to
 * `to` were handled, the next one, `eventId`, failed: `to` is that event's `previous` from the
 * claim), or a queued replay failed.
 */
export const NackRequestSchema = z.union([
  z.strictObject({
    consumerId: ConsumerIdSchema,
    partition: z.number().int().min(0),
    from: CursorSchema,
    to: z.optional(CursorSchema),
    eventId: NameSchema,
    error: ErrorTextSchema,
    leaseMs: LeaseMsSchema.optional(),
  }),
  z.strictObject({
    consumerId: ConsumerIdSchema,
    parkedId: ParkedIdSchema,
    error: ErrorTextSchema,
  }),
]);

/** `POST /v1/groups/:group/leave`. */
export const LeaveRequestSchema = z.strictObject({ consumerId: ConsumerIdSchema });

/** `GET /v1/groups/:group/parked`. */
export const ParkedQuerySchema = z.strictObject({
  after: ParkedIdSchema.optional(),
  limit: z._default(queryInteger(1, 1000), 100),
});

/** A group's name (`/:group`): core's NameSchema, narrowed to what reads well in a URL path. */
export const GroupNameSchema = NameSchema.check(
  z.maxLength(200),
  z.regex(/^[A-Za-z0-9_.~-]+$/, 'letters, digits and _ . ~ - only'),
);

/** What a principal may ask of the consumer-group routes (issue 12, item 5). */
export interface ConsumerGroupRouteLimits {
  /**
   * Most partitions a group created over HTTP may have; more is VALIDATION_FAILED. Each
   * partition is a row, a lease and a checkpoint that claims and status calls visit. Defaults to
   * 64. (Server-side groups, `createConsumerGroup`, may have up to 1,024.)
   */
  readonly maxPartitions: number;
  /** Most events a status call reads to count lag (`consumerGroupStatus`). Defaults to 10,000. */
  readonly lagScanLimit: number;
}

/** 64 partitions, lag counted over at most 10,000 events. */
export const DEFAULT_CONSUMER_GROUP_ROUTE_LIMITS: ConsumerGroupRouteLimits = {
  maxPartitions: 64,
  lagScanLimit: DEFAULT_LAG_SCAN_LIMIT,
};

/** Options of `consumerGroupRoutes`. */
export interface ConsumerGroupRoutesOptions {
  readonly database: SqlDatabase;
  /** Events the principal may not read are acked past but not handed out. Defaults to all. */
  readonly canRead?: (principal: Principal, event: StoredEvent) => boolean;
  /** Bounds on what a call may cost; each defaults as `DEFAULT_CONSUMER_GROUP_ROUTE_LIMITS` says. */
  readonly limits?: Partial<ConsumerGroupRouteLimits>;
}

/**
 * The consumer-group routes, to mount at `/v1/groups` behind the authentication middleware
 * (errors fall through to the host app's `problem+json` handler). Every cursor they hand out or
 * take (`from`, `until`, an event's `cursor` and `previous`, a status checkpoint) is a tenant
 * cursor, `t<n>` (`consumer-group-cursors.ts`); any other is `INVALID_CURSOR`.
 * - `PUT /:group` create (body: partitions, maxAttempts, retryBaseMs, retryMaxMs) → status
 * - `GET /:group` status: checkpoints, owners, consumers, lag (counted over at most
 *   `lagScanLimit` events: `lagExact: false` means "at least"), parked counts
 * - `POST /:group/claim` `{ consumerId, limit?, leaseMs? }` → `{ owned, partitions: [{ partition,
 *   from, until, attempts, events }], replays: [{ parkedId, event }] }`
 * - `POST /:group/ack` `{ consumerId, partitions: [{ partition, from, to }], replays? }` →
 *   `{ acked, lost, replaysAcked }` (ack `to: until` once a partition's events are handled)
 * - `POST /:group/nack` `{ consumerId, partition, from, to?, eventId, error }` →
 *   `{ outcome: 'retry', attempts, retryAt } | { outcome: 'parked', ... } | { outcome: 'lost' }`,
 *   or `{ consumerId, parkedId, error }` for a failed replay
 * - `POST /:group/leave` `{ consumerId }`
 * - `GET /:group/parked?after&limit`, `POST /:group/parked/:id/replay` (queue it for the group),
 *   `DELETE /:group/parked/:id`
 *
 * @example
 * app.route('/v1/groups', consumerGroupRoutes({ database }));
 */
export function consumerGroupRoutes(options: ConsumerGroupRoutesOptions): Hono<SyncEnv> {
  const { database, canRead = () => true } = options;
  const limits: ConsumerGroupRouteLimits = {
    ...DEFAULT_CONSUMER_GROUP_ROUTE_LIMITS,
    ...options.limits,
  };
  const routes = new Hono<SyncEnv>();

  routes.use(
    '*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new PayloadTooLargeError(
          `A consumer group request is at most ${MAX_BODY_BYTES} bytes`,
          MAX_BODY_BYTES,
        );
      },
    }),
  );

  const refOf = (principal: Principal, group: string | undefined) => ({
    name: parseOrThrow(GroupNameSchema, group, 'group name'),
    tenant: principal.tenant,
  });
  const groupOf = (principal: Principal, group: string | undefined): Promise<ConsumerGroup> =>
    getConsumerGroup(database, refOf(principal, group));
  const cursorsOf = (principal: Principal) => consumerGroupCursors(database, principal.tenant);

  routes.put('/:group', async (c) => {
    const principal = c.get('principal');
    const settings = parseOrThrow(
      CreateConsumerGroupSchema,
      await readJson(c.req.raw, {}),
      'consumer group settings',
    );
    if (settings.partitions !== undefined && settings.partitions > limits.maxPartitions) {
      const message = `must be at most ${limits.maxPartitions}`;
      throw new ValidationFailedError(`partitions ${message}`, [{ path: ['partitions'], message }]);
    }
    const group = await ensureConsumerGroup(
      database,
      refOf(principal, c.req.param('group')),
      storedSettings(settings),
    );
    return c.json(await statusBody(principal, group));
  });

  routes.get('/:group', async (c) => {
    const principal = c.get('principal');
    const group = await groupOf(principal, c.req.param('group'));
    return c.json(await statusBody(principal, group));
  });

  routes.post('/:group/claim', async (c) => {
    const principal = c.get('principal');
    const body = parseOrThrow(ClaimRequestSchema, await readJson(c.req.raw), 'claim request');
    const group = await groupOf(principal, c.req.param('group'));
    const claim = await claimEvents(database, group, {
      consumerId: body.consumerId,
      limit: body.limit,
      ...(body.leaseMs === undefined ? {} : { leaseMs: body.leaseMs }),
    });
    const readable = (event: StoredEvent) => canRead(principal, event);
    return c.json(await claimAnswer(cursorsOf(principal), claim, readable));
  });

  routes.post('/:group/ack', async (c) => {
    const principal = c.get('principal');
    const body = parseOrThrow(AckRequestSchema, await readJson(c.req.raw), 'ack request');
    const group = await groupOf(principal, c.req.param('group'));
    const acks = await storedAcks(cursorsOf(principal), group.id, body.partitions);
    return c.json(
      await ackEvents(database, group, body.consumerId, acks, body.replays, body.leaseMs),
    );
  });

  routes.post('/:group/nack', async (c) => {
    const principal = c.get('principal');
    const body = parseOrThrow(NackRequestSchema, await readJson(c.req.raw), 'nack request');
    const group = await groupOf(principal, c.req.param('group'));
    if ('parkedId' in body) {
      const parked = await nackReplay(database, group, body.consumerId, body.parkedId, body.error);
      return c.json(parked ? { outcome: 'parked' } : { outcome: 'lost' });
    }
    const { consumerId, leaseMs, ...quoted } = body;
    const nack = await storedNack(cursorsOf(principal), group.id, quoted);
    return c.json(await nackEvent(database, group, consumerId, nack, leaseMs));
  });

  routes.post('/:group/leave', async (c) => {
    const principal = c.get('principal');
    const body = parseOrThrow(LeaveRequestSchema, await readJson(c.req.raw), 'leave request');
    const group = await groupOf(principal, c.req.param('group'));
    await leaveConsumerGroup(database, group, body.consumerId);
    return c.json({ left: true });
  });

  routes.get('/:group/parked', async (c) => {
    const principal = c.get('principal');
    const query = parseOrThrow(ParkedQuerySchema, c.req.query(), 'parked query');
    const group = await groupOf(principal, c.req.param('group'));
    const parked = await listParkedEvents(database, group, {
      limit: query.limit,
      ...(query.after === undefined ? {} : { after: query.after }),
    });
    return c.json({
      parked: parked.filter((entry) => canRead(principal, entry.event)).map(parkedAnswer),
    });
  });

  routes.post('/:group/parked/:id/replay', async (c) => {
    const principal = c.get('principal');
    const group = await groupOf(principal, c.req.param('group'));
    const id = parseOrThrow(ParkedIdSchema, c.req.param('id'), 'parked event id');
    if (!(await replayParkedEvent(database, group, id))) {
      throw new NotFoundError(`No parked event ${id} in group ${group.name}`);
    }
    return c.json({ queued: true });
  });

  routes.delete('/:group/parked/:id', async (c) => {
    const principal = c.get('principal');
    const group = await groupOf(principal, c.req.param('group'));
    const id = parseOrThrow(ParkedIdSchema, c.req.param('id'), 'parked event id');
    if (!(await discardParkedEvent(database, group, id))) {
      throw new NotFoundError(`No parked event ${id} in group ${group.name}`);
    }
    return c.json({ discarded: true });
  });

  async function statusBody(principal: Principal, group: ConsumerGroup) {
    const status = await consumerGroupStatus(database, group, {
      lagScanLimit: limits.lagScanLimit,
    });
    return statusAnswer(cursorsOf(principal), group, status);
  }

  return routes;
}
