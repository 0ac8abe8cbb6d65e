import type { ScopedItem } from '@strata/core';
import type { PostgresStoredEvent } from '../postgres/postgres-stored-event.ts';
import type { ScopeReadItem } from '../scopes/read-scopes.ts';
import { toWireEvent } from './wire-event.ts';

/**
 * A scope read's item as the protocol sends it (`ScopedItemSchema`): events in their wire form;
 * undefined for an event the principal may not read (`authorize.canRead`), which is left out
 * while its place still counts, as in v1 pulls. A snapshot item goes as it is: send a page's
 * items with `toScopedItems`, which drops it with its event.
 *
 * @example
 * const sent = page.items.flatMap((item) => toScopedItem(item, canRead) ?? []);
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

/**
 * A scope read's items as the protocol sends them (`toScopedItem`), a snapshot only with the
 * event after it: its state folds in that event and the ones before, so an event `canRead`
 * hides takes the snapshot with it (and a snapshot without its event is never sent).
 *
 * @example
 * const items = toScopedItems(page.items, (event) => canRead(principal, event));
 */
export function toScopedItems(
  items: readonly ScopeReadItem[],
  canRead: ((event: PostgresStoredEvent) => boolean) | undefined,
): ScopedItem[] {
  return items.flatMap((item, index) => {
    const next = items[index + 1];
    if (item.kind === 'snapshot' && (next?.kind !== 'event' || canRead?.(next.event) === false)) {
      return [];
    }
    return toScopedItem(item, canRead) ?? [];
  });
}
