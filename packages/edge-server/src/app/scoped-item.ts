import type { ScopedItem } from '@strata/core';
import type { PostgresStoredEvent } from '../postgres/postgres-stored-event.ts';
import type { ScopeReadItem } from '../scopes/read-scopes.ts';
import { toWireEvent } from './wire-event.ts';

/**
 * A scope read's item as the protocol sends it (`ScopedItemSchema`): events in their wire form;
 * undefined for an event the principal may not read (`authorize.canRead`), which is left out
 * while its place still counts, as in v1 pulls.
 *
 * @example
 * const items = page.items.flatMap((item) => toScopedItem(item, canRead) ?? []);
 */
export function toScopedItem(
  item: ScopeReadItem,
  canRead: ((event: PostgresStoredEvent) => boolean) | undefined,
): ScopedItem | undefined {
  // Left and snapshot items carry no event data; a snapshot's state is the server's own JSON.
  if (item.kind !== 'event') return item as ScopedItem;
  if (canRead?.(item.event) === false) return undefined;
  return {
    kind: 'event',
    cursor: item.cursor,
    event: toWireEvent(item.event),
    scopes: item.scopes,
  };
}
