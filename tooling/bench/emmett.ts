/**
 * Emmett (`@event-driven-io/emmett-postgresql`, a dev dependency of this package only) as a peer
 * in the benches: its PostgreSQL event store on the same cluster as the strata server, through
 * `pg` over TCP as Emmett always connects. Its schema is created (Emmett's auto-migration) before
 * any timed run, so the first measured append pays nothing a later one does not.
 */
import { getPostgreSQLEventStore } from '@event-driven-io/emmett-postgresql';

/** One event as Emmett stores it: a type and JSON data and metadata. */
export interface EmmettEvent {
  readonly type: string;
  readonly data: Record<string, unknown>;
  readonly metadata?: Record<string, unknown>;
}

export interface EmmettPeer {
  /**
   * `appendToStream(streamName, events)` on a stream that must not exist yet (Emmett's
   * `STREAM_DOES_NOT_EXIST`, as strata checks a new aggregate starts at version 1): one
   * transaction, one call of Emmett's `emt_append_to_stream` function.
   */
  appendNewStream(streamName: string, events: readonly EmmettEvent[]): Promise<void>;
  close(): Promise<void>;
}

/** Emmett's table of messages: a check counts what it stored there (`stream_id`). */
export const EMMETT_MESSAGES_TABLE = 'emt_messages';

/** Opens Emmett's event store on `connectionString` and creates its schema. */
export async function openEmmettPeer(connectionString: string): Promise<EmmettPeer> {
  const store = getPostgreSQLEventStore(connectionString);
  const peer: EmmettPeer = {
    async appendNewStream(streamName, events) {
      await store.appendToStream(
        streamName,
        events.map((event) => ({ ...event })),
        { expectedStreamVersion: 'STREAM_DOES_NOT_EXIST' },
      );
    },
    close: () => store.close(),
  };
  await peer.appendNewStream(`emmett-warm-up-${Date.now()}`, [{ type: 'WarmedUp', data: {} }]);
  return peer;
}
