/**
 * The consumer-group state machine in Postgres, shared by the server-side consumer
 * (`createConsumerGroup`) and the HTTP routes: claim partitions and their next events, ack,
 * nack (retry, then park), heartbeat, leave. Every transition is one short transaction whose
 * conditions (owner, checkpoint) make a stale or crashed consumer's late calls harmless.
 */
import { NotFoundError, ValidationFailedError } from '@strata/core';
import { decryptStoredEvents } from '../crypto/decrypt-stored-events.ts';
import { type EventRow, eventColumns, toStoredEvent } from '../postgres/event-row.ts';
import {
  compareGlobalCursors,
  decodeGlobalCursor,
  encodeGlobalCursor,
  type GlobalCursor,
} from '../postgres/global-cursor.ts';
import type { PostgresStoredEvent } from '../postgres/postgres-event-store.ts';
import type { SqlDatabase, SqlExecutor } from '../postgres/sql-database.ts';
import {
  type ConsumerRetryPolicy,
  DEFAULT_CONSUMER_RETRY_POLICY,
  decideConsumerRetry,
} from './retry-policy.ts';

/** Names a group: server-side groups may span every tenant; HTTP groups live in one tenant. */
export interface ConsumerGroupRef {
  readonly name: string;
  /** Only this tenant's events; every tenant's when absent. */
  readonly tenant?: string;
}

/** What is fixed when a group is created (later calls with other values keep the stored ones). */
export interface ConsumerGroupSettings extends ConsumerRetryPolicy {
  /** How many ways the events are split, by aggregate: the most consumers that can share work. */
  readonly partitions: number;
}

/** Sixteen partitions and {@link DEFAULT_CONSUMER_RETRY_POLICY}. */
export const DEFAULT_CONSUMER_GROUP_SETTINGS: ConsumerGroupSettings = {
  partitions: 16,
  ...DEFAULT_CONSUMER_RETRY_POLICY,
};

/** Thirty seconds: how long a silent consumer keeps its partitions before others take them. */
export const DEFAULT_CONSUMER_LEASE_MS = 30_000;

/** A group as stored. */
export interface ConsumerGroup extends ConsumerGroupSettings {
  readonly id: string;
  readonly name: string;
  readonly tenant: string | undefined;
}

/** A partition's events handed to one consumer, in order. */
export interface ClaimedPartition {
  readonly partition: number;
  /** The partition's checkpoint: ack and nack quote it, so a stale consumer's call is refused. */
  readonly from: string;
  /** Ack up to here once every event is handled (the cursor of the last event read). */
  readonly until: string;
  /** Failed attempts so far at the first event (0 unless it is being retried). */
  readonly attempts: number;
  readonly events: readonly PostgresStoredEvent[];
}

/** A parked event an operator queued for another try. */
export interface QueuedReplay {
  readonly parkedId: string;
  readonly partition: number;
  /** Failed attempts so far. */
  readonly attempts: number;
  readonly event: PostgresStoredEvent;
}

/** What one claim hands a consumer. */
export interface Claim {
  readonly consumerId: string;
  /** Partitions the consumer holds now, with or without events. */
  readonly owned: readonly number[];
  /** Partitions with events waiting, each in the partition's order. */
  readonly partitions: readonly ClaimedPartition[];
  readonly replays: readonly QueuedReplay[];
}

/** Options of `claimEvents`. */
export interface ClaimOptions {
  readonly consumerId: string;
  /** Most events per claim, over all partitions. Defaults to 100. */
  readonly limit?: number;
  /** Lease on the partitions and on the membership. Defaults to {@link DEFAULT_CONSUMER_LEASE_MS}. */
  readonly leaseMs?: number;
}

/** "Handled every event of `partition` after `from` up to and including `to`." */
export interface PartitionAck {
  readonly partition: number;
  readonly from: string;
  readonly to: string;
}

/** "Handled the events after `from` up to `to` (if any); the next one, `eventId`, failed." */
export interface PartitionNack {
  readonly partition: number;
  readonly from: string;
  readonly to?: string;
  readonly eventId: string;
  readonly error: string;
}

