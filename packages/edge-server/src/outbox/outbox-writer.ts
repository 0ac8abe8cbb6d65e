import type { AppendHook } from '../postgres/append-hook.ts';
import type { PostgresStoredEvent } from '../postgres/postgres-stored-event.ts';

/** Which events go to one destination (a webhook, an async reactor...). */
export interface OutboxRoute {
  /** The name a relay's `sinks` are keyed by; every destination has its own delivery state. */
  readonly destination: string;
  /** The event types routed there, or a predicate over the stored event. */
  readonly accepts: readonly string[] | ((event: PostgresStoredEvent) => boolean);
}

/**
 * The outbox's writing side: an append hook that records, in the append's own transaction, one
 * outbox row per event and route accepting it. The rows commit with the events or not at all,
 * so a relay never delivers an event that was rolled back and never misses one that was stored.
 * All rows of an append go in one INSERT.
 *
 * @example
 * const store = createPostgresEventStore(db, {
 *   tenant,
 *   appendHooks: [outboxWriter([{ destination: 'billing-webhook', accepts: ['OrderPlaced'] }])],
 * });
 */
export function outboxWriter(routes: readonly OutboxRoute[]): AppendHook {
  const destinations = new Set<string>();
  for (const route of routes) {
    if (destinations.has(route.destination)) {
      // Two routes of one name would write two rows per event, delivered twice by design.
      throw new Error(`Outbox destination "${route.destination}" is routed twice`);
    }
    destinations.add(route.destination);
  }
  const predicates = routes.map((route) => {
    const { accepts } = route;
    if (typeof accepts === 'function') return { destination: route.destination, accepts };
    const types = new Set(accepts);
    return {
      destination: route.destination,
      accepts: (event: PostgresStoredEvent) => types.has(event.type),
    };
  });

  // Rows take the events as stored: an encrypted stream's payloads stay sealed at rest.
  return async (_events, { tenant, transaction, stored }) => {
    const destinationColumn: string[] = [];
    const eventIds: string[] = [];
    const eventJson: string[] = [];
    for (const event of stored) {
      let json: string | undefined;
      for (const route of predicates) {
        if (!route.accepts(event)) continue;
        json ??= JSON.stringify(event);
        destinationColumn.push(route.destination);
        eventIds.push(event.id);
        eventJson.push(json);
      }
    }
    if (destinationColumn.length === 0) return;
    // Arrays, not one placeholder per value: any number of rows in one statement. The JSON goes
    // as text[] and is cast per row: drivers disagree on how to encode a jsonb[] parameter.
    await transaction.query(
      `INSERT INTO strata_outbox (destination, tenant, event_id, event)
       SELECT destination, $1, event_id, event::jsonb
       FROM unnest($2::text[], $3::text[], $4::text[]) AS row (destination, event_id, event)`,
      [tenant, destinationColumn, eventIds, eventJson],
    );
  };
}
