import {
  isStrataError,
  type NewEvent,
  type StrataError,
  type StreamRef,
  streamKey,
} from '@strata/core';
import { encryptNewEvents } from '../crypto/encrypt-new-events.ts';
import { withAppendRetries } from './append-retries.ts';
import { type AppendSettings, appendToStream } from './append-to-stream.ts';
import { type EventToInsert, insertRows } from './insert-events.ts';
import { type CommitAppend, type CommitPlan, planCommitAppends } from './plan-commit-appends.ts';
import { locksStream } from './plan-stream-append.ts';
import type { PostgresStoredEvent } from './postgres-stored-event.ts';
import type { SqlDatabase, SqlExecutor } from './sql-database.ts';
import { findStoredByIds } from './stream-reads.ts';

export type { CommitAppend };

/** What became of one commit of `appendCommits`. */
export type CommitOutcome =
  | {
      readonly kind: 'appended';
      readonly events: readonly PostgresStoredEvent[];
      /** A retry: the events were stored by an earlier try. */
      readonly alreadyStored: boolean;
    }
  | { readonly kind: 'refused'; readonly error: StrataError }
  | { readonly kind: 'blocked' };

/**
 * Appends many commits, each atomically and with the rules of one append after the other
 * (`planCommitAppends`), in one transaction of a constant number of round trips: BEGIN, the
 * versions of all their aggregates in one statement, (the stored ids, only when a version does
 * not fit or a writer raced), one INSERT of every accepted event across aggregates, COMMIT.
 * Encryption and the append hooks run inside it, the hooks once for all the events. A refused
 * commit writes nothing and never takes its neighbours down.
 *
 * When a hook or the encryption refuses (a typed error other than `UNAVAILABLE`), nothing of the
 * transaction stays and the commits are appended again one by one (`appendToStream`), so the
 * refusal lands on the commit it is about. So do commits without an exact expected version (they
 * take a lock per stream). Errors that are not about a commit (a lost database) reach the caller.
 *
 * @example
 * const outcomes = await appendCommits(db, settings, [{ stream, events, expectedVersion: 4 }]);
 */
export async function appendCommits(
  db: SqlDatabase,
  settings: AppendSettings,
  commits: readonly CommitAppend[],
): Promise<CommitOutcome[]> {
  if (commits.length === 0) return [];
  if (commits.some((commit) => locksStream(commit.expectedVersion))) {
    return appendOneByOne(db, settings, commits);
  }
  try {
    return await withAppendRetries((raced) =>
      db.transaction((tx) => appendWithin(tx, settings, commits, raced)),
    );
  } catch (error) {
    if (!(error instanceof CommitRefusedInside)) throw error;
    return commits.length === 1
      ? [{ kind: 'refused', error: error.refusal }]
      : appendOneByOne(db, settings, commits);
  }
}

/** A typed refusal from a hook or the encryption: which commit it is about is unknown. */
class CommitRefusedInside extends Error {
  constructor(readonly refusal: StrataError) {
    super(refusal.message, { cause: refusal });
  }
}

