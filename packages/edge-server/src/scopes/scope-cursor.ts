import { InvalidCursorError } from '@strata/core';

/**
 * A place in a scope's log: rows are ordered by `eff` (the tenant position at which a row
 * became part of the scope), then by the event's own tenant position `pos` (an aggregate joining
 * at `eff` brings its history, all with `pos` < `eff`). `pos` never exceeds `eff`. The start is
 * (0, 0); (H, H) means "complete through tenant position H", which is why caught-up scopes can
 * share one cursor.
 */
export interface ScopePosition {
  readonly eff: number;
  readonly pos: number;
}

/** Before every row of every scope. */
export const SCOPE_START: ScopePosition = { eff: 0, pos: 0 };

const SCOPE_CURSOR = /^s(0|[1-9][0-9]{0,15})\.(0|[1-9][0-9]{0,15})$/;

/**
 * The cursor text of a scope position: `s<eff>.<pos>`, opaque to clients. Only tenant positions
 * appear in it, so it tells a tenant nothing about other tenants.
 *
 * @example
 * encodeScopeCursor({ eff: 12, pos: 7 }); // 's12.7'
 */
export function encodeScopeCursor(position: ScopePosition): string {
  const { eff, pos } = position;
  if (!isPosition(eff) || !isPosition(pos) || pos > eff) {
    throw new RangeError(`Not a scope position: eff ${eff}, pos ${pos}`);
  }
  return `s${eff}.${pos}`;
}

/**
 * Parses a scope cursor; absent or empty is the start. Anything this codec cannot have made
 * (another format, leading zeros, `pos` > `eff`, beyond 2^53) is `INVALID_CURSOR`. Whether it
 * lies past the tenant's end is the reader's check (it needs the tenant's last position).
 *
 * @example
 * decodeScopeCursor('s12.7'); // { eff: 12, pos: 7 }
 */
export function decodeScopeCursor(text: string | undefined): ScopePosition {
  if (text === undefined || text === '') return SCOPE_START;
  const match = SCOPE_CURSOR.exec(text);
  const eff = Number(match?.[1]);
  const pos = Number(match?.[2]);
  if (match === null || !isPosition(eff) || !isPosition(pos) || pos > eff) {
    throw new InvalidCursorError(text);
  }
  return { eff, pos };
}

/** Orders scope positions as the scope logs do: by `eff`, then `pos`. */
export function compareScopePositions(a: ScopePosition, b: ScopePosition): number {
  return a.eff - b.eff || a.pos - b.pos;
}

const isPosition = (value: number) => Number.isSafeInteger(value) && value >= 0;
