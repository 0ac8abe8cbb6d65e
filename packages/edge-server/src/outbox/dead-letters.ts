import { decryptStoredEvents } from '../crypto/decrypt-stored-events.ts';
import { isoTime } from '../postgres/iso-time.ts';
import type { PostgresStoredEvent } from '../postgres/postgres-stored-event.ts';
import type { SqlExecutor } from '../postgres/sql-database.ts';

/** An outbox message that ran out of attempts. */
export interface DeadLetter {
  readonly id: string;
  readonly destination: string;
  readonly tenant: string;
  /** Decrypted like a sink would get it (a forgotten aggregate's payload stays forgotten). */
  readonly event: PostgresStoredEvent;
  readonly attempts: number;
  readonly lastError: string | null;
  /** When the event was appended (and the message written). */
  readonly createdAt: string;
  /** When the message turned dead. */
  readonly diedAt: string;
}

/** Options of `listDeadLetters`. */
export interface ListDeadLettersOptions {
  readonly destination?: string;
  readonly tenant?: string;
  /** Page after this message id (the last `id` of the previous page). */
  readonly after?: string;
  /** Default 100. */
  readonly limit?: number;
}

/** Which dead letters `replayDeadLetters` sends back: by id, or all of a destination (and tenant). */
export type DeadLetterSelection =
  | { readonly ids: readonly string[] }
  | { readonly destination: string; readonly tenant?: string };

interface DeadLetterRow {
  id: string | number;
  destination: string;
  tenant: string;
  event: PostgresStoredEvent;
  attempts: number;
  last_error: string | null;
  created_at: string | Date;
  updated_at: string | Date;
}

/**
 * Dead letters, oldest first, a page at a time: what an operator looks at before fixing a
 * receiver and replaying.
 *
 * @example
 * const page = await listDeadLetters(db, { destination: 'billing-webhook', limit: 20 });
 * for (const letter of page) console.log(letter.id, letter.event.type, letter.lastError);
 */
export async function listDeadLetters(
  database: SqlExecutor,
  options: ListDeadLettersOptions = {},
): Promise<DeadLetter[]> {
  const { rows } = await database.query<DeadLetterRow>(
    `SELECT id, destination, tenant, event, attempts, last_error, created_at, updated_at
     FROM strata_outbox
     WHERE status = 'dead'
       AND ($1::text IS NULL OR destination = $1)
       AND ($2::text IS NULL OR tenant = $2)
       AND id > coalesce($3::bigint, 0)
     ORDER BY id
     LIMIT $4`,
    [
      options.destination ?? null,
      options.tenant ?? null,
      options.after ?? null,
      options.limit ?? 100,
    ],
  );
  const events = await decryptStoredEvents(
    database,
    rows.map((row) => row.event),
  );
  return rows.map((row, index) => ({
    id: String(row.id),
    destination: row.destination,
    tenant: row.tenant,
    event: events[index] as PostgresStoredEvent,
    attempts: row.attempts,
    lastError: row.last_error,
    createdAt: isoTime(row.created_at),
    diedAt: isoTime(row.updated_at),
  }));
}

/**
 * Sends dead letters back to the relays: pending again, due now, with a fresh set of attempts
 * (the last error stays until the next attempt). Returns how many went back; ids that are not
 * dead (delivered, pending, unknown) are left alone.
 *
 * @example
 * await replayDeadLetters(db, { destination: 'billing-webhook' }); // the receiver is fixed
 * await replayDeadLetters(db, { ids: ['42'] });
 */
export async function replayDeadLetters(
  database: SqlExecutor,
  selection: DeadLetterSelection,
): Promise<number> {
  const byIds = 'ids' in selection;
  const { rows } = await database.query(
    `UPDATE strata_outbox
     SET status = 'pending', attempts = 0, next_attempt_at = now(), locked_by = NULL,
         locked_until = NULL, updated_at = now()
     WHERE status = 'dead'
       AND ${byIds ? 'id = ANY($1::bigint[])' : 'destination = $1 AND ($2::text IS NULL OR tenant = $2)'}
     RETURNING id`,
    byIds ? [selection.ids.map(String)] : [selection.destination, selection.tenant ?? null],
  );
  return rows.length;
}
