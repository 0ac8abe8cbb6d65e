import { InvalidCursorError, TENANT_SCOPE_NAME } from '@strata/core';
import { decryptStoredEvents } from '../crypto/decrypt-stored-events.ts';
import { type EventRow, eventColumns, toStoredEvent } from '../postgres/event-row.ts';
import { isoTime } from '../postgres/iso-time.ts';
import type { PostgresStoredEvent } from '../postgres/postgres-stored-event.ts';
import type { SqlExecutor } from '../postgres/sql-database.ts';
import {
  compareScopePositions,
  decodeScopeCursor,
  encodeScopeCursor,
  type ScopePosition,
} from './scope-cursor.ts';

/**
 * One scope to read, after the cursor the reader holds for it (absent: from its start).
 * `bootstrap`: the reader is back-filling it, so aggregates whose snapshots it reads come as
 * their snapshot instead of the events before it (see `readScopes`).
 */
export interface ScopeReadRequest {
  readonly scope: string;
  readonly after?: string;
  readonly bootstrap?: boolean;
}

/** One item of a scoped read, in the scopes' order; `cursor` is the place after it. */
export type ScopeReadItem =
  | { kind: 'event'; cursor: string; event: PostgresStoredEvent; scopes: string[] }
  | { kind: 'left'; cursor: string; scope: string; aggregateType: string; aggregateId: string }
  | {
      kind: 'snapshot';
      cursor: string;
      scopes: string[];
      aggregateType: string;
      aggregateId: string;
      version: number;
      state: unknown;
      fingerprint: string;
      takenAt: string;
    };

export interface ScopeReadPage {
  readonly items: ScopeReadItem[];
  /** Each read scope's next cursor; scopes that are caught up all get the same one. */
  readonly cursors: Record<string, string>;
  readonly hasMore: boolean;
  /** The tenant's last position in the read's snapshot. */
  readonly horizon: number;
}

/**
 * A page of several scopes at once, each after its own cursor, merged into the scopes' common
 * order (eff, then pos). `tenant` reads the whole tenant from strata_events (each event at
 * (p, p)); every other scope reads its rows in strata_scope_rows (scope-schema.ts).
 *
 * One statement, so one snapshot: per scope an index range scan `ORDER BY eff, pos LIMIT L+1`,
 * merged, cut after `limit` positions, the events joined by their tenant position, and the
 * horizon H (the tenant's last position) read beside them. Cost follows the scopes' rows, never
 * the tenant's size.
 *
 * - Rows of several scopes at one position are ONE event item listing those scopes. An
 *   aggregate that moves at p gives the event item of its new scopes and a `left` item per
 *   scope it left, all with p's cursor: a position's items come together in one page (the limit
 *   counts positions, so a page may hold a few more items than `limit`). Deliver them together.
 * - A full page (more than `limit` positions waiting): each scope's cursor is the later of its
 *   own and the page's last position; every row of any scope up to that position is in the
 *   page, since a scope has at most one row per position and each scope's first L+1 rows were
 *   read. Otherwise every scope is complete through H (its rows up to H all committed, in this
 *   snapshot: positions commit in order and the rows with their events), so every cursor is
 *   (H, H): caught-up scopes share one cursor.
 * - A cursor past the tenant's end (eff > H: not one this log gave out, e.g. a restored
 *   database) is INVALID_CURSOR, as reading on would skip what comes next silently.
 * Events are decrypted as every reader's are.
 *
 * Snapshot bootstrap: `snapshots` names aggregate types with the fingerprint the reader decodes.
 * In a `bootstrap` read, an aggregate of such a type whose server snapshot has that fingerprint
 * comes as the snapshot (a `snapshot` item, whose `scopes` are the bootstrap reads of its row)
 * just before the event at the snapshot's version, with that event's cursor, and its events
 * before that version are left out of the scan (before the scan's limit, so pages fill with
 * rows the reader needs). This is complete: a span of an aggregate in a scope (from the row
 * where it joined to its `left` row, or on) that reaches the snapshot's version holds the event
 * at that version, since an aggregate that joins or rejoins brings its whole history; so each
 * such span reads as the snapshot and the events after it. A span that ended before that
 * version reads as its `left` row alone, which is all a reader needs of an aggregate that is
 * gone. Left out rows count as read, as the cursors say, and the snapshot is read in the rows'
 * statement, so it is the state of the events the page holds. Without `snapshots` (or a
 * bootstrap read) the statement is exactly the plain one.
 *
 * @example
 * const page = await readScopes(database, 'acme', [{ scope: 'project:{"projectId":"p1"}' }], 100);
 * const bootstrap = await readScopes(database, 'acme', [{ scope: key, bootstrap: true }], 100, {
 *   Task: 'task-v3',
 * });
 */
