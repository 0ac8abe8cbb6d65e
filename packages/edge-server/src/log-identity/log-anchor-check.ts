import { type EventStore, isStrataError, type LogAnchor, LogDivergedError } from '@strata/core';
import { wirePosition } from '../app/wire-event.ts';
import { encodeTenantCursor } from '../postgres/tenant-cursor.ts';

/**
 * Throws `LOG_DIVERGED` unless the tenant's log holds `anchor`'s event at its position: the
 * pulling client read that event here, so a log without it (reset, or restored from an older
 * backup whose new events took its position) is not the one the client's cursor points into.
 * One indexed read of one event.
 *
 * @example
 * if (anchor !== undefined) await checkLogAnchor(store, anchor);
 */
export async function checkLogAnchor(
  store: Pick<EventStore, 'readAll'>,
  anchor: LogAnchor,
): Promise<void> {
  let found: { readonly id: string; readonly position: number } | undefined;
  try {
    // Positions on the wire are the tenant's (see wire-event.ts), and so are its cursors.
    const page = await store.readAll({ after: encodeTenantCursor(anchor.position - 1), limit: 1 });
    const event = page.events[0];
    found = event === undefined ? undefined : { id: event.id, position: wirePosition(event) };
  } catch (error) {
    // A position past the log's end: the log is shorter than what the client read.
    if (!isStrataError(error, 'INVALID_CURSOR')) throw error;
  }
  if (found === undefined || found.position !== anchor.position || found.id !== anchor.eventId) {
    // The same answer whether the id is stored elsewhere (another tenant's log) or nowhere.
    throw new LogDivergedError(
      `The server's log no longer holds the event this client read at position ${anchor.position}: its database was reset or restored`,
    );
  }
}
