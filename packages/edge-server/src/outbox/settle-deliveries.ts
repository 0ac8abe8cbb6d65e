import { type BackoffOptions, backoffDelay } from '@strata/core';
import type { SqlExecutor } from '../postgres/sql-database.ts';
import type { DeliveryFailure } from './deliver-to-sink.ts';
import type { OutboxMessage } from './outbox-sink.ts';

/** The outcomes of a round, column by column, as the settling statement takes them. */
export interface OutboxSettlement {
  /** Acknowledged by their sink. */
  readonly acked: readonly string[];
  readonly failed: {
    readonly id: readonly string[];
    readonly error: readonly string[];
    /** The wait before the next attempt. */
    readonly delayMs: readonly number[];
    /** Timed out: the sink may still be running, so the claim holds until its lease ends. */
    readonly held: readonly boolean[];
  };
}

/** What a round's settling recorded (messages whose claim another relay took are in none). */
export interface SettledCounts {
  readonly delivered: number;
  readonly retrying: number;
  readonly dead: number;
}

/**
 * How long to wait before retrying after failed attempt number `attempt` (1-based): core's
 * `backoffDelay` from the first attempt on. With the relay's "equal jitter", a random delay
 * between half and all of the exponential one: messages that failed together (a receiver down
 * for a minute) come back apart, and keeping half of the delay keeps the backoff from collapsing
 * to zero.
 *
 * @example
 * retryDelayAfter(4, { initialDelayMs: 100, jitter: 'equal' }, Math.random); // 400..800 ms
 */
export function retryDelayAfter(
  attempt: number,
  backoff: BackoffOptions,
  random: () => number,
): number {
  if (!Number.isInteger(attempt) || attempt < 1) {
    throw new RangeError(`attempt must be an integer >= 1, got ${attempt}`);
  }
  return backoffDelay(attempt - 1, backoff, random);
}

/**
 * Sorts a round's outcomes into the settling statement's columns; `failures[i]` is the outcome of
 * `messages[i]` (null: acknowledged), `delayOf` the wait after a failed attempt.
 */
export function planSettlement(
  messages: readonly OutboxMessage[],
  failures: readonly (DeliveryFailure | null)[],
  delayOf: (attempt: number) => number,
): OutboxSettlement {
  const acked: string[] = [];
  const failed = {
    id: [] as string[],
    error: [] as string[],
    delayMs: [] as number[],
    held: [] as boolean[],
  };
  messages.forEach((message, index) => {
    const failure = failures[index];
    if (failure === null || failure === undefined) {
      acked.push(message.id);
      return;
    }
    failed.id.push(message.id);
    failed.error.push(failure.error);
    failed.delayMs.push(delayOf(message.attempt));
    failed.held.push(failure.timedOut);
  });
  return { acked, failed };
}

/**
 * Records every outcome in one statement, counted there: a round trip per batch, not per
 * message. Only under this claim (`token`): after the lease, another relay's claim decides. A
 * failed message turns dead at `maxAttempts`, else waits its delay.
 */
export async function recordSettlement(
  database: SqlExecutor,
  settlement: OutboxSettlement,
  claim: { readonly token: string; readonly maxAttempts: number },
): Promise<SettledCounts> {
  const { acked, failed } = settlement;
  const { rows } = await database.query<{ status: string; count: number }>(
    `WITH acked AS (
       UPDATE strata_outbox
       SET status = 'delivered', delivered_at = now(), locked_by = NULL, locked_until = NULL,
           updated_at = now()
       WHERE id = ANY($1::bigint[]) AND locked_by = $5 AND status = 'pending'
       RETURNING status
     ),
     failed AS (
       UPDATE strata_outbox AS o
       SET status = CASE WHEN o.attempts >= $4 THEN 'dead' ELSE 'pending' END,
           -- A sink that timed out may still be running (it ignored its signal): no other
           -- claim before this one's lease ends, so the message never runs twice at once.
           next_attempt_at = CASE
             WHEN f.held THEN greatest(now() + f.delay_ms * interval '1 millisecond', o.locked_until)
             ELSE now() + f.delay_ms * interval '1 millisecond' END,
           last_error = f.error, locked_by = NULL, locked_until = NULL, updated_at = now()
       FROM unnest($2::bigint[], $3::text[], $6::double precision[], $7::boolean[])
         AS f (id, error, delay_ms, held)
       WHERE o.id = f.id AND o.locked_by = $5 AND o.status = 'pending'
       RETURNING o.status
     )
     SELECT status, count(*)::integer AS count
     FROM (SELECT status FROM acked UNION ALL SELECT status FROM failed) AS settled
     GROUP BY status`,
    [acked, failed.id, failed.error, claim.maxAttempts, claim.token, failed.delayMs, failed.held],
  );
  const count = (status: string) => Number(rows.find((row) => row.status === status)?.count ?? 0);
  return { delivered: count('delivered'), retrying: count('pending'), dead: count('dead') };
}
