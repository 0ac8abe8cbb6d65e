import { EVENTS_CHANNEL } from '../migrations/migrations.ts';
import type { SqlExecutor } from './sql-database.ts';

/**
 * Wakes every instance's readers after a tenant's append committed: a statement of its own, never
 * inside the append. A NOTIFY in the writing transaction takes the database's one notification
 * lock at COMMIT and holds it through the WAL flush, so every notifying commit of every tenant
 * would flush one after the other (the `Lock:object` waits of issue 16) instead of sharing a
 * flush. Here the lock is held for a moment: this transaction writes nothing worth waiting for
 * (`synchronous_commit` off for it alone; a notification is never durable anyway).
 *
 * If the process dies between the append's COMMIT and this statement, readers find the events at
 * their next poll (event-feed.ts, at most a second later), as after any lost notification.
 */
export async function notifyAppended(db: SqlExecutor, tenant: string): Promise<void> {
  try {
    await db.query(`SELECT set_config('synchronous_commit', 'off', true), pg_notify($1, $2)`, [
      EVENTS_CHANNEL,
      tenant,
    ]);
  } catch {
    // The append is committed: failing it now would have the client retry a stored write. The
    // readers' poll finds the events instead.
  }
}
