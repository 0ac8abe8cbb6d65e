import { liveQuery } from 'dexie';
import type { EventRow, PendingCommandRow, StrataDatabase } from '../database/strata-database.ts';

/** The events of these pending commands by id: one read for all of them, not one per command. */
export async function eventsOfCommands(
  db: StrataDatabase,
  commands: readonly PendingCommandRow[],
): Promise<Map<string, EventRow>> {
  const events = await db.events
    .where('id')
    .anyOf(commands.flatMap((command) => command.eventIds))
    .toArray();
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
  const commands = await db.commands.where('eventIds').anyOf(confirmedIds).distinct().toArray();
  const events = await eventsOfCommands(db, commands);
  const done = commands.filter((command) =>
    command.eventIds.every((id) => events.get(id)?.pending !== 1),
  );
  await db.commands.bulkDelete(done.map((command) => command.seq as number));
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
