import type { EventStore, ReadAllOptions, ReadAllResult, Snapshot, StreamRef } from '@strata/core';
import { decryptStoredEvents } from '../crypto/decrypt-stored-events.ts';
import type { EncryptionOptions } from '../crypto/encryption-options.ts';
import type { CommitAppend, CommitOutcome } from './append-commits.ts';
import type { AppendHook } from './append-hook.ts';
import { appendToStream } from './append-to-stream.ts';
import { type EventRow, eventColumns, toStoredEvent } from './event-row.ts';
import { decodeGlobalCursor, encodeGlobalCursor, START_CURSOR } from './global-cursor.ts';
import type { PostgresStoredEvent } from './postgres-stored-event.ts';
import { loadSnapshotRow, loadSnapshotRows, saveSnapshotRow } from './snapshot-rows.ts';
import type { SqlDatabase, SqlExecutor } from './sql-database.ts';
import {
  type PostgresStreamMetadata,
  readStreamEvents,
  readStreamMetadata,
  readStreamsEvents,
  type StreamRead,
  streamVersion,
} from './stream-reads.ts';
import { appendCommitsQueued } from './tenant-append-queue.ts';
import { encodeTenantCursor } from './tenant-cursor.ts';
import { tenantPositionOf } from './tenant-position-of.ts';
import { countAfterTenantCursor, lastTenantPosition, readTenantPage } from './tenant-reads.ts';

export type { PostgresStreamMetadata };

/** Options of `createPostgresEventStore`. */
export interface PostgresEventStoreOptions {
  readonly tenant: string;
  /** Run in order inside every append's transaction (outbox, sync reactors, projections). */
  readonly appendHooks?: readonly AppendHook[];
  /**
   * Streams whose plaintext payloads are encrypted before they are stored (crypto-shredding).
   * Reads decrypt them again, or give the forgotten marker once the key is deleted. Append hooks
   * get the plaintext, and the events as stored in `context.stored`. Defaults to none.
   */
  readonly encryption?: EncryptionOptions;
}

/** The Postgres event store for one tenant. */
export interface PostgresEventStore extends EventStore<SqlExecutor> {
  readonly tenant: string;
  /**
   * The tenant's events in tenant-position order; `after` and the page's cursor are tenant
   * cursors (a global cursor from before tenant positions is translated, see `tenantPositionOf`).
   */
  readAll(
    options?: ReadAllOptions,
  ): Promise<Omit<ReadAllResult, 'events'> & { events: readonly PostgresStoredEvent[] }>;
  /** How many events of the tenant readers may serve now after `cursor` (absent: all). */
  countAfter(cursor?: string): Promise<number>;
  /** The tenant cursor of the tenant's last committed event (`t0` when none): where `from=now` starts. */
  tail(): Promise<string>;
  /**
   * The tenant position a client's cursor stands for: a tenant cursor's own, or for a global
   * cursor from before tenant positions, the place right before the tenant's first event after
   * it (so a deployed client resumes exactly where it was). `INVALID_CURSOR` for anything else.
   */
  tenantPositionOf(cursor?: string): Promise<number>;
  /**
   * Appends many commits at exact expected versions, each atomically, as if one after the other,
   * in one transaction of a few round trips (append-commits.ts), shared with the tenant's other
   * pushes that arrive meanwhile (tenant-append-queue.ts); one outcome per commit, in order.
   * `alsoInside` runs in the transaction after the store's append hooks, once with all these
   * commits' events (the authority logs the commands it decided there).
   */
  appendCommits(
    commits: readonly CommitAppend[],
    options?: { readonly alsoInside?: AppendHook },
  ): Promise<CommitOutcome[]>;
  /** Several streams' snapshots in one statement, by stream key. */
  loadSnapshots(streams: readonly StreamRef[]): Promise<Map<string, Snapshot>>;
  /** Several streams' events in one statement, each from its version, at most `limit` each. */
  readStreams(reads: readonly StreamRead[], limit: number): Promise<PostgresStoredEvent[][]>;
  /** The version of a stream's last event, 0 when it has none. */
  streamVersion(stream: StreamRef): Promise<number>;
  /** What a stream is without its events; undefined when it has none. */
  streamMetadata(stream: StreamRef): Promise<PostgresStreamMetadata | undefined>;
}

const EVENT_COLUMNS = eventColumns();
const DEFAULT_PAGE = 1000;

