import { liveQuery } from 'dexie';
import type { EventRow, PendingCommandRow, StrataDatabase } from '../database/strata-database.ts';
import { deleteRows, rowsWhere } from './keyed-rows.ts';

/**
 * The events of these pending commands by id, read together (`rowsWhere`: the requests go out at
 * once, not one after another).
 */
export async function eventsOfCommands(
  db: StrataDatabase,
  commands: readonly PendingCommandRow[],
): Promise<Map<string, EventRow>> {
  return eventsById(
    db,
    commands.flatMap((command) => command.eventIds),
  );
}

/** The stored events with these ids, by id (`rowsWhere`). */
export async function eventsById(
  db: StrataDatabase,
  ids: readonly string[],
): Promise<Map<string, EventRow>> {
  const events = await rowsWhere(db.events, 'id', ids);
  return new Map(events.map((event) => [event.id, event]));
}

/**
 * Removes the pending commands whose events are all confirmed: the server has the command, whether
 * its acknowledgement or its events coming back upstream told us first. Inside the caller's
 * transaction.
 */
export async function dropConfirmedCommands(
  db: StrataDatabase,
  confirmedIds: readonly string[],
): Promise<void> {
  if (confirmedIds.length === 0) return;
  const commands = await rowsWhere(db.commands, 'eventIds', confirmedIds);
  // Only the other events of these commands are read: the confirmed ones just stopped pending.
  const confirmed = new Set(confirmedIds);
  const others = await eventsById(
    db,
    commands.flatMap((command) => command.eventIds.filter((id) => !confirmed.has(id))),
  );
  const done = commands.filter((command) =>
    command.eventIds.every((id) => confirmed.has(id) || others.get(id)?.pending !== 1),
  );
  await deleteRows(
    db.commands,
    done.map((command) => command.seq as number),
  );
}

/**
 * Calls `onChange` once at the start and whenever the newest pending command changes, e.g. a
 * command executed in any tab (Dexie broadcasts changes); returns the function that stops watching.
 */
export function watchPendingCommands(db: StrataDatabase, onChange: () => void): () => void {
  const subscription = liveQuery(() => db.commands.orderBy('seq').lastKey()).subscribe({
    next: () => onChange(),
    error: () => undefined,
  });
  return () => subscription.unsubscribe();
}
