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
  const stillPending = new Set(
    (
      await db.events
        .where('id')
        .anyOf(commands.flatMap((command) => command.eventIds))
        .toArray()
    )
      .filter((event) => event.pending === 1)
      .map((event) => event.id),
  );
  const done = commands.filter((command) => !command.eventIds.some((id) => stillPending.has(id)));
  await db.commands.bulkDelete(done.map((command) => command.seq as number));
}
