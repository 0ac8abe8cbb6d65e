// Its own file so the store's parts (event rows, append hooks, reads, crypto's decryption) can
// name the type without importing the store that imports them (no import cycle).
import type { StoredEvent } from '@strata/core';

/**
 * A stored event with its place in the no-skip global order (`position`, `cursor`: for server
 * readers of all tenants: the instance's feed, consumer groups, projections, `subscribeToEvents`)
 * and in its tenant's own dense order (`tenantPosition`, `tenantCursor`: the only ones clients
 * see, so no tenant learns how much the others write).
 */
export interface PostgresStoredEvent extends StoredEvent {
  /** The event's global cursor: reading the global order after it continues with the next event. */
  readonly cursor: string;
  /** The event's place in its tenant's log: 1, 2, 3, ... with no gaps. */
  readonly tenantPosition: number;
  /** The tenant's cursor after this event (what pull, subscribe and history hand to clients). */
  readonly tenantCursor: string;
  readonly tenant: string;
}