/** What a nack did. `lost`: the consumer no longer holds the partition at `from`. */
export type NackOutcome =
  | { readonly outcome: 'retry'; readonly attempts: number; readonly retryAt: string }
  | { readonly outcome: 'parked'; readonly attempts: number; readonly parkedId: string }
  | { readonly outcome: 'lost' };

/** Which acks took. A lost partition's events are redelivered to its new owner. */
export interface AckResult {
  readonly acked: readonly number[];
  readonly lost: readonly number[];
  readonly replaysAcked: readonly string[];
}

interface GroupRow {
  id: string;
  tenant: string | null;
  name: string;
  partitions: number;
  max_attempts: number;
  retry_base_ms: number;
  retry_max_ms: number;
}

const GROUP_COLUMNS =
  'id::text AS id, tenant, name, partitions, max_attempts, retry_base_ms, retry_max_ms';

/**
 * The partition of an event, computed in the database so reads filter there: a hash of the
 * tenant and the aggregate, so one aggregate's events always land in one partition (and keep
 * their order). `$partitions` is the parameter holding the group's partition count.
 */
export function partitionExpression(alias: string, partitionsParam: string): string {
  const key = `${alias}.tenant || '/' || ${alias}.aggregate_type || '/' || ${alias}.aggregate_id`;
  return `(((hashtextextended(${key}, 0) % ${partitionsParam}) + ${partitionsParam}) % ${partitionsParam})::integer`;
}

/**
 * Creates the group (and its partitions, at the start of the global order) unless it exists;
 * returns it as stored. Settings only apply at creation.
 *
 * @example
 * const group = await ensureConsumerGroup(db, { name: 'emails' }, { partitions: 8 });
 */
export async function ensureConsumerGroup(
  db: SqlDatabase,
  ref: ConsumerGroupRef,
  settings: Partial<ConsumerGroupSettings> = {},
): Promise<ConsumerGroup> {
  const wanted = { ...DEFAULT_CONSUMER_GROUP_SETTINGS, ...settings };
  validateSettings(wanted);
  const existing = await findConsumerGroup(db, ref);
  if (existing !== undefined) return existing;
  await db.transaction(async (tx) => {
    const { rows } = await tx.query<{ id: string }>(
      `INSERT INTO strata_consumer_groups
         (tenant, name, partitions, max_attempts, retry_base_ms, retry_max_ms)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT DO NOTHING
       RETURNING id::text AS id`,
      [
        ref.tenant ?? null,
        ref.name,
        wanted.partitions,
        wanted.maxAttempts,
        wanted.retryBaseMs,
        wanted.retryMaxMs,
      ],
    );
    const id = rows[0]?.id;
    if (id === undefined) return; // created at the same time by another instance
    await tx.query(
      `INSERT INTO strata_consumer_group_partitions (group_id, partition)
       SELECT $1::bigint, generate_series(0, $2::integer - 1)`,
      [id, wanted.partitions],
    );
  });
  const created = await findConsumerGroup(db, ref);
  if (created === undefined) throw new Error(`Consumer group ${ref.name} vanished on creation`);
  return created;
}

/** The group as stored, or undefined. */
export async function findConsumerGroup(
  db: SqlExecutor,
  ref: ConsumerGroupRef,
): Promise<ConsumerGroup | undefined> {
  const { rows } = await db.query<GroupRow>(
    `SELECT ${GROUP_COLUMNS} FROM strata_consumer_groups
     WHERE name = $1 AND tenant IS NOT DISTINCT FROM $2::text`,
    [ref.name, ref.tenant ?? null],
  );
  const row = rows[0];
  return row === undefined ? undefined : toGroup(row);
}

/** The group, or `NOT_FOUND`. */
export async function getConsumerGroup(
  db: SqlExecutor,
  ref: ConsumerGroupRef,
): Promise<ConsumerGroup> {
  const group = await findConsumerGroup(db, ref);
  if (group === undefined) throw new NotFoundError(`No consumer group ${ref.name}`);
  return group;
}

/**
 * One consumer's turn: renews its membership, rebalances (keeps at most its fair share
 * `ceil(partitions / live consumers)`, gives extras back, takes free or expired partitions up to
 * it), then reads the next events of every partition it holds that is not waiting for a retry,
 * after each partition's checkpoint, in the no-skip global order. Replays queued by an operator
 * come along, decrypted (`decryptStoredEvents`). A claim is a batch boundary: it assumes the consumer finished its previous claim.
 *
 * @example
 * const claim = await claimEvents(db, group, { consumerId: 'worker-1', limit: 100 });
 */
