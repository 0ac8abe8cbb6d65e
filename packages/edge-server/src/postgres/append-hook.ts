import type { PostgresStoredEvent } from './postgres-stored-event.ts';
import type { SqlExecutor } from './sql-database.ts';

/** Where an append hook runs: the appending tenant and the append's open transaction. */
export interface AppendContext {
  readonly tenant: string;
  /** The append's transaction: what a hook writes here commits with the events or not at all. */
  readonly transaction: SqlExecutor;
  /**
   * The same events as stored: payloads of encrypted streams still sealed. Copies kept at rest
   * (the outbox) take these, so deleting a key shreds them too.
   */
  readonly stored: readonly PostgresStoredEvent[];
}

/**
 * Server-side work inside every append's transaction, after the events got their versions and
 * positions: outbox writes, sync reactors, inline projections. `events` carry the data as the
 * caller gave it (plaintext of encrypted streams); `context.stored` as it was stored. Throwing aborts the append (nothing
 * is stored) and the error reaches the caller unchanged. Not called for a retried append whose
 * events were already stored.
 *
 * @example
 * const audit: AppendHook = async (events, { transaction }) => {
 *   await transaction.query('INSERT INTO audit (event_id) SELECT unnest($1::text[])', [events.map((e) => e.id)]);
 * };
 */
export type AppendHook = (
  events: readonly PostgresStoredEvent[],
  context: AppendContext,
) => void | Promise<void>;
