import { InvalidCursorError } from '@strata/core';
import { decodeGlobalCursor, type GlobalCursor } from './global-cursor.ts';

/**
 * Clients see one tenant's dense positions only (issue 12, item 11): a global position or the
 * transaction counter in a cursor would tell a tenant how much every other tenant writes. A
 * tenant cursor names the tenant's position `n` (its n-th event, 1-based) as `t<n>`; `t0` is
 * before the first event.
 */
export type ClientCursor =
  | { readonly kind: 'tenant'; readonly position: number }
  /** A cursor handed out before tenant positions (`<xid>.<position>`): translated by the store. */
  | { readonly kind: 'global'; readonly cursor: GlobalCursor };

/** The tenant cursor before every event. */
export const TENANT_START_CURSOR = 't0';

const TENANT_CURSOR = /^t(0|[1-9][0-9]{0,15})$/;

/**
 * The cursor of the tenant's `position` (its dense, 1-based place in the tenant's log).
 *
 * @example
 * encodeTenantCursor(42); // 't42'
 */
export function encodeTenantCursor(position: number): string {
  if (!Number.isSafeInteger(position) || position < 0) {
    throw new RangeError(`A tenant position is a whole number >= 0, not ${position}`);
  }
  return `t${position}`;
}

/**
 * Parses a client's cursor: a tenant cursor, or a global one from before tenant positions (kept
 * so that no deployed client is stranded; the store translates it). Absent or empty is the
 * start. Anything else is `INVALID_CURSOR`.
 *
 * @example
 * decodeClientCursor('t42'); // { kind: 'tenant', position: 42 }
 * decodeClientCursor('977.1001'); // { kind: 'global', cursor: { transactionId: '977', position: 1001 } }
 */
export function decodeClientCursor(text: string | undefined): ClientCursor {
  if (text === undefined || text === '') return { kind: 'tenant', position: 0 };
  const match = TENANT_CURSOR.exec(text);
  if (match !== null) {
    const position = Number(match[1]);
    if (!Number.isSafeInteger(position)) throw new InvalidCursorError(text);
    return { kind: 'tenant', position };
  }
  return { kind: 'global', cursor: decodeGlobalCursor(text) };
}
