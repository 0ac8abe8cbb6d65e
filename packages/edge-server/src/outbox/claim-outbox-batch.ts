import { decryptStoredEvents } from '../crypto/decrypt-stored-events.ts';
import type { PostgresStoredEvent } from '../postgres/postgres-stored-event.ts';
import type { SqlExecutor } from '../postgres/sql-database.ts';
import type { OutboxMessage } from './outbox-sink.ts';

/** What one claim asks for. */
export interface OutboxClaimRequest {
  /** Written to `locked_by`: settling only counts where it is still there. */
  readonly token: string;
  readonly leaseMs: number;
  readonly maxAttempts: number;
  /** Only messages to these destinations (the relay's sinks). */
  readonly destinations: readonly string[];
  readonly batchSize: number;
}

/** A claimed batch. */
export interface OutboxClaim {
  /** Claimed for delivery, decrypted, with their attempt counted. */
  readonly messages: readonly OutboxMessage[];
  /** Due messages with no attempt left, turned dead by this claim instead. */
  readonly exhausted: number;
}

interface ClaimedRow {
  id: string | number;
  destination: string;
  tenant: string;
  event: PostgresStoredEvent;
  attempts: number;
  exhausted: boolean;
}

/**
 * Claims due messages with `FOR UPDATE SKIP LOCKED` and a lease, so relays running at once never
 * claim the same message, and counts the attempt. A due message with no attempt left (its last
 * claim expired: the relay died or stalled) turns dead here rather than be delivered again: a
 * message that crashes every relay it reaches must not do so forever. Same statement, same SKIP
 * LOCKED: no extra scan.
 */
export async function claimOutboxBatch(
  database: SqlExecutor,
  request: OutboxClaimRequest,
): Promise<OutboxClaim> {
  const { rows } = await database.query<ClaimedRow>(
    `WITH due AS (
       SELECT id FROM strata_outbox
       WHERE status = 'pending' AND next_attempt_at <= now()
         AND (locked_until IS NULL OR locked_until <= now())
         AND destination = ANY($4::text[])
       ORDER BY next_attempt_at, id
       LIMIT $5
       FOR UPDATE SKIP LOCKED
     )
     UPDATE strata_outbox AS o
     SET status = CASE WHEN o.attempts >= $3 THEN 'dead' ELSE 'pending' END,
         locked_by = CASE WHEN o.attempts >= $3 THEN NULL ELSE $1 END,
         locked_until = CASE WHEN o.attempts >= $3 THEN NULL
                             ELSE now() + $2::double precision * interval '1 millisecond' END,
         attempts = CASE WHEN o.attempts >= $3 THEN o.attempts ELSE o.attempts + 1 END,
         last_error = CASE WHEN o.attempts < $3 OR o.locked_until IS NULL THEN o.last_error
           ELSE 'Lease expired on the last attempt (the relay died or stalled); last error: '
             || coalesce(o.last_error, 'none') END,
         updated_at = now()
     FROM due WHERE o.id = due.id
     RETURNING o.id, o.destination, o.tenant, o.event, o.attempts, o.status = 'dead' AS exhausted`,
    [request.token, request.leaseMs, request.maxAttempts, request.destinations, request.batchSize],
  );
  const claimed = rows.filter((row) => !row.exhausted);
  const exhausted = rows.length - claimed.length;
  if (claimed.length === 0) return { messages: [], exhausted };
  const events = await decryptStoredEvents(
    database,
    claimed.map((row) => row.event),
  );
  const messages = claimed.map((row, index) => ({
    id: String(row.id),
    destination: row.destination,
    tenant: row.tenant,
    event: events[index] as PostgresStoredEvent,
    attempt: row.attempts,
  }));
  return { messages, exhausted };
}
