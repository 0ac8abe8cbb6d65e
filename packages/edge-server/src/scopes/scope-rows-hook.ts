import {
  parseScopeKey,
  type ScopeMembership,
  type ScopeRef,
  type StoredEvent,
  type StreamRef,
  scopesAfter,
} from '@strata/core';
import { decryptStoredEvents } from '../crypto/decrypt-stored-events.ts';
import type { AppendHook } from '../postgres/append-hook.ts';
import { type EventRow, eventColumns, toStoredEvent } from '../postgres/event-row.ts';
import type { PostgresStoredEvent } from '../postgres/postgres-stored-event.ts';
import type { SqlExecutor } from '../postgres/sql-database.ts';
import { planScopeRows, type ScopeRowPlan } from './scope-row-plan.ts';

/**
 * The append hook that keeps the scope logs (scope-schema.ts): for each appended aggregate of a
 * type with a declared membership, it runs the membership fold over the appended events from
 * the aggregate's current scopes, writes the scope rows (events, join histories, `left` rows) and
 * the new current scopes, in the append's transaction: the rows commit with the events or not at
 * all, and since a tenant's appends commit in position order, a committed position's rows are all
 * there. The fold sees plaintext (`events`), never the sealed `context.stored`. Aggregate types
 * without a membership get no rows (only the `tenant` scope holds them).
 *
 * Two statements per appended aggregate: the current scopes (skipped for a new aggregate) and one
 * write of rows and membership. With `check` (the scoped-sync write check), the check sees the
 * scopes read and folded here, before anything is written, so it adds no statement.
 *
 * @example
 * createPostgresEventStore(database, { tenant, appendHooks: [scopeRowsHook([taskScopes])] });
 */
export function scopeRowsHook(
  memberships: readonly ScopeMembership[],
  check?: ScopeWriteCheck,
): AppendHook {
  const byType = new Map<string, ScopeMembership>();
  for (const membership of memberships) {
    if (byType.has(membership.aggregateType)) {
      throw new TypeError(`Two scope memberships for aggregate type ${membership.aggregateType}`);
    }
    byType.set(membership.aggregateType, membership);
  }
  return async (events, { tenant, transaction }) => {
    for (const stream of byStream(events)) {
      const membership = byType.get(stream[0]?.aggregateType ?? '');
      if (membership !== undefined) {
        await keepScopeRows(transaction, tenant, membership, stream, check);
      } else if (check !== undefined && stream[0] !== undefined) {
        // A type without a membership is in no scope: only `tenant` holders write it.
        await check({ stream: streamOf(stream[0]), events: stream, before: [], joined: [] });
      }
    }
  };
}

async function keepScopeRows(
  tx: SqlExecutor,
  tenant: string,
  membership: ScopeMembership,
  events: readonly PostgresStoredEvent[],
  check: ScopeWriteCheck | undefined,
): Promise<void> {
  const first = events[0];
  if (first === undefined) return;
  const start = await scopesBefore(tx, tenant, membership, first);
  const folded = scopesAfter(membership, start.fold, events);
  if (check !== undefined) {
    const before = start.fold.map((scope) => scope.key);
    await check({ stream: streamOf(first), events, before, joined: joinedBy(before, folded) });
  }
  const lists = folded.map((list) => list.map((scope) => scope.key));
  const plan = planScopeRows(start.held, events, lists);
  const changed = !start.hasRow || !sameKeys(start.held, plan.after);
  if (plan.spans.length === 0 && plan.leaves.length === 0 && !changed) return;
  await writeScopeRows(tx, tenant, first, plan, changed);
}

/** One append to one aggregate, as the write check (`scopeWriteCheck`) judges it. */
export interface ScopedWrite {
  readonly stream: StreamRef;
  readonly events: readonly PostgresStoredEvent[];
  /** The aggregate's scope keys before the append ([] for a new one). */
  readonly before: readonly string[];
  /** The scopes the append makes it join (in none of `before`, in a list after an event). */
  readonly joined: readonly ScopeRef[];
}

/** Refuses a write by throwing; runs in the append's transaction before any scope row is written. */
export type ScopeWriteCheck = (write: ScopedWrite) => Promise<void>;

const streamOf = (event: PostgresStoredEvent): StreamRef => ({
  aggregateType: event.aggregateType,
  aggregateId: event.aggregateId,
});

/** The scopes that lists after each event name and `before` does not, once each. */
function joinedBy(before: readonly string[], lists: readonly ScopeRef[][]): ScopeRef[] {
  const held = new Set(before);
  const joined = new Map<string, ScopeRef>();
  for (const list of lists) {
    for (const scope of list) if (!held.has(scope.key)) joined.set(scope.key, scope);
  }
  return [...joined.values()];
}