export async function readScopes(
  executor: SqlExecutor,
  tenant: string,
  reads: readonly ScopeReadRequest[],
  limit: number,
  snapshots?: Readonly<Record<string, string>>,
): Promise<ScopeReadPage> {
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new RangeError(`A scope read's limit is a whole number >= 1, not ${limit}`);
  }
  if (reads.length === 0) throw new RangeError('A scope read names at least one scope');
  if (new Set(reads.map((read) => read.scope)).size !== reads.length) {
    throw new RangeError('A scope read names a scope twice');
  }
  const afters = reads.map((read) => decodeScopeCursor(read.after));
  const { text, params } = scopeReadStatement(tenant, reads, afters, limit, snapshots);
  const { rows } = await executor.query<ItemRow>(text, params);

  const horizon = Number(rows[0]?.horizon ?? 0);
  reads.forEach((read, index) => {
    if ((afters[index]?.eff ?? 0) > horizon) throw new InvalidCursorError(read.after ?? '');
  });
  const found = rows.filter((row): row is ItemRow & { eff: string | number } => row.eff !== null);
  const positions = distinctPositions(found);
  const hasMore = positions.length > limit;
  const last = hasMore ? positions[limit - 1] : undefined;
  const kept = last === undefined ? found : found.filter((row) => !after(row, last));
  const items = await toItems(executor, reads, kept);

  const cursors: Record<string, string> = {};
  reads.forEach((read, index) => {
    const own = afters[index] ?? { eff: 0, pos: 0 };
    const next = last ?? { eff: horizon, pos: horizon };
    cursors[read.scope] = encodeScopeCursor(compareScopePositions(own, next) > 0 ? own : next);
  });
  return { items, cursors, hasMore, horizon };
}

/**
 * A row of the statement: the horizon, then an item's place, kind, reads and event (if any), and
 * in a bootstrap the snapshot that comes before its event (if any).
 */
type ItemRow = Partial<EventRow> & {
  horizon: string | number;
  eff: string | number | null;
  pos: string | number;
  kind: 'event' | 'left';
  reads: number[];
  item_aggregate_type: string;
  item_aggregate_id: string;
  // All null but in a bootstrap's row at a snapshot's version.
  snapshot_version?: number | null;
  snapshot_state?: unknown;
  snapshot_fingerprint?: string;
  snapshot_taken_at?: string | Date;
};

/**
 * The statement of `readScopes`. Parameters: $1 tenant, $2 the per-scope and page limit (L+1),
 * in a bootstrap $3 the snapshots read (type -> fingerprint, as JSON), then per scope its key
 * and cursor (eff, pos), or for `tenant` the position after which its events are new: a cursor
 * cut inside a join at (eff, pos < eff) has not yet passed the event at eff, which comes last at
 * its position. A bootstrap read's scan leaves out the events its snapshots replace, and the
 * events at the snapshots' versions are joined with them; the other scans are the plain ones.
 * The filter is a scalar subquery, so a key lookup per row the scan reads: Postgres turns a
 * NOT EXISTS into an anti join when it can, and for the tenant scan chose one over a sequential
 * scan of strata_snapshots (all tenants' snapshots), whatever the page's size.
 */
function scopeReadStatement(
  tenant: string,
  reads: readonly ScopeReadRequest[],
  afters: readonly ScopePosition[],
  limit: number,
  snapshots: Readonly<Record<string, string>> | undefined,
): { text: string; params: unknown[] } {
  const params: unknown[] = [tenant, limit + 1];
  const bootstraps =
    snapshots !== undefined && Object.keys(snapshots).length > 0
      ? reads.flatMap((read, index) => (read.bootstrap === true ? [index] : []))
      : [];
  if (bootstraps.length > 0) params.push(JSON.stringify(snapshots));
  const scans = reads.map((read, index) => {
    const { eff, pos } = afters[index] ?? { eff: 0, pos: 0 };
    const bootstrap = bootstraps.includes(index);
    if (read.scope === TENANT_SCOPE_NAME) {
      params.push(pos < eff ? eff - 1 : eff);
      const replaced = `
                AND coalesce((SELECT strata_events.version >= snapshot.version
                  FROM strata_snapshots snapshot WHERE ${snapshotReadOf('strata_events')}), true)`;
      return `(SELECT ${index} AS read, tenant_position AS eff, tenant_position AS pos,
                'event' AS kind, aggregate_type, aggregate_id
              FROM strata_events
              WHERE tenant = $1 AND tenant_position > $${params.length}::bigint${bootstrap ? replaced : ''}
              ORDER BY tenant_position LIMIT $2)`;
    }
    params.push(read.scope, eff, pos);
    const at = params.length;
    // A scope row names its aggregate, not its event's version: the event is looked up, only
    // for an aggregate with a snapshot read. A `left` row stays: it ends the aggregate's span.
    const replaced = `
              AND (kind = 'left' OR coalesce((SELECT event.version >= snapshot.version
                FROM strata_snapshots snapshot JOIN strata_events event
                  ON event.tenant = $1 AND event.tenant_position = strata_scope_rows.tenant_position
                WHERE ${snapshotReadOf('strata_scope_rows')}), true))`;
    return `(SELECT ${index} AS read, eff, tenant_position AS pos, kind, aggregate_type, aggregate_id
            FROM strata_scope_rows
            WHERE tenant = $1 AND scope = $${at - 2}
              AND (eff, tenant_position) > ($${at - 1}::bigint, $${at}::bigint)${bootstrap ? replaced : ''}
            ORDER BY eff, tenant_position LIMIT $2)`;
  });
  // The snapshot at an event's version, for an event row of a bootstrap read.
  const snapshotColumns =
    bootstraps.length === 0
      ? ''
      : `,
      snapshot.version AS snapshot_version, snapshot.state AS snapshot_state,
      snapshot.fingerprint AS snapshot_fingerprint, snapshot.taken_at AS snapshot_taken_at`;
  const snapshotJoin =
    bootstraps.length === 0
      ? ''
      : `
    LEFT JOIN strata_snapshots snapshot
      ON items.reads && ARRAY[${bootstraps.join(', ')}]::int[]
        AND ${snapshotReadOf('items')} AND snapshot.version = event.version`;
  const text = `WITH horizon AS MATERIALIZED (
      SELECT coalesce((SELECT last FROM strata_tenant_positions WHERE tenant = $1), 0) AS last
    ), candidates AS (
      ${scans.join('\n      UNION ALL\n      ')}
    ), cut AS (
      SELECT DISTINCT eff, pos FROM candidates ORDER BY eff, pos LIMIT $2
    ), items AS (
      SELECT candidates.eff, candidates.pos, candidates.kind, candidates.aggregate_type,
        candidates.aggregate_id, array_agg(candidates.read ORDER BY candidates.read) AS reads
      FROM candidates JOIN cut ON cut.eff = candidates.eff AND cut.pos = candidates.pos
      GROUP BY candidates.eff, candidates.pos, candidates.kind, candidates.aggregate_type,
        candidates.aggregate_id
    )
    SELECT horizon.last AS horizon, items.eff, items.pos, items.kind, items.reads,
      items.aggregate_type AS item_aggregate_type, items.aggregate_id AS item_aggregate_id,
      ${eventColumns('event')}${snapshotColumns}
    FROM horizon
    LEFT JOIN items ON true
    LEFT JOIN strata_events event
      ON items.kind = 'event' AND event.tenant = $1 AND event.tenant_position = items.pos${snapshotJoin}
    ORDER BY items.eff, items.pos, items.kind`;
  return { text, params };
}

