import { InvalidCursorError } from '@strata/core';

/**
 * A place in the global order: the writing transaction's id (xid8) and the row's position.
 * Readers order by both and never pass a transaction that may still commit, so an event whose
 * position was assigned early but committed late is not skipped.
 */
export interface GlobalCursor {
  /** xid8 as a decimal string (it can exceed 2^53). */
  readonly transactionId: string;
  readonly position: number;
}

/** The cursor before every event. */
export const START_CURSOR: GlobalCursor = { transactionId: '0', position: 0 };

/** `<transactionId>.<position>`, decimal: opaque to clients, cheap to check. */
export function encodeGlobalCursor(cursor: GlobalCursor): string {
  return `${cursor.transactionId}.${cursor.position}`;
}

/** Parses a cursor from a client; throws `INVALID_CURSOR` for anything this store did not make. */
export function decodeGlobalCursor(text: string | undefined): GlobalCursor {
  if (text === undefined || text === '') return START_CURSOR;
  const match = /^(0|[1-9][0-9]{0,19})\.(0|[1-9][0-9]{0,15})$/.exec(text);
  if (match === null) throw new InvalidCursorError(text);
  const transactionId = match[1] as string;
  const position = Number(match[2]);
  if (BigInt(transactionId) >= 2n ** 64n || !Number.isSafeInteger(position))
    throw new InvalidCursorError(text);
  return { transactionId, position };
}

/** Orders two cursors: negative when `a` comes first, 0 when equal, positive when later. */
export function compareGlobalCursors(a: GlobalCursor, b: GlobalCursor): number {
  const byTransaction = BigInt(a.transactionId) - BigInt(b.transactionId);
  if (byTransaction !== 0n) return byTransaction < 0n ? -1 : 1;
  return a.position - b.position;
}
