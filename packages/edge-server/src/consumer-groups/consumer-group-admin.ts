/**
 * Looking after a consumer group: its status (checkpoints, consumers, lag) and its parked events
 * (list, queue for replay, discard). Shared by server code and the HTTP routes.
 */
import { ValidationFailedError } from '@strata/core';
import { decryptStoredEvents } from '../crypto/decrypt-stored-events.ts';
import { encodeGlobalCursor, type GlobalCursor } from '../postgres/global-cursor.ts';
import { isoTime } from '../postgres/iso-time.ts';
import type { PostgresStoredEvent } from '../postgres/postgres-stored-event.ts';
import type { SqlExecutor } from '../postgres/sql-database.ts';
import { parseParkedId } from './acknowledge-events.ts';
import { storedEventsAt } from './claim-events.ts';
import { type ConsumerGroup, partitionExpression } from './consumer-group-definition.ts';
import { checkpointScanParams } from './read-partitions.ts';

/** One partition of a group, as `consumerGroupStatus` reports it. */
export interface PartitionStatus {
  readonly partition: number;
  readonly checkpoint: string;
  /** The consumer holding it, while its lease runs. */
  readonly owner: string | undefined;
  readonly leaseUntil: string | undefined;
  /** Failed attempts at the event after the checkpoint. */
  readonly attempts: number;
  readonly lastError: string | undefined;
  readonly retryAt: string | undefined;
  /**
   * Events readers may serve now that the partition has not acked yet: exact when the group's
   * `lagExact` is true, else at least this many.
   */
  readonly lag: number;
}

/** A group's state: who holds what, how far behind, how much is parked. */
export interface ConsumerGroupStatus {
  readonly name: string;
  readonly tenant: string | undefined;
  readonly partitions: readonly PartitionStatus[];
  readonly consumers: readonly { readonly consumerId: string; readonly expiresAt: string }[];
  /** Sum of the partitions' lag (at least this many when `lagExact` is false). */
  readonly lag: number;
  /**
   * False when more events wait than the status counts (`lagScanLimit`): every lag is then a
   * lower bound ("at least").
   */
  readonly lagExact: boolean;
  readonly parked: number;
  /** Parked events queued for replay, not yet handled. */
  readonly queued: number;
}

/** Options of `consumerGroupStatus`. */
export interface ConsumerGroupStatusOptions {
  /** Most events after the earliest checkpoint that the lag count reads. Defaults to 10,000. */
  readonly lagScanLimit?: number;
}

/**
 * How many events a status call reads at most to count lag: one index range scan of the
 * tenant's events after the group's earliest checkpoint, whatever the number of partitions.
 */
export const DEFAULT_LAG_SCAN_LIMIT = 10_000;

/** A parked event: it failed `attempts` times, the last time with `error`. */
export interface ParkedEvent {
  readonly id: string;
  readonly partition: number;
  readonly error: string;
  readonly attempts: number;
  readonly parkedAt: string;
  /** `parked` waits for an operator; `queued` waits for the group's next claim. */
  readonly state: 'parked' | 'queued';
  readonly event: PostgresStoredEvent;
}

/** Options of `listParkedEvents`. */
export interface ListParkedOptions {
  /** Only ids above this one (paging). */
  readonly after?: string;
  /** Defaults to 100. */
  readonly limit?: number;
}

/**
 * The group's status. Lag is bounded work (issue 12, item 5): the events after the earliest
 * checkpoint are read once, in the global order through the (tenant, transaction_id, position)
 * index, at most `lagScanLimit` of them, and counted per partition. A group far behind reports
 * `lagExact: false` and lags that are lower bounds; the cost does not grow with the tenant's log
 * or the number of partitions.
 *
 * @example
 * const { lag, lagExact, parked, consumers } = await consumerGroupStatus(db, group);
 */
