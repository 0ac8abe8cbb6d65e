import type { PostgresStoredEvent } from '../postgres/postgres-event-store.ts';
import type { SqlExecutor } from '../postgres/sql-database.ts';

/**
 * Readers' side of crypto-shredding: every server reader (pull, subscribe, history, outbox relay,
 * consumer groups, async projections) passes stored events through here before handing them on.
 * TODO(issue 7): decrypt payloads encrypted with a key from the key store; forgotten marker when
 * the key was deleted. Events without encrypted payloads come back unchanged, without a query.
 */
export async function decryptStoredEvents<TEvent extends PostgresStoredEvent>(
  _database: SqlExecutor,
  events: readonly TEvent[],
): Promise<TEvent[]> {
  return [...events];
}