interface ScopesBefore {
  /** What the fold continues from. */
  readonly fold: readonly ScopeRef[];
  /** The scopes whose logs already hold the aggregate's rows. */
  readonly held: readonly string[];
  readonly hasRow: boolean;
}

/**
 * The aggregate's scopes before `first`. A new aggregate has none (no query). An aggregate
 * without a membership row but with history (written before its type declared a membership, or
 * before migration 9) is folded from its stored events, decrypted; its scope logs hold none of
 * its rows yet, so it joins its scopes now, history included.
 */
async function scopesBefore(
  tx: SqlExecutor,
  tenant: string,
  membership: ScopeMembership,
  first: PostgresStoredEvent,
): Promise<ScopesBefore> {
  if (first.version === 1) return { fold: [], held: [], hasRow: false };
  const { rows } = await tx.query<{ scopes: string[] }>(
    `SELECT scopes FROM strata_scope_memberships
     WHERE tenant = $1 AND aggregate_type = $2 AND aggregate_id = $3`,
    [tenant, first.aggregateType, first.aggregateId],
  );
  const row = rows[0];
  if (row !== undefined) return { fold: row.scopes.map(scopeRef), held: row.scopes, hasRow: true };
  const history = await earlierEvents(tx, tenant, first);
  const fold = scopesAfter(membership, [], history).at(-1) ?? [];
  return { fold, held: [], hasRow: false };
}

async function earlierEvents(
  tx: SqlExecutor,
  tenant: string,
  first: PostgresStoredEvent,
): Promise<StoredEvent[]> {
  const { rows } = await tx.query<EventRow>(
    `SELECT ${eventColumns()} FROM strata_events
     WHERE tenant = $1 AND aggregate_type = $2 AND aggregate_id = $3 AND version < $4
     ORDER BY version`,
    [tenant, first.aggregateType, first.aggregateId, first.version],
  );
  return decryptStoredEvents(tx, rows.map(toStoredEvent));
}

/**
 * One statement: the membership upsert (when it changed: `$11`) and every row of the plan. Join spans
 * select the history from strata_events by the (tenant, aggregate, version) key, which sees the
 * rows this transaction inserted a moment ago.
 */
export async function writeScopeRows(
  tx: SqlExecutor,
  tenant: string,
  stream: PostgresStoredEvent,
  plan: ScopeRowPlan,
  changed: boolean,
): Promise<void> {
  await tx.query(
    `WITH membership AS (
       INSERT INTO strata_scope_memberships (tenant, aggregate_type, aggregate_id, scopes)
       SELECT $1, $2, $3, $4::text[] WHERE $11::boolean
       ON CONFLICT (tenant, aggregate_type, aggregate_id) DO UPDATE SET scopes = excluded.scopes
     ),
     spans AS (
       SELECT * FROM unnest($5::text[], $6::bigint[], $7::integer[], $8::integer[])
         AS span (scope, eff, from_version, to_version)
     ),
     leaves AS (
       SELECT * FROM unnest($9::text[], $10::bigint[]) AS leave (scope, eff)
     )
     INSERT INTO strata_scope_rows
       (tenant, scope, eff, tenant_position, kind, aggregate_type, aggregate_id)
     SELECT $1, span.scope, span.eff, event.tenant_position, 'event', $2, $3
     FROM spans span
     JOIN strata_events event ON event.tenant = $1 AND event.aggregate_type = $2
       AND event.aggregate_id = $3 AND event.version BETWEEN span.from_version AND span.to_version
     UNION ALL
     SELECT $1, leave.scope, leave.eff, leave.eff, 'left', $2, $3 FROM leaves leave`,
    [
      tenant,
      stream.aggregateType,
      stream.aggregateId,
      plan.after,
      plan.spans.map((span) => span.scope),
      plan.spans.map((span) => span.eff),
      plan.spans.map((span) => span.fromVersion),
      plan.spans.map((span) => span.toVersion),
      plan.leaves.map((leave) => leave.scope),
      plan.leaves.map((leave) => leave.eff),
      changed,
    ],
  );
}

/** A stored key back as the ref the fold takes. */
function scopeRef(key: string): ScopeRef {
  const parts = parseScopeKey(key);
  if (parts === undefined) throw new TypeError(`Stored scope "${key}" is not a scope key`);
  return { ...parts, key };
}

const sameKeys = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((key, index) => key === b[index]);

/** An append is one stream today; grouping keeps the hook right if a batch ever spans several. */
function byStream(events: readonly PostgresStoredEvent[]): PostgresStoredEvent[][] {
  const streams = new Map<string, PostgresStoredEvent[]>();
  for (const event of events) {
    const key = JSON.stringify([event.aggregateType, event.aggregateId]);
    const stream = streams.get(key) ?? [];
    stream.push(event);
    streams.set(key, stream);
  }
  return [...streams.values()];
}
