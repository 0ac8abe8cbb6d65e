import {
  ANY,
  type AppendOptions,
  type AppendResult,
  type EventStore,
  InvalidCursorError,
  matchesExpectedVersion,
  type NewEvent,
  planAppend,
  type ReadAllOptions,
  type ReadAllResult,
  type ReadStreamOptions,
  type Snapshot,
  STREAM_EXISTS,
  type StoredEvent,
  type StreamRef,
} from '@strata/core';
import { decryptStoredEvents } from '../crypto/decrypt-stored-events.ts';
import { encryptNewEvents } from '../crypto/encrypt-new-events.ts';
import type { EncryptionOptions } from '../crypto/encryption-options.ts';
import { EVENTS_CHANNEL } from '../migrations/migrations.ts';
import type { AppendHook } from './append-hook.ts';
import { type EventRow, eventColumns, isoTime, toStoredEvent } from './event-row.ts';
import { decodeGlobalCursor, encodeGlobalCursor, START_CURSOR } from './global-cursor.ts';
import type { SqlDatabase, SqlExecutor } from './sql-database.ts';
import { decodeClientCursor, encodeTenantCursor } from './tenant-cursor.ts';

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
  /** The version of a stream's last event, 0 when it has none. */
  streamVersion(stream: StreamRef): Promise<number>;
  /** What a stream is without its events; undefined when it has none. */
  streamMetadata(stream: StreamRef): Promise<PostgresStreamMetadata | undefined>;
}

/** A stream's summary: its last event (for version, type and place) and when it began. */
export interface PostgresStreamMetadata {
  readonly lastEvent: PostgresStoredEvent;
  /** When the first event was stored. */
  readonly createdAt: string;
  readonly snapshotVersion: number | undefined;
}

const EVENT_COLUMNS = eventColumns();
const DEFAULT_PAGE = 1000;
// A writer that keeps losing races with `ANY` is told so after this many tries.
const MAX_APPEND_ATTEMPTS = 5;

/** A concurrent writer stored the same version or id first (a unique index of the events). */
function isEventUniqueViolation(error: unknown): boolean {
  const { code, table, constraint } = (error ?? {}) as Record<string, unknown>;
  return (
    code === '23505' &&
    (table === 'strata_events' ||
      (typeof constraint === 'string' && constraint.startsWith('strata_events_')))
  );
}