/**
 * An event store on Postgres (Neon driver or PGlite), scoped to one tenant: every statement
 * filters and writes by it, so one tenant's store never sees another's events. Each method is a
 * part of its own: appends (append-to-stream.ts), stream reads (stream-reads.ts), reads by
 * tenant position (tenant-reads.ts, tenant-position-of.ts), snapshots (snapshot-rows.ts).
 *
 * A tenant's appends hold its position counter from their INSERT to their COMMIT (see
 * tenant-positions-schema.ts): one tenant's appends commit one after another, and code inside an
 * append (`beforeCommit`, append hooks) must not wait for another append of the same tenant on
 * another connection, which would wait for it in turn.
 *
 * @example
 * const store = createPostgresEventStore(neonDatabase(pool), { tenant: principal.tenant });
 */
export function createPostgresEventStore(
  db: SqlDatabase,
  options: PostgresEventStoreOptions,
): PostgresEventStore {
  const { tenant } = options;
  const appendSettings = {
    tenant,
    appendHooks: options.appendHooks ?? [],
    encryption: options.encryption,
  };
  return {
    tenant,
    streamVersion: (stream) => streamVersion(db, tenant, stream),
    streamMetadata: (stream) => readStreamMetadata(db, tenant, stream),
    append: (stream, events, appendOptions) =>
      appendToStream(db, appendSettings, stream, events, appendOptions),
    appendCommits: (commits, commitOptions) =>
      appendCommitsQueued(
        db,
        commitOptions?.alsoInside === undefined
          ? appendSettings
          : {
              ...appendSettings,
              wholeHooks: [commitOptions.alsoInside],
            },
        commits,
      ),
    readStream: (stream, readOptions) => readStreamEvents(db, tenant, stream, readOptions),
    readStreams: (reads, limit) => readStreamsEvents(db, tenant, reads, limit),
    loadSnapshots: (streams) => loadSnapshotRows(db, tenant, streams),
    readAll: (readOptions) => readTenantPage(db, tenant, readOptions),
    countAfter: (cursor) => countAfterTenantCursor(db, tenant, cursor),
    tail: async () => encodeTenantCursor(await lastTenantPosition(db, tenant)),
    tenantPositionOf: (cursor) => tenantPositionOf(db, tenant, cursor),
    saveSnapshot: (snapshot) => saveSnapshotRow(db, tenant, snapshot),
    loadSnapshot: (stream) => loadSnapshotRow(db, tenant, stream),
  };
}

/** Options of `readGlobalOrder`. */
export interface GlobalOrderOptions extends ReadAllOptions {
  /** Only this tenant's events; every tenant's when absent (the per-instance subscription reader). */
  readonly tenant?: string;
}

/**
 * A page of the no-skip global order: events after the cursor, ordered by (transaction id,
 * position), from transactions older than every transaction still running, so a position
 * assigned early but committed late is never passed over.
 */
export async function readGlobalOrder(
  db: SqlExecutor,
  options: GlobalOrderOptions = {},
): Promise<Omit<ReadAllResult, 'events'> & { events: PostgresStoredEvent[] }> {
  const after = decodeGlobalCursor(options.after);
  const limit = options.limit ?? DEFAULT_PAGE;
  const params: unknown[] = [after.transactionId, after.position, limit + 1];
  if (options.tenant !== undefined) params.push(options.tenant);
  const { rows } = await db.query<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM strata_events
     WHERE (transaction_id, position) > ($1::text::xid8, $2::bigint)
       AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
       ${options.tenant === undefined ? '' : 'AND tenant = $4'}
     -- The table's column, not the text alias of the same name (which sorts '1001' before '977').
     ORDER BY strata_events.transaction_id, position
     LIMIT $3`,
    params,
  );
  // Every reader of the global order (pull, subscribe, the feed) gets payloads decrypted here.
  const page = await decryptStoredEvents(db, rows.slice(0, limit).map(toStoredEvent));
  return {
    events: page,
    cursor: page.at(-1)?.cursor ?? encodeGlobalCursor(after),
    hasMore: rows.length > limit,
  };
}

/**
 * The cursor of the last event readers may serve now ('0.0' when none): of one tenant's events,
 * or over all tenants when `tenant` is absent (the per-instance reader).
 */
export async function globalOrderTail(db: SqlExecutor, tenant?: string): Promise<string> {
  const { rows } = await db.query<{ transaction_id: string; position: string | number }>(
    `SELECT transaction_id::text AS transaction_id, position FROM strata_events
     WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())
       ${tenant === undefined ? '' : 'AND tenant = $1'}
     ORDER BY strata_events.transaction_id DESC, position DESC
     LIMIT 1`,
    tenant === undefined ? [] : [tenant],
  );
  const row = rows[0];
  return encodeGlobalCursor(
    row === undefined
      ? START_CURSOR
      : { transactionId: row.transaction_id, position: Number(row.position) },
  );
}
