/** Acking and nacking: moving checkpoints, retrying and parking failed events, settling replays. */
import { ValidationFailedError } from '@strata/core';
import { compareGlobalCursors, decodeGlobalCursor } from '../postgres/global-cursor.ts';
import { isoTime } from '../postgres/iso-time.ts';
import type { SqlDatabase, SqlExecutor } from '../postgres/sql-database.ts';
import {
  type ConsumerGroup,
  DEFAULT_CONSUMER_LEASE_MS,
  partitionExpression,
} from './consumer-group-definition.ts';
import { readPartitions } from './read-partitions.ts';
import { decideConsumerRetry } from './retry-policy.ts';
import { validateConsumer } from './validate-consumer.ts';

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
      // The partitions are locked in partition order first, as claims lock them: no deadlock.
      `WITH locked AS (
         SELECT partition FROM strata_consumer_group_partitions
         WHERE group_id = $1 AND partition = ANY($2::integer[])
         ORDER BY partition FOR UPDATE
       )
       UPDATE strata_consumer_group_partitions p
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
         AND p.partition IN (SELECT partition FROM locked)
         AND p.checkpoint_transaction_id = a.from_transaction_id::xid8
         AND p.checkpoint_position = a.from_position
         -- A moved checkpoint must land on an event of this partition that readers may serve
         -- (a claim's \`until\`): a stray cursor would skip events nobody handled.
         AND (NOT a.moved OR (
           a.to_transaction_id::xid8 < pg_snapshot_xmin(pg_current_snapshot())
           AND EXISTS (
             SELECT 1 FROM strata_events e
             WHERE e.transaction_id = a.to_transaction_id::xid8 AND e.position = a.to_position
               AND ($11::text IS NULL OR e.tenant = $11)
               AND ${partitionExpression('e', '$10::integer')} = a.partition)))
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
        group.partitions,
        group.tenant ?? null,
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
      // The row is locked and known to exist: the UPDATE returns it.
      return { outcome: 'retry', attempts, retryAt: isoTime(rows[0]?.retry_at ?? '') } as const;
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

/** A parked event's id as the database takes it; `VALIDATION_FAILED` for anything else. */
export function parseParkedId(id: string): string {
  if (!/^[1-9][0-9]{0,17}$/.test(id)) {
    throw new ValidationFailedError(`Not a parked event id: ${id}`, [
      { path: ['parkedId'], message: 'must be a positive whole number' },
    ]);
  }
  return id;
}

function checkPartition(group: ConsumerGroup, partition: number, path: (string | number)[]) {
  if (!Number.isInteger(partition) || partition < 0 || partition >= group.partitions) {
    throw new ValidationFailedError(`No partition ${partition} in group ${group.name}`, [
      { path, message: `must be a whole number below ${group.partitions}` },
    ]);
  }
}
