import { EVENTS_CHANNEL } from '../migrations/migrations.ts';
import type { SqlExecutor } from './sql-database.ts';

/**
 * Wakes every instance's readers after a tenant's append committed (without waiting): a statement of its own, never
 * inside the append. A NOTIFY in the writing transaction takes the database's one notification
 * lock at COMMIT and holds it through the WAL flush, so every notifying commit of every tenant
 * would flush one after the other (the `Lock:object` waits of issue 16) instead of sharing a
 * flush. Here the lock is held for a moment: this transaction writes nothing worth waiting for
 * (`synchronous_commit` off for it alone; a notification is never durable anyway).
 *
 * If the process dies between the append's COMMIT and this statement, readers find the events at
 * their next poll (event-feed.ts, at most a second later), as after any lost notification.
 */
export function notifyAppended(db: SqlExecutor, tenant: string): void {
  let state = notifying.get(db);
  if (state === undefined) {
    state = { inFlight: new Set(), again: new Set() };
    notifying.set(db, state);
  }
  send(db, state, tenant);
}

/** Per database: tenants whose notification is on its way, and those to notify once more. */
interface Notifying {
  readonly inFlight: Set<string>;
  readonly again: Set<string>;
}

const notifying = new WeakMap<SqlExecutor, Notifying>();

/**
 * One notification per tenant on its way at a time: appends that commit meanwhile are told with
 * one more after it (readers read everything new on a wake, so one says it for all). The append
 * does not wait: it is committed, and failing it now would have the client retry a stored write.
 */
function send(db: SqlExecutor, state: Notifying, tenant: string): void {
  if (state.inFlight.has(tenant)) {
    state.again.add(tenant);
    return;
  }
  state.inFlight.add(tenant);
  void db
    .query(`SELECT set_config('synchronous_commit', 'off', true), pg_notify($1, $2)`, [
      EVENTS_CHANNEL,
      tenant,
    ])
    .catch(() => undefined) // the readers' poll finds the events instead
    .finally(() => {
      state.inFlight.delete(tenant);
      if (state.again.delete(tenant)) send(db, state, tenant);
    });
}
