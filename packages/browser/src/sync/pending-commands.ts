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
 * The ids of those of `rows` still pending: appended here (`pending: 1`) and listed by a pending
 * command row. An acknowledgement deletes the command rows and leaves the event rows as they are
 * (issue 16: rewriting each confirmed row cost more than the rest of storing the answer), so a
 * `pending: 1` row no command lists is confirmed. One request (`rowsWhere` on `eventIds`), none
 * when no row says pending. Inside or outside a transaction.
 */
export async function pendingIdsAmong(
  db: StrataDatabase,
  rows: readonly EventRow[],
): Promise<Set<string>> {
  const candidates = rows.filter((row) => row.pending === 1).map((row) => row.id);
  if (candidates.length === 0) return new Set();
  const commands = await rowsWhere(db.commands, 'eventIds', candidates);
  const listed = new Set(commands.flatMap((command) => command.eventIds));
  return new Set(candidates.filter((id) => listed.has(id)));
}

/** A local event row the server sent back, with the position the server stored it at. */
export interface ServerCopy {
  readonly row: EventRow;
  readonly position: number;
}

/**
 * Confirms the local events the server sent back (upstream), inside the caller's transaction:
 * a pending command all of whose events the server has goes, which confirms them
 * (`pendingIdsAmong`: the rows stay as they are, as after an acknowledgement); a command whose
 * events came only in part stays pending for the rest, and the part that came is marked
 * confirmed on its rows (`pending: 0`, the server's position). Rows no pending command lists
 * were confirmed already (acknowledged, or sent back before) and change nothing. Answers how
 * many events stopped pending.
 */
export async function confirmServerCopies(
  db: StrataDatabase,
  copies: readonly ServerCopy[],
): Promise<number> {
  const candidates = copies.filter((copy) => copy.row.pending === 1);
  if (candidates.length === 0) return 0;
  const commands = await rowsWhere(
    db.commands,
    'eventIds',
    candidates.map((copy) => copy.row.id),
  );
  const listed = new Set(commands.flatMap((command) => command.eventIds));
  const confirmed = new Map(
    candidates.filter((copy) => listed.has(copy.row.id)).map((copy) => [copy.row.id, copy]),
  );
  // Only the other events of these commands are read: the confirmed ones just stopped pending.
  const others = await eventsById(
    db,
    commands.flatMap((command) => command.eventIds.filter((id) => !confirmed.has(id))),
  );
  const done: number[] = [];
  // The rows as read, confirmed: written back whole (no second read, as `bulkUpdate` makes).
  const marked: EventRow[] = [];
  for (const command of commands) {
    if (command.eventIds.every((id) => confirmed.has(id) || others.get(id)?.pending !== 1)) {
      done.push(command.seq as number);
      continue;
    }
    for (const id of command.eventIds) {
      const copy = confirmed.get(id);
      if (copy !== undefined)
        marked.push({ ...copy.row, pending: 0, serverPosition: copy.position });
    }
  }
  await db.events.bulkPut(marked);
  await deleteRows(db.commands, done);
  return confirmed.size;
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