export async function claimEvents(
  db: SqlDatabase,
  group: ConsumerGroup,
  options: ClaimOptions,
): Promise<Claim> {
  const { consumerId } = options;
  const limit = options.limit ?? 100;
  const leaseMs = options.leaseMs ?? DEFAULT_CONSUMER_LEASE_MS;
  validateConsumer(consumerId, leaseMs);
  if (!Number.isInteger(limit) || limit < 1) {
    throw new ValidationFailedError('limit must be a positive integer', [
      { path: ['limit'], message: 'must be a positive integer' },
    ]);
  }

  const { held, replayRows } = await db.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO strata_consumer_group_members (group_id, consumer_id, expires_at)
       VALUES ($1, $2, now() + $3 * interval '1 millisecond')
       ON CONFLICT (group_id, consumer_id) DO UPDATE SET expires_at = excluded.expires_at`,
      [group.id, consumerId, leaseMs],
    );
    // Claims of one group take turns here, so two consumers never take the same partition.
    const { rows: partitions } = await tx.query<{
      partition: number;
      owner: string | null;
      leased: boolean;
    }>(
      `SELECT partition, owner, coalesce(lease_until > now(), false) AS leased
       FROM strata_consumer_group_partitions WHERE group_id = $1
       ORDER BY partition FOR UPDATE`,
      [group.id],
    );
    await tx.query(
      'DELETE FROM strata_consumer_group_members WHERE group_id = $1 AND expires_at < now()',
      [group.id],
    );
    const { rows: live } = await tx.query<{ count: string | number }>(
      'SELECT count(*) AS count FROM strata_consumer_group_members WHERE group_id = $1',
      [group.id],
    );
    const share = Math.ceil(group.partitions / Math.max(1, Number(live[0]?.count ?? 1)));
    // Still ours even if the lease ran out: nobody took it, and the checkpoint guards acks.
    const mine = partitions.filter((row) => row.owner === consumerId).map((row) => row.partition);
    const free = partitions
      .filter((row) => row.owner !== consumerId && (row.owner === null || !row.leased))
      .map((row) => row.partition);
    const keep = [...mine.slice(0, share), ...free.slice(0, Math.max(0, share - mine.length))];
    const release = mine.slice(share);
    if (release.length > 0) {
      await tx.query(
        `UPDATE strata_consumer_group_partitions SET owner = NULL, lease_until = NULL
         WHERE group_id = $1 AND partition = ANY($2::integer[]) AND owner = $3`,
        [group.id, release, consumerId],
      );
    }
    const { rows: held } = await tx.query<{
      partition: number;
      checkpoint_transaction_id: string;
      checkpoint_position: string | number;
      attempts: number;
      ready: boolean;
    }>(
      `UPDATE strata_consumer_group_partitions
       SET owner = $3, lease_until = now() + $4 * interval '1 millisecond'
       WHERE group_id = $1 AND partition = ANY($2::integer[])
       RETURNING partition, checkpoint_transaction_id::text AS checkpoint_transaction_id,
         checkpoint_position, attempts, coalesce(retry_at <= now(), true) AS ready`,
      [group.id, keep, consumerId, leaseMs],
    );
    const { rows: replayRows } = await tx.query<{
      id: string;
      partition: number;
      attempts: number;
      event_position: string | number;
    }>(
      `UPDATE strata_consumer_group_parked SET owner = $2,
         lease_until = now() + $3 * interval '1 millisecond'
       WHERE id IN (
         SELECT id FROM strata_consumer_group_parked
         WHERE group_id = $1 AND state = 'queued'
           AND (owner IS NULL OR owner = $2 OR lease_until < now())
         ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED)
       RETURNING id::text AS id, partition, attempts, event_position`,
      [group.id, consumerId, leaseMs, limit],
    );
    return { held: held.sort((a, b) => a.partition - b.partition), replayRows };
  });

  const checkpoints = held
    .filter((row) => row.ready)
    .map((row) => ({
      partition: row.partition,
      attempts: row.attempts,
      cursor: {
        transactionId: row.checkpoint_transaction_id,
        position: Number(row.checkpoint_position),
      },
    }));
  const read = await readPartitions(db, group, checkpoints, limit);
  const replayEvents = await storedEventsAt(
    db,
    replayRows.map((row) => Number(row.event_position)),
  );
  // Right before events leave the store: a forgotten aggregate's payload never does.
  const decrypted = await decryptStoredEvents(db, [
    ...read.map(({ event }) => event),
    ...replayEvents.values(),
  ]);
  const events = read.map(({ partition }, index) => ({
    partition,
    event: decrypted[index] as PostgresStoredEvent,
  }));
  const replayByPosition = new Map(
    decrypted.slice(read.length).map((event) => [event.position, event]),
  );
  const partitions: ClaimedPartition[] = [];
  for (const checkpoint of checkpoints) {
    const own = events.filter((event) => event.partition === checkpoint.partition);
    const last = own.at(-1);
    if (last === undefined) continue;
    partitions.push({
      partition: checkpoint.partition,
      from: encodeGlobalCursor(checkpoint.cursor),
      until: last.event.cursor,
      attempts: checkpoint.attempts,
      events: own.map(({ event }) => event),
    });
  }
  return {
    consumerId,
    owned: held.map((row) => row.partition),
    partitions,
    replays: replayRows.flatMap((row) => {
      const event = replayByPosition.get(Number(row.event_position));
      return event === undefined
        ? []
        : [{ parkedId: row.id, partition: row.partition, attempts: row.attempts, event }];
    }),
  };
}

/** The next events of the given partitions after their checkpoints, in the no-skip order. */
async function readPartitions(
  db: SqlExecutor,
  group: ConsumerGroup,
  checkpoints: readonly { partition: number; cursor: GlobalCursor }[],
  limit: number,
): Promise<{ partition: number; event: PostgresStoredEvent }[]> {
  if (checkpoints.length === 0) return [];
  // The earliest checkpoint bounds the scan, so the global-order index does the work.
  const earliest = checkpoints
    .map((checkpoint) => checkpoint.cursor)
    .reduce((a, b) => (compareGlobalCursors(a, b) <= 0 ? a : b));
  const params: unknown[] = [
    checkpoints.map((checkpoint) => checkpoint.partition),
    checkpoints.map((checkpoint) => checkpoint.cursor.transactionId),
    checkpoints.map((checkpoint) => checkpoint.cursor.position),
    earliest.transactionId,
    earliest.position,
    limit,
    group.partitions,
  ];
  if (group.tenant !== undefined) params.push(group.tenant);
  const { rows } = await db.query<EventRow & { partition: number }>(
    `SELECT ${eventColumns('e')}, c.partition
     FROM strata_events e
     JOIN unnest($1::integer[], $2::text[], $3::bigint[]) AS c(partition, transaction_id, position)
       ON c.partition = ${partitionExpression('e', '$7::integer')}
      AND (e.transaction_id, e.position) > (c.transaction_id::xid8, c.position)
     WHERE (e.transaction_id, e.position) > ($4::text::xid8, $5::bigint)
       -- The no-skip rule: never pass a transaction that may still commit.
       AND e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
       ${group.tenant === undefined ? '' : 'AND e.tenant = $8'}
     ORDER BY e.transaction_id, e.position
     LIMIT $6`,
    params,
  );
  return rows.map((row) => ({ partition: Number(row.partition), event: toStoredEvent(row) }));
}

/** Stored events by position. */
export async function storedEventsAt(
  db: SqlExecutor,
  positions: readonly number[],
): Promise<Map<number, PostgresStoredEvent>> {
  if (positions.length === 0) return new Map();
  const { rows } = await db.query<EventRow>(
    `SELECT ${eventColumns('e')} FROM strata_events e WHERE e.position = ANY($1::bigint[])`,
    [positions],
  );
  return new Map(rows.map((row) => [Number(row.position), toStoredEvent(row)]));
}

/**
 * Moves checkpoints: each ack takes only if the consumer still owns the partition and its
 * checkpoint is still `from` (else `lost`: someone else has, or will, redeliver those events).
 * Acking queued replays deletes them from the parked events.
 *
 * @example
 * await ackEvents(db, group, 'worker-1', claim.partitions.map(({ partition, from, until }) => ({ partition, from, to: until })));
 */
export async function ackEvents(
  db: SqlExecutor,
  group: ConsumerGroup,
  consumerId: string,
  acks: readonly PartitionAck[],
  replays: readonly string[] = [],
  leaseMs = DEFAULT_CONSUMER_LEASE_MS,
): Promise<AckResult> {
  validateConsumer(consumerId, leaseMs);
  const parsed = acks.map((ack, index) => {
    checkPartition(group, ack.partition, ['partitions', index, 'partition']);
    const from = decodeGlobalCursor(ack.from);
    const to = decodeGlobalCursor(ack.to);
    if (compareGlobalCursors(to, from) < 0) {
      throw new ValidationFailedError('An ack cannot move a checkpoint back', [
        { path: ['partitions', index, 'to'], message: 'must not come before from' },
      ]);
    }
    return { partition: ack.partition, from, to };
  });
  let acked: number[] = [];
  if (parsed.length > 0) {
    const { rows } = await db.query<{ partition: number }>(
      `UPDATE strata_consumer_group_partitions p
       SET checkpoint_transaction_id = a.to_transaction_id::xid8,
           checkpoint_position = a.to_position,
           lease_until = now() + $8 * interval '1 millisecond',
           -- A moved checkpoint has a new first event: its failures start from zero.
           attempts = CASE WHEN a.moved THEN 0 ELSE p.attempts END,
           last_error = CASE WHEN a.moved THEN NULL ELSE p.last_error END,
           retry_at = CASE WHEN a.moved THEN NULL ELSE p.retry_at END
       FROM unnest($2::integer[], $3::text[], $4::bigint[], $5::text[], $6::bigint[], $7::boolean[])
         AS a(partition, from_transaction_id, from_position, to_transaction_id, to_position, moved)
       WHERE p.group_id = $1 AND p.partition = a.partition AND p.owner = $9
         AND p.checkpoint_transaction_id = a.from_transaction_id::xid8
         AND p.checkpoint_position = a.from_position
       RETURNING p.partition`,
      [
        group.id,
        parsed.map((ack) => ack.partition),
        parsed.map((ack) => ack.from.transactionId),
        parsed.map((ack) => ack.from.position),
        parsed.map((ack) => ack.to.transactionId),
        parsed.map((ack) => ack.to.position),
        parsed.map((ack) => compareGlobalCursors(ack.to, ack.from) > 0),
        leaseMs,
        consumerId,
      ],
    );
    acked = rows.map((row) => Number(row.partition));
  }
  let replaysAcked: string[] = [];
  if (replays.length > 0) {
    const { rows } = await db.query<{ id: string }>(
      `DELETE FROM strata_consumer_group_parked
       WHERE group_id = $1 AND id = ANY($2::bigint[]) AND owner = $3 AND state = 'queued'
       RETURNING id::text AS id`,
      [group.id, replays.map(parseParkedId), consumerId],
    );
    replaysAcked = rows.map((row) => row.id);
  }
  const took = new Set(acked);
  return {
    acked: [...took].sort((a, b) => a - b),
    lost: parsed.map((ack) => ack.partition).filter((partition) => !took.has(partition)),
    replaysAcked,
  };
}

/**
 * Reports a failed event: acks the handled events before it, then counts the failure. Below the
 * group's `maxAttempts` the partition waits out a backoff and the event is redelivered; at it,
 * the event is parked with its error and the checkpoint moves past it, so the group moves on.
 *
 * @example
 * await nackEvent(db, group, 'worker-1', { partition, from, to: lastHandled, eventId: event.id, error: String(error) });
 */
export async function nackEvent(
  db: SqlDatabase,
  group: ConsumerGroup,
  consumerId: string,
  nack: PartitionNack,
  leaseMs = DEFAULT_CONSUMER_LEASE_MS,
): Promise<NackOutcome> {
  validateConsumer(consumerId, leaseMs);
  checkPartition(group, nack.partition, ['partition']);
  const from = decodeGlobalCursor(nack.from);
  const head = nack.to === undefined ? from : decodeGlobalCursor(nack.to);
  if (compareGlobalCursors(head, from) < 0) {
    throw new ValidationFailedError('A nack cannot move a checkpoint back', [
      { path: ['to'], message: 'must not come before from' },
    ]);
  }
  return db.transaction(async (tx) => {
    const { rows: owned } = await tx.query<{ attempts: number }>(
      `SELECT attempts FROM strata_consumer_group_partitions
       WHERE group_id = $1 AND partition = $2 AND owner = $3
         AND checkpoint_transaction_id = $4::text::xid8 AND checkpoint_position = $5
       FOR UPDATE`,
      [group.id, nack.partition, consumerId, from.transactionId, from.position],
    );
    const row = owned[0];
    if (row === undefined) return { outcome: 'lost' } as const;
    const [failed] = (
      await readPartitions(tx, group, [{ partition: nack.partition, cursor: head }], 1)
    ).map(({ event }) => event);
    if (failed === undefined || failed.id !== nack.eventId) {
      throw new ValidationFailedError(
        `Event ${nack.eventId} is not the next event of partition ${nack.partition}`,
        [{ path: ['eventId'], message: 'must be the event right after `to` (or `from`)' }],
      );
    }
    const attempts = (compareGlobalCursors(head, from) === 0 ? row.attempts : 0) + 1;
    const decision = decideConsumerRetry(attempts, group);
    if (decision.kind === 'retry') {
      const { rows } = await tx.query<{ retry_at: string | Date }>(
        `UPDATE strata_consumer_group_partitions
         SET checkpoint_transaction_id = $3::text::xid8, checkpoint_position = $4,
             attempts = $5, last_error = $6,
             retry_at = now() + $7 * interval '1 millisecond',
             lease_until = now() + $8 * interval '1 millisecond'
         WHERE group_id = $1 AND partition = $2
         RETURNING retry_at`,
        [
          group.id,
          nack.partition,
          head.transactionId,
          head.position,
          attempts,
          nack.error,
          decision.delayMs,
          leaseMs,
        ],
      );
      const retryAt = rows[0]?.retry_at ?? new Date();
      return {
        outcome: 'retry',
        attempts,
        retryAt: (retryAt instanceof Date ? retryAt : new Date(retryAt)).toISOString(),
      } as const;
    }
    const { rows: parked } = await tx.query<{ id: string }>(
      `INSERT INTO strata_consumer_group_parked (group_id, partition, event_position, error, attempts)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (group_id, event_position) DO UPDATE
       SET error = excluded.error, attempts = excluded.attempts, parked_at = now(),
           state = 'parked', owner = NULL, lease_until = NULL
       RETURNING id::text AS id`,
      [group.id, nack.partition, failed.position, nack.error, attempts],
    );
    const past = decodeGlobalCursor(failed.cursor);
    await tx.query(
      `UPDATE strata_consumer_group_partitions
       SET checkpoint_transaction_id = $3::text::xid8, checkpoint_position = $4,
           attempts = 0, last_error = NULL, retry_at = NULL,
           lease_until = now() + $5 * interval '1 millisecond'
       WHERE group_id = $1 AND partition = $2`,
      [group.id, nack.partition, past.transactionId, past.position, leaseMs],
    );
    return { outcome: 'parked', attempts, parkedId: parked[0]?.id ?? '' } as const;
  });
}

/**
 * A queued replay failed again: it goes back to the parked events with its new error (replays
 * are not retried on their own; an operator queues them again).
 */
export async function nackReplay(
  db: SqlExecutor,
  group: ConsumerGroup,
  consumerId: string,
  parkedId: string,
  error: string,
): Promise<boolean> {
  const { rows } = await db.query(
    `UPDATE strata_consumer_group_parked
     SET state = 'parked', error = $4, attempts = attempts + 1, parked_at = now(),
         owner = NULL, lease_until = NULL
     WHERE group_id = $1 AND id = $2 AND owner = $3 AND state = 'queued'
     RETURNING id`,
    [group.id, parseParkedId(parkedId), consumerId, error],
  );
  return rows.length > 0;
}

/**
 * Keeps a busy consumer's membership and leases alive between claims (a long batch must not
 * look like a crash). Returns the partitions it still holds.
 */
export async function renewLeases(
  db: SqlDatabase,
  group: ConsumerGroup,
  consumerId: string,
  leaseMs = DEFAULT_CONSUMER_LEASE_MS,
): Promise<number[]> {
  validateConsumer(consumerId, leaseMs);
  return db.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO strata_consumer_group_members (group_id, consumer_id, expires_at)
       VALUES ($1, $2, now() + $3 * interval '1 millisecond')
       ON CONFLICT (group_id, consumer_id) DO UPDATE SET expires_at = excluded.expires_at`,
      [group.id, consumerId, leaseMs],
    );
    await tx.query(
      `UPDATE strata_consumer_group_parked SET lease_until = now() + $3 * interval '1 millisecond'
       WHERE group_id = $1 AND owner = $2 AND state = 'queued'`,
      [group.id, consumerId, leaseMs],
    );
    const { rows } = await tx.query<{ partition: number }>(
      `UPDATE strata_consumer_group_partitions SET lease_until = now() + $3 * interval '1 millisecond'
       WHERE group_id = $1 AND owner = $2 RETURNING partition`,
      [group.id, consumerId, leaseMs],
    );
    return rows.map((row) => Number(row.partition)).sort((a, b) => a - b);
  });
}