/**
 * An event store on Postgres (Neon driver or PGlite), scoped to one tenant: every statement
 * filters and writes by it, so one tenant's store never sees another's events.
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
  const { tenant, appendHooks = [] } = options;

  const versionOf = async (executor: SqlExecutor, stream: StreamRef): Promise<number> => {
    const { rows } = await executor.query<{ version: number | null }>(
      `SELECT max(version) AS version FROM strata_events
       WHERE tenant = $1 AND aggregate_type = $2 AND aggregate_id = $3`,
      [tenant, stream.aggregateType, stream.aggregateId],
    );
    return Number(rows[0]?.version ?? 0);
  };

  /**
   * Optimistic for exact expected versions (every push): the version is read without a lock
   * and the unique indexes on (stream, version) and (tenant, id) catch a writer that got in
   * between; the append is then decided again against what that writer stored (a retry's
   * confirmation, or a typed conflict). Four round trips on the happy path: BEGIN, version,
   * INSERT (with the notification), COMMIT.
   */
  async function append(
    stream: StreamRef,
    events: readonly NewEvent[],
    appendOptions: AppendOptions<SqlExecutor>,
  ): Promise<AppendResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await db.transaction((tx) =>
          appendWithin(tx, stream, events, appendOptions, attempt > 1),
        );
      } catch (error) {
        if (attempt >= MAX_APPEND_ATTEMPTS || !isEventUniqueViolation(error)) throw error;
      }
    }
  }

  async function appendWithin(
    tx: SqlExecutor,
    stream: StreamRef,
    events: readonly NewEvent[],
    appendOptions: AppendOptions<SqlExecutor>,
    raced: boolean,
  ): Promise<AppendResult> {
    if (appendOptions.expectedVersion === ANY || appendOptions.expectedVersion === STREAM_EXISTS) {
      // Writers that append wherever the stream ends would keep colliding on a busy stream:
      // they queue on a lock per stream instead.
      await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
        JSON.stringify([tenant, stream.aggregateType, stream.aggregateId]),
      ]);
    }
    const currentVersion = await versionOf(tx, stream);
    // Stored ids only matter when the version does not fit (a retry, or a conflict) or a
    // writer raced this one; otherwise a reused id is caught by the unique index.
    const byId =
      raced || !matchesExpectedVersion(appendOptions.expectedVersion, currentVersion)
        ? await findStored(tx, events)
        : new Map<string, PostgresStoredEvent>();
    const plan = planAppend({
      stream,
      events,
      expectedVersion: appendOptions.expectedVersion,
      currentVersion,
      findStored: (id) => byId.get(id),
    });
    if (plan.kind === 'already-stored') {
      // findStored decrypted them already.
      return { events: plan.events, version: currentVersion, alreadyStored: true };
    }
    const toStore = await encryptNewEvents(tx, {
      tenant,
      stream,
      events,
      encryption: options.encryption,
    });

    // $4: how many positions of the tenant's counter this append takes.
    const params: unknown[] = [tenant, stream.aggregateType, stream.aggregateId, toStore.length];
    const values = toStore.map((event, index) => {
      const at = params.length;
      params.push(
        event.id,
        event.type,
        event.schemaVersion,
        plan.firstVersion + index,
        JSON.stringify(event.data),
        JSON.stringify(event.metadata),
        event.occurredAt,
      );
      return `(${index + 1}, $${at + 1}::text, $${at + 2}::text, $${at + 3}::integer, $${at + 4}::integer, $${at + 5}::jsonb, $${at + 6}::jsonb, $${at + 7}::timestamptz)`;
    });
    params.push(EVENTS_CHANNEL);
    // The tenant's counter is bumped in the same statement and its row stays locked until
    // COMMIT: this tenant's appends commit in tenant-position order, and a rollback gives its
    // numbers back, so tenant positions are dense and a tenant reader never skips a late commit
    // (tenant-positions-schema.ts). The notification is delivered at commit, to every instance
    // listening: their readers wake at once. Both ride along with the INSERT to save round trips.
    const { rows } = await tx.query<EventRow>(
      `WITH numbered AS (
         INSERT INTO strata_tenant_positions AS counter (tenant, last) VALUES ($1, $4::bigint)
         ON CONFLICT (tenant) DO UPDATE SET last = counter.last + excluded.last
         RETURNING counter.last
       ), inserted AS (
         INSERT INTO strata_events
           (tenant, aggregate_type, aggregate_id, tenant_position, id, type, schema_version,
            version, data, metadata, occurred_at)
         SELECT $1, $2, $3, numbered.last - $4::bigint + v.ordinal, v.id, v.type,
           v.schema_version, v.version, v.data, v.metadata, v.occurred_at
         FROM numbered,
           (VALUES ${values.join(', ')})
             AS v (ordinal, id, type, schema_version, version, data, metadata, occurred_at)
         ORDER BY v.ordinal
         RETURNING ${EVENT_COLUMNS}
       ), notified AS (SELECT pg_notify($${params.length}, $1))
       SELECT inserted.* FROM inserted, notified`,
      params,
    );
    const stored = rows.map(toStoredEvent).sort((a, b) => a.version - b.version);
    const version = plan.firstVersion + events.length - 1;
    // A snapshot taken for another version (the caller appended with ANY and another writer got
    // in first) would claim a state that misses that writer's events.
    if (appendOptions.snapshot?.version === version) {
      await saveSnapshotWith(tx, appendOptions.snapshot);
    }
    // Hooks and the caller get the data as the caller gave it, as every read gives it back; no
    // need to decrypt what was encrypted a moment ago (versions follow the given order).
    const appended = stored.map((event, index) => ({
      ...event,
      data: events[index]?.data ?? event.data,
    }));
    for (const hook of appendHooks) await hook(appended, { tenant, transaction: tx, stored });
    await appendOptions.beforeCommit?.(appended, tx);
    return { events: appended, version, alreadyStored: false };
  }

  async function findStored(
    executor: SqlExecutor,
    events: readonly NewEvent[],
  ): Promise<Map<string, PostgresStoredEvent>> {
    const { rows } = await executor.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM strata_events WHERE tenant = $1 AND id = ANY($2::text[])`,
      [tenant, events.map((event) => event.id)],
    );
    // Decrypted, so a retry is compared with what was sent (planAppend compares content), and
    // the confirmation carries the plaintext as every read does.
    const stored = await decryptStoredEvents(executor, rows.map(toStoredEvent));
    return new Map(stored.map((event) => [event.id, event]));
  }

  async function readStream(stream: StreamRef, readOptions: ReadStreamOptions = {}) {
    const { rows } = await db.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM strata_events
       WHERE tenant = $1 AND aggregate_type = $2 AND aggregate_id = $3 AND version >= $4
       ORDER BY version LIMIT $5`,
      [
        tenant,
        stream.aggregateType,
        stream.aggregateId,
        readOptions.fromVersion ?? 1,
        readOptions.limit ?? null,
      ],
    );
    return decryptStoredEvents(db, rows.map(toStoredEvent));
  }

  async function tenantPositionOf(cursor?: string): Promise<number> {
    const decoded = decodeClientCursor(cursor);
    if (decoded.kind === 'tenant') return decoded.position;
    const { transactionId, position } = decoded.cursor;
    // Events before the migration were numbered in global order, so "before the first event
    // after the old place" is exact for them; with none after it, the client was at the end.
    const { rows } = await db.query<{ position: string | number }>(
      `SELECT coalesce(
         (SELECT min(tenant_position) - 1 FROM strata_events
          WHERE tenant = $1 AND (transaction_id, position) > ($2::text::xid8, $3::bigint)),
         (SELECT last FROM strata_tenant_positions WHERE tenant = $1),
         0) AS position`,
      [tenant, transactionId, position],
    );
    return Number(rows[0]?.position ?? 0);
  }

  /** The tenant's last committed position: every position up to it is a committed event. */
  async function lastPosition(): Promise<number> {
    const { rows } = await db.query<{ last: string | number }>(
      'SELECT last FROM strata_tenant_positions WHERE tenant = $1',
      [tenant],
    );
    return Number(rows[0]?.last ?? 0);
  }

  async function readAll(
    readOptions: ReadAllOptions = {},
  ): Promise<Omit<ReadAllResult, 'events'> & { events: PostgresStoredEvent[] }> {
    const after = await tenantPositionOf(readOptions.after);
    const limit = readOptions.limit ?? DEFAULT_PAGE;
    // No xmin horizon: a committed tenant position implies every lower one is committed too.
    const { rows } = await db.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM strata_events
       WHERE tenant = $1 AND tenant_position > $2
       ORDER BY tenant_position
       LIMIT $3`,
      [tenant, after, limit + 1],
    );
    // A cursor past the tenant's end is not one this log gave out (a restored or replaced
    // database numbers from 1 again): reading on from it would skip what comes next, silently.
    // Checked only on an empty page, so a reader that gets events pays nothing for it.
    if (rows.length === 0 && after > 0 && after > (await lastPosition())) {
      throw new InvalidCursorError(readOptions.after ?? '');
    }
    // Every reader (pull, subscribe, history) gets payloads decrypted here.
    const page = await decryptStoredEvents(db, rows.slice(0, limit).map(toStoredEvent));
    return {
      events: page,
      cursor: page.at(-1)?.tenantCursor ?? encodeTenantCursor(after),
      hasMore: rows.length > limit,
    };
  }

  // Dense positions make the count a subtraction, whatever the log's length.
  const countAfter = async (cursor?: string): Promise<number> =>
    Math.max(0, (await lastPosition()) - (await tenantPositionOf(cursor)));

  async function streamMetadata(stream: StreamRef): Promise<PostgresStreamMetadata | undefined> {
    const { rows } = await db.query<
      EventRow & { created_at: string | Date; snapshot_version: number | null }
    >(
      `SELECT ${EVENT_COLUMNS},
         (SELECT recorded_at FROM strata_events first
          WHERE first.tenant = $1 AND first.aggregate_type = $2 AND first.aggregate_id = $3
            AND first.version = 1) AS created_at,
         (SELECT version FROM strata_snapshots snapshot
          WHERE snapshot.tenant = $1 AND snapshot.aggregate_type = $2
            AND snapshot.aggregate_id = $3) AS snapshot_version
       FROM strata_events
       WHERE tenant = $1 AND aggregate_type = $2 AND aggregate_id = $3
       ORDER BY version DESC LIMIT 1`,
      [tenant, stream.aggregateType, stream.aggregateId],
    );
    const row = rows[0];
    if (row === undefined) return undefined;
    const [lastEvent] = await decryptStoredEvents(db, [toStoredEvent(row)]);
    return {
      lastEvent: lastEvent as PostgresStoredEvent,
      createdAt: isoTime(row.created_at),
      snapshotVersion: row.snapshot_version ?? undefined,
    };
  }

  async function saveSnapshotWith(executor: SqlExecutor, snapshot: Snapshot) {
    await executor.query(
      `INSERT INTO strata_snapshots (tenant, aggregate_type, aggregate_id, version, state, fingerprint, taken_at)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7::timestamptz)
       ON CONFLICT (tenant, aggregate_type, aggregate_id) DO UPDATE
       SET version = excluded.version, state = excluded.state,
           fingerprint = excluded.fingerprint, taken_at = excluded.taken_at`,
      [
        tenant,
        snapshot.aggregateType,
        snapshot.aggregateId,
        snapshot.version,
        JSON.stringify(snapshot.state),
        snapshot.fingerprint,
        snapshot.takenAt,
      ],
    );
  }

  return {
    tenant,
    streamVersion: (stream) => versionOf(db, stream),
    streamMetadata,
    append,
    readStream,
    readAll,
    countAfter,
    tail: async () => encodeTenantCursor(await lastPosition()),
    tenantPositionOf,
    saveSnapshot: (snapshot) => saveSnapshotWith(db, snapshot),
    async loadSnapshot(stream) {
      const { rows } = await db.query<{
        version: number;
        state: unknown;
        fingerprint: string;
        taken_at: string | Date;
      }>(
        `SELECT version, state, fingerprint, taken_at FROM strata_snapshots
         WHERE tenant = $1 AND aggregate_type = $2 AND aggregate_id = $3`,
        [tenant, stream.aggregateType, stream.aggregateId],
      );
      const row = rows[0];
      if (row === undefined) return undefined;
      return {
        aggregateType: stream.aggregateType,
        aggregateId: stream.aggregateId,
        version: row.version,
        state: row.state,
        fingerprint: row.fingerprint,
        takenAt: isoTime(row.taken_at),
      };
    },
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