async function appendWithin(
  tx: SqlExecutor,
  settings: AppendSettings,
  commits: readonly CommitAppend[],
  raced: boolean,
): Promise<CommitOutcome[]> {
  const { tenant } = settings;
  const versions = await streamVersions(tx, tenant, commits);
  const versionOf = (stream: StreamRef) => versions.get(streamKey(stream)) ?? 0;
  const none = (): PostgresStoredEvent | undefined => undefined;
  let plans: CommitPlan<PostgresStoredEvent>[] = planCommitAppends(commits, versionOf, none);
  // Stored ids matter only for a retry or a conflict (a refusal without them) or after a race;
  // otherwise a reused id is caught by the unique index, and the lookup is saved.
  if (raced || plans.some((plan) => plan.kind === 'refused')) {
    const ids = commits.flatMap((commit) => commit.events.map((event) => event.id));
    const stored = await findStoredByIds(tx, tenant, ids);
    plans = planCommitAppends(commits, versionOf, (id) => stored.get(id));
  }

  const rows: EventToInsert[] = [];
  const given: NewEvent[] = [];
  for (const [index, plan] of plans.entries()) {
    if (plan.kind !== 'append') continue;
    const { stream, events } = commits[index] as CommitAppend;
    const toStore = await refusalsMarked(() =>
      encryptNewEvents(tx, { tenant, stream, events, encryption: settings.encryption }),
    );
    toStore.forEach((event, offset) => {
      rows.push({ stream, event, version: plan.firstVersion + offset });
      given.push(events[offset] as NewEvent);
    });
  }
  const stored = rows.length === 0 ? [] : await insertRows(tx, tenant, rows);
  // Hooks and the caller get the data as the caller gave it, as every read gives it back.
  const appended = stored.map((event, index) => ({
    ...event,
    data: given[index]?.data ?? event.data,
  }));
  if (appended.length > 0) {
    for (const hook of settings.appendHooks) {
      await refusalsMarked(() => hook(appended, { tenant, transaction: tx, stored }));
    }
  }

  let next = 0;
  return plans.map((plan, index): CommitOutcome => {
    switch (plan.kind) {
      case 'append': {
        const count = (commits[index] as CommitAppend).events.length;
        next += count;
        return {
          kind: 'appended',
          events: appended.slice(next - count, next),
          alreadyStored: false,
        };
      }
      case 'already-stored':
        return { kind: 'appended', events: plan.events, alreadyStored: true };
      default:
        return plan;
    }
  });
}

/** Runs `work`, marking a typed refusal (not a lost database) as one a commit got inside. */
async function refusalsMarked<T>(work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isStrataError(error) && !isStrataError(error, 'UNAVAILABLE')) {
      throw new CommitRefusedInside(error);
    }
    throw error;
  }
}

/** The stored version of every aggregate the commits name, by stream key, in one statement. */
async function streamVersions(
  tx: SqlExecutor,
  tenant: string,
  commits: readonly CommitAppend[],
): Promise<Map<string, number>> {
  const streams = [...new Map(commits.map((c) => [streamKey(c.stream), c.stream])).values()];
  const { rows } = await tx.query<{ type: string; id: string; version: number | null }>(
    `SELECT s.type, s.id,
       (SELECT max(e.version) FROM strata_events e
        WHERE e.tenant = $1 AND e.aggregate_type = s.type AND e.aggregate_id = s.id) AS version
     FROM unnest($2::text[], $3::text[]) AS s (type, id)`,
    [tenant, streams.map((s) => s.aggregateType), streams.map((s) => s.aggregateId)],
  );
  return new Map(
    rows.map((row) => [
      streamKey({ aggregateType: row.type, aggregateId: row.id }),
      Number(row.version ?? 0),
    ]),
  );
}

/**
 * The commits appended one after the other, each in its own transaction (`appendToStream`), with
 * the same rules as one batch: a refused commit blocks the later ones of its aggregate.
 */
async function appendOneByOne(
  db: SqlDatabase,
  settings: AppendSettings,
  commits: readonly CommitAppend[],
): Promise<CommitOutcome[]> {
  const refused = new Set<string>();
  const outcomes: CommitOutcome[] = [];
  for (const { stream, events, expectedVersion } of commits) {
    const key = streamKey(stream);
    if (refused.has(key)) {
      outcomes.push({ kind: 'blocked' });
      continue;
    }
    try {
      const result = await appendToStream(db, settings, stream, events, { expectedVersion });
      outcomes.push({
        kind: 'appended',
        events: result.events as readonly PostgresStoredEvent[],
        alreadyStored: result.alreadyStored,
      });
    } catch (error) {
      if (!isStrataError(error) || isStrataError(error, 'UNAVAILABLE')) throw error;
      refused.add(key);
      outcomes.push({ kind: 'refused', error });
    }
  }
  return outcomes;
}