/** A consumer stops: its partitions and replays are free for the others at once. */
export async function leaveConsumerGroup(
  db: SqlDatabase,
  group: ConsumerGroup,
  consumerId: string,
): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query(
      'DELETE FROM strata_consumer_group_members WHERE group_id = $1 AND consumer_id = $2',
      [group.id, consumerId],
    );
    await tx.query(
      `UPDATE strata_consumer_group_partitions SET owner = NULL, lease_until = NULL
       WHERE group_id = $1 AND owner = $2`,
      [group.id, consumerId],
    );
    await tx.query(
      `UPDATE strata_consumer_group_parked SET owner = NULL, lease_until = NULL
       WHERE group_id = $1 AND owner = $2`,
      [group.id, consumerId],
    );
  });
}

/** A parked event's id as the database takes it; `VALIDATION_FAILED` for anything else. */
export function parseParkedId(id: string): string {
  if (!/^[1-9][0-9]{0,17}$/.test(id)) {
    throw new ValidationFailedError(`Not a parked event id: ${id}`, [
      { path: ['parkedId'], message: 'must be a positive whole number' },
    ]);
  }
  return id;
}

function toGroup(row: GroupRow): ConsumerGroup {
  return {
    id: row.id,
    name: row.name,
    tenant: row.tenant ?? undefined,
    partitions: row.partitions,
    maxAttempts: row.max_attempts,
    retryBaseMs: row.retry_base_ms,
    retryMaxMs: row.retry_max_ms,
  };
}

