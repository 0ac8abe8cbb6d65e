import type { StrataDatabase } from '../database/strata-database.ts';

/**
 * Removes the outbox rows whose events are all confirmed: the server has the command, whether
 * its acknowledgement or its events coming back upstream told us first. Inside the caller's
 * transaction.
 */
export async function dropConfirmedCommands(
  db: StrataDatabase,
  confirmedIds: readonly string[],
): Promise<void> {
  if (confirmedIds.length === 0) return;
  const commands = await db.commands.where('eventIds').anyOf(confirmedIds).distinct().toArray();
  for (const command of commands) {
    const events = await db.events.where('id').anyOf(command.eventIds).toArray();
    if (events.every((event) => event.pending === 0))
      await db.commands.delete(command.seq as number);
  }
}
