import { InvalidCursorError } from '../errors/errors.ts';

/**
 * The cursor of stores whose global order is one increasing position (in-memory, IndexedDB):
 * the last position read, in decimal. Opaque to callers; absent or empty means the start.
 *
 * @example
 * encodePositionCursor(42);    // '42'
 * decodePositionCursor('42');  // 42
 * decodePositionCursor('x');   // throws INVALID_CURSOR
 */
export function encodePositionCursor(position: number): string {
  return String(position);
}

/** Parses a position cursor; throws `INVALID_CURSOR` for anything a position store did not make. */
export function decodePositionCursor(cursor: string | undefined): number {
  if (cursor === undefined || cursor === '') return 0;
  if (!/^(0|[1-9][0-9]{0,15})$/.test(cursor)) throw new InvalidCursorError(cursor);
  return Number(cursor);
}