function validateSettings(settings: ConsumerGroupSettings): void {
  const checks: [keyof ConsumerGroupSettings, number, number][] = [
    ['partitions', 1, 1024],
    ['maxAttempts', 1, 1000],
    ['retryBaseMs', 0, 86_400_000],
    ['retryMaxMs', 0, 86_400_000],
  ];
  for (const [key, min, max] of checks) {
    const value = settings[key];
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new ValidationFailedError(`${key} must be a whole number from ${min} to ${max}`, [
        { path: [key], message: `must be a whole number from ${min} to ${max}` },
      ]);
    }
  }
}

function validateConsumer(consumerId: string, leaseMs: number): void {
  if (consumerId === '' || consumerId.length > 200) {
    throw new ValidationFailedError('consumerId must be 1 to 200 characters', [
      { path: ['consumerId'], message: 'must be 1 to 200 characters' },
    ]);
  }
  if (!Number.isInteger(leaseMs) || leaseMs < 100 || leaseMs > 3_600_000) {
    throw new ValidationFailedError('leaseMs must be a whole number from 100 to 3 600 000', [
      { path: ['leaseMs'], message: 'must be a whole number from 100 to 3600000' },
    ]);
  }
}

function checkPartition(group: ConsumerGroup, partition: number, path: (string | number)[]) {
  if (!Number.isInteger(partition) || partition < 0 || partition >= group.partitions) {
    throw new ValidationFailedError(`No partition ${partition} in group ${group.name}`, [
      { path, message: `must be a whole number below ${group.partitions}` },
    ]);
  }
}