export async function consumerGroupStatus(
  db: SqlExecutor,
  group: ConsumerGroup,
  options: ConsumerGroupStatusOptions = {},
): Promise<ConsumerGroupStatus> {
  const lagScanLimit = options.lagScanLimit ?? DEFAULT_LAG_SCAN_LIMIT;
  if (!Number.isInteger(lagScanLimit) || lagScanLimit < 1) {
    throw new RangeError('lagScanLimit must be a whole number of at least 1');
  }
  const { rows: partitions } = await db.query<{
    partition: number;
    transaction_id: string;
    position: string | number;
    owner: string | null;
    lease_until: string | Date | null;
    attempts: number;
    last_error: string | null;
    retry_at: string | Date | null;
  }>(
    `SELECT p.partition, p.checkpoint_transaction_id::text AS transaction_id,
       p.checkpoint_position AS position,
       CASE WHEN p.lease_until > now() THEN p.owner END AS owner,
       CASE WHEN p.lease_until > now() THEN p.lease_until END AS lease_until,
       p.attempts, p.last_error, p.retry_at
     FROM strata_consumer_group_partitions p
     WHERE p.group_id = $1
     ORDER BY p.partition`,
    [group.id],
  );
  const checkpoints = partitions.map((row) => ({
    partition: Number(row.partition),
    cursor: { transactionId: row.transaction_id, position: Number(row.position) },
  }));
  const { lags, exact } = await countLag(db, group, checkpoints, lagScanLimit);
  const { rows: consumers } = await db.query<{ consumer_id: string; expires_at: string | Date }>(
    `SELECT consumer_id, expires_at FROM strata_consumer_group_members
     WHERE group_id = $1 AND expires_at > now() ORDER BY consumer_id`,
    [group.id],
  );
  const { rows: parked } = await db.query<{ state: string; count: string | number }>(
    `SELECT state, count(*) AS count FROM strata_consumer_group_parked
     WHERE group_id = $1 GROUP BY state`,
    [group.id],
  );
  const countOf = (state: string) => Number(parked.find((row) => row.state === state)?.count ?? 0);
  const statuses = partitions.map(
    (row): PartitionStatus => ({
      partition: Number(row.partition),
      checkpoint: encodeGlobalCursor({
        transactionId: row.transaction_id,
        position: Number(row.position),
      }),
      owner: row.owner ?? undefined,
      leaseUntil: row.lease_until === null ? undefined : isoTime(row.lease_until),
      attempts: row.attempts,
      lastError: row.last_error ?? undefined,
      retryAt: row.retry_at === null ? undefined : isoTime(row.retry_at),
      lag: lags.get(Number(row.partition)) ?? 0,
    }),
  );
  return {
    name: group.name,
    tenant: group.tenant,
    partitions: statuses,
    consumers: consumers.map((row) => ({
      consumerId: row.consumer_id,
      expiresAt: isoTime(row.expires_at),
    })),
    lag: statuses.reduce((sum, partition) => sum + partition.lag, 0),
    lagExact: exact,
    parked: countOf('parked'),
    queued: countOf('queued'),
  };
}

/**
 * Lag per partition from one bounded scan: the first `limit` servable events after the earliest
 * checkpoint, each counted for its partition when it lies after that partition's checkpoint.
 * Exact when the scan ended before the limit.
 */
