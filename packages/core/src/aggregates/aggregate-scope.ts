// Projections and reactors may be limited to one aggregate type; these say what such a handler
// receives and how it sees it, for core, the browser and the server alike.

import type { StoredEvent } from '../events/event.ts';
import type { AnyAggregateDefinition } from './aggregate-definition.ts';

/** Whether a projection or reactor limited to `aggregate` receives `event`. */
export function receives(
  handler: { readonly aggregate?: AnyAggregateDefinition },
  event: StoredEvent,
): boolean {
  return handler.aggregate === undefined || handler.aggregate.type === event.aggregateType;
}

/** The event as `handler` sees it: decoded (upcast, typed) with its aggregate when it has one. */
export function decodedFor(
  handler: { readonly aggregate?: AnyAggregateDefinition },
  event: StoredEvent,
): StoredEvent {
  return handler.aggregate === undefined ? event : handler.aggregate.events.decode(event);
}