/** `snapshot` is the one a bootstrap reads of `source`'s aggregate: its type and fingerprint in $3. */
const snapshotReadOf = (source: string) =>
  `snapshot.tenant = $1 AND snapshot.aggregate_type = ${source}.aggregate_type
        AND snapshot.aggregate_id = ${source}.aggregate_id
        AND snapshot.fingerprint = ($3::jsonb ->> snapshot.aggregate_type)`;

function distinctPositions(rows: readonly ItemRow[]): ScopePosition[] {
  const positions: ScopePosition[] = [];
  for (const row of rows) {
    const position = positionOf(row);
    const previous = positions.at(-1);
    if (previous === undefined || compareScopePositions(previous, position) !== 0) {
      positions.push(position);
    }
  }
  return positions;
}

const positionOf = (row: ItemRow): ScopePosition => ({
  eff: Number(row.eff),
  pos: Number(row.pos),
});

const after = (row: ItemRow, position: ScopePosition) =>
  compareScopePositions(positionOf(row), position) > 0;

async function toItems(
  executor: SqlExecutor,
  reads: readonly ScopeReadRequest[],
  rows: readonly ItemRow[],
): Promise<ScopeReadItem[]> {
  const scopesOf = (indexes: readonly number[]) =>
    indexes.map((index) => reads[index]?.scope ?? '');
  const events = await decryptStoredEvents(
    executor,
    rows.filter((row) => row.kind === 'event').map((row) => toStoredEvent(eventOf(row))),
  );
  let next = 0;
  return rows.flatMap((row): ScopeReadItem[] => {
    const cursor = encodeScopeCursor(positionOf(row));
    if (row.kind === 'left') {
      return scopesOf(row.reads).map((scope) => ({
        kind: 'left',
        cursor,
        scope,
        aggregateType: row.item_aggregate_type,
        aggregateId: row.item_aggregate_id,
      }));
    }
    const event = events[next++] as PostgresStoredEvent;
    const item: ScopeReadItem = { kind: 'event', cursor, event, scopes: scopesOf(row.reads) };
    if (row.snapshot_version === undefined || row.snapshot_version === null) return [item];
    const snapshot: ScopeReadItem = {
      kind: 'snapshot',
      cursor,
      scopes: scopesOf(row.reads.filter((index) => reads[index]?.bootstrap === true)),
      aggregateType: event.aggregateType,
      aggregateId: event.aggregateId,
      version: row.snapshot_version,
      state: row.snapshot_state,
      fingerprint: row.snapshot_fingerprint as string,
      takenAt: isoTime(row.snapshot_taken_at as string | Date),
    };
    return [snapshot, item];
  });
}

/** The joined event of an event item; its absence would mean a scope row without its event. */
function eventOf(row: ItemRow): EventRow {
  if (row.id === undefined || row.id === null) {
    throw new Error(`Scope row at s${row.eff}.${row.pos} has no event`);
  }
  return row as EventRow;
}