async function countLag(
  db: SqlExecutor,
  group: ConsumerGroup,
  checkpoints: readonly { partition: number; cursor: GlobalCursor }[],
  limit: number,
): Promise<{ lags: Map<number, number>; exact: boolean }> {
  if (checkpoints.length === 0) return { lags: new Map(), exact: true };
  const params = checkpointScanParams(group, checkpoints, limit);
  const { rows } = await db.query<{ partition: number | null; lag: string | number }>(
    `WITH scanned AS (
       SELECT e.transaction_id, e.position, ${partitionExpression('e', '$7::integer')} AS partition
       FROM strata_events e
       WHERE (e.transaction_id, e.position) > ($4::text::xid8, $5::bigint)
         -- The no-skip rule: what readers may serve now.
         AND e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
         ${group.tenant === undefined ? '' : 'AND e.tenant = $8'}
       ORDER BY e.transaction_id, e.position
       LIMIT $6
     )
     SELECT c.partition, count(*) AS lag
     FROM scanned s
     JOIN unnest($1::integer[], $2::text[], $3::bigint[]) AS c(partition, transaction_id, position)
       ON c.partition = s.partition
      AND (s.transaction_id, s.position) > (c.transaction_id::xid8, c.position)
     GROUP BY c.partition
     UNION ALL
     SELECT NULL, count(*) FROM scanned`,
    params,
  );
  const lags = new Map<number, number>();
  let scanned = 0;
  for (const row of rows) {
    if (row.partition === null) scanned = Number(row.lag);
    else lags.set(Number(row.partition), Number(row.lag));
  }
  return { lags, exact: scanned < limit };
}

/**
 * The group's parked events, oldest first, with their (decrypted) events.
 *
 * @example
 * for (const parked of await listParkedEvents(db, group)) console.log(parked.event.id, parked.error);
 */
export async function listParkedEvents(
  db: SqlExecutor,
  group: ConsumerGroup,
  options: ListParkedOptions = {},
): Promise<ParkedEvent[]> {
  const limit = options.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new ValidationFailedError('limit must be a whole number from 1 to 1000', [
      { path: ['limit'], message: 'must be a whole number from 1 to 1000' },
    ]);
  }
  const { rows } = await db.query<{
    id: string;
    partition: number;
    event_position: string | number;
    error: string;
    attempts: number;
    parked_at: string | Date;
    state: 'parked' | 'queued';
  }>(
    `SELECT id::text AS id, partition, event_position, error, attempts, parked_at, state
     FROM strata_consumer_group_parked
     WHERE group_id = $1 AND id > $2::bigint ORDER BY id LIMIT $3`,
    [group.id, options.after === undefined ? '0' : parseParkedId(options.after), limit],
  );
  const found = await storedEventsAt(
    db,
    rows.map((row) => Number(row.event_position)),
  );
  const decrypted = await decryptStoredEvents(db, [...found.values()]);
  const byPosition = new Map(decrypted.map((event) => [event.position, event]));
  return rows.flatMap((row) => {
    const event = byPosition.get(Number(row.event_position));
    if (event === undefined) return [];
    return [
      {
        id: row.id,
        partition: Number(row.partition),
        error: row.error,
        attempts: row.attempts,
        parkedAt: isoTime(row.parked_at),
        state: row.state,
        event,
      },
    ];
  });
}

/**
 * Queues a parked event for another try: the group's next claim hands it to a consumer (not
 * necessarily the partition's owner; its aggregate has moved on since it was parked). An ack
 * deletes it, a failure parks it again with the new error. False when there is no such event.
 *
 * @example
 * await replayParkedEvent(db, group, parked.id);
 */
export async function replayParkedEvent(
  db: SqlExecutor,
  group: ConsumerGroup,
  parkedId: string,
): Promise<boolean> {
  const { rows } = await db.query(
    `UPDATE strata_consumer_group_parked SET state = 'queued', owner = NULL, lease_until = NULL
     WHERE group_id = $1 AND id = $2 RETURNING id`,
    [group.id, parseParkedId(parkedId)],
  );
  return rows.length > 0;
}

/** Drops a parked event for good (the operator handled it another way). False when absent. */
export async function discardParkedEvent(
  db: SqlExecutor,
  group: ConsumerGroup,
  parkedId: string,
): Promise<boolean> {
  const { rows } = await db.query(
    'DELETE FROM strata_consumer_group_parked WHERE group_id = $1 AND id = $2 RETURNING id',
    [group.id, parseParkedId(parkedId)],
  );
  return rows.length > 0;
}
