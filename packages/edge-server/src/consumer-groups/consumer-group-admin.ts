/**
 * Looking after a consumer group: its status (checkpoints, consumers, lag) and its parked events
 * (list, queue for replay, discard). Shared by server code and the HTTP routes.
 */
import { ValidationFailedError } from '@strata/core';
import { decryptStoredEvents } from '../crypto/decrypt-stored-events.ts';
import { isoTime } from '../postgres/event-row.ts';
import { encodeGlobalCursor } from '../postgres/global-cursor.ts';
import type { PostgresStoredEvent } from '../postgres/postgres-event-store.ts';
import type { SqlExecutor } from '../postgres/sql-database.ts';
import { parseParkedId } from './acknowledge-events.ts';
import { storedEventsAt } from './claim-events.ts';
import { type ConsumerGroup, partitionExpression } from './consumer-group-definition.ts';

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
  /** Events readers may serve now that the partition has not acked yet. */
  readonly lag: number;
}

/** A group's state: who holds what, how far behind, how much is parked. */
export interface ConsumerGroupStatus {
  readonly name: string;
  readonly tenant: string | undefined;
  readonly partitions: readonly PartitionStatus[];
  readonly consumers: readonly { readonly consumerId: string; readonly expiresAt: string }[];
  /** Sum of the partitions' lag. */
  readonly lag: number;
  readonly parked: number;
  /** Parked events queued for replay, not yet handled. */
  readonly queued: number;
}

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
 * The group's status. Lag is counted in the database per partition (a scan of the events after
 * the checkpoints): an operator's call, not one for every batch.
 *
 * @example
 * const { lag, parked, consumers } = await consumerGroupStatus(db, group);
 */
export async function consumerGroupStatus(
  db: SqlExecutor,
  group: ConsumerGroup,
): Promise<ConsumerGroupStatus> {
  const params: unknown[] = [group.id, group.partitions];
  if (group.tenant !== undefined) params.push(group.tenant);
  const { rows: partitions } = await db.query<{
    partition: number;
    transaction_id: string;
    position: string | number;
    owner: string | null;
    lease_until: string | Date | null;
    attempts: number;
    last_error: string | null;
    retry_at: string | Date | null;
    lag: string | number;
  }>(
    `SELECT p.partition, p.checkpoint_transaction_id::text AS transaction_id,
       p.checkpoint_position AS position,
       CASE WHEN p.lease_until > now() THEN p.owner END AS owner,
       CASE WHEN p.lease_until > now() THEN p.lease_until END AS lease_until,
       p.attempts, p.last_error, p.retry_at,
       (SELECT count(*) FROM strata_events e
        WHERE (e.transaction_id, e.position) > (p.checkpoint_transaction_id, p.checkpoint_position)
          AND e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
          AND ${partitionExpression('e', '$2::integer')} = p.partition
          ${group.tenant === undefined ? '' : 'AND e.tenant = $3'}) AS lag
     FROM strata_consumer_group_partitions p
     WHERE p.group_id = $1
     ORDER BY p.partition`,
    params,
  );
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
      lag: Number(row.lag),
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
    parked: countOf('parked'),
    queued: countOf('queued'),
  };
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
