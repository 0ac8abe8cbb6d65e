import {
  isStrataError,
  type NewEvent,
  NO_STREAM,
  type StrataError,
  type StreamRef,
  streamKey,
} from '@strata/core';
import { encryptNewEvents } from '../crypto/encrypt-new-events.ts';
import { isEventUniqueViolation, withAppendRetries } from './append-retries.ts';
import { type AppendSettings, appendToStream } from './append-to-stream.ts';
import { type EventToInsert, insertRows, type StreamAt } from './insert-events.ts';
import { notifyAppended } from './notify-appended.ts';
import { type CommitAppend, type CommitPlan, planCommitGroups } from './plan-commit-appends.ts';
import { locksStream } from './plan-stream-append.ts';
import type { PostgresStoredEvent } from './postgres-stored-event.ts';
import type { SqlDatabase, SqlExecutor } from './sql-database.ts';
import { findStoredByIds, streamVersions } from './stream-reads.ts';

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

/** One append's commits and the settings of its store (hooks, encryption) in a shared batch. */
export interface CommitGroup {
  readonly settings: AppendSettings;
  readonly commits: readonly CommitAppend[];
}

/**
 * Appends many commits, each atomically and with the rules of one append after the other
 * (`planCommitAppends`), in one transaction of a constant number of round trips: BEGIN, the
 * versions of all their aggregates in one statement, (the stored ids, only when a version does
 * not fit or a writer raced), one INSERT of every accepted event across aggregates, COMMIT;
 * then the notification (`notifyAppended`). Encryption and the append hooks run inside it, the
 * hooks once per run of consecutive commits with at most one of each aggregate (`hookLayers`: a
 * hook judges each commit of an aggregate on its own, as one append after the other would, and
 * sees the events in order). A refused commit
 * writes nothing and never takes its neighbours down.
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
  const [outcomes] = await appendCommitGroups(db, [{ settings, commits }]);
  return outcomes as CommitOutcome[];
}

/**
 * `appendCommits` for the appends of several pushes of one tenant at once (tenant-append-queue.ts:
 * pushes that arrive while the tenant's last transaction runs share the next one, and its WAL
 * flush). As if they ran one after the other in the given order: versions chain across groups, a
 * refusal blocks later commits of its own group only, each group's hooks see its own events. A
 * refusal inside (hook, encryption) sends each group on its own again.
 */
export async function appendCommitGroups(
  db: SqlDatabase,
  groups: readonly CommitGroup[],
): Promise<CommitOutcome[][]> {
  const [first] = groups;
  if (first === undefined) return [];
  if (groups.some(({ settings }) => settings.tenant !== first.settings.tenant)) {
    throw new RangeError('One batch appends for one tenant');
  }
  const commits = groups.flatMap((group) => group.commits);
  if (commits.length === 0) return groups.map(() => []);
  if (commits.some((commit) => locksStream(commit.expectedVersion))) {
    const outcomes: CommitOutcome[][] = [];
    for (const group of groups)
      outcomes.push(await appendOneByOne(db, group.settings, group.commits));
    return outcomes;
  }
  try {
    const outcomes =
      (await appendAtOnce(db, groups)) ??
      (await withAppendRetries((raced) => db.transaction((tx) => appendWithin(tx, groups, raced))));
    if (outcomes.flat().some((outcome) => outcome.kind === 'appended' && !outcome.alreadyStored)) {
      notifyAppended(db, first.settings.tenant);
    }
    return outcomes;
  } catch (error) {
    if (!(error instanceof CommitRefusedInside)) throw error;
    if (groups.length > 1) {
      const outcomes: CommitOutcome[][] = [];
      for (const group of groups) outcomes.push(...(await appendCommitGroups(db, [group])));
      return outcomes;
    }
    return first.commits.length === 1
      ? [[{ kind: 'refused', error: error.refusal }]]
      : [await appendOneByOne(db, first.settings, first.commits)];
  }
}

/**
 * The common case in one statement and one round trip, without a transaction of its own: no
 * hooks or encryption to run, every commit chained on the one before it on its aggregate, and
 * every aggregate standing where its first commit expects. The statement checks the versions
 * and inserts in one go (`insertRowsStatement` with `fit`); when a version does not fit it
 * stores nothing, and when a writer got in between the unique indexes refuse it: undefined then,
 * and the transaction of `appendWithin` decides commit by commit.
 */
async function appendAtOnce(
  db: SqlDatabase,
  groups: readonly CommitGroup[],
): Promise<CommitOutcome[][] | undefined> {
  const plain = groups.every(
    ({ settings }) =>
      settings.appendHooks.length === 0 &&
      (settings.wholeHooks ?? []).length === 0 &&
      settings.encryption === undefined,
  );
  if (!plain) return undefined;
  const next = new Map<string, number>();
  const fit: StreamAt[] = [];
  const rows: EventToInsert[] = [];
  const ids = new Set<string>();
  for (const { stream, events, expectedVersion } of groups.flatMap((group) => group.commits)) {
    const key = streamKey(stream);
    const expected = expectedVersion === NO_STREAM ? 0 : expectedVersion;
    if (typeof expected !== 'number' || events.length === 0) return undefined;
    const chained = next.get(key);
    if (chained === undefined) fit.push({ stream, version: expected });
    else if (chained !== expected) return undefined;
    for (const [offset, event] of events.entries()) {
      if (ids.has(event.id)) return undefined;
      ids.add(event.id);
      rows.push({ stream, event, version: expected + 1 + offset });
    }
    next.set(key, expected + events.length);
  }
  let stored: PostgresStoredEvent[];
  try {
    stored = await insertRows(db, (groups[0] as CommitGroup).settings.tenant, rows, fit);
  } catch (error) {
    if (isEventUniqueViolation(error)) return undefined;
    throw error;
  }
  if (stored.length === 0) return undefined;
  let from = 0;
  return groups.map(({ commits }) =>
    commits.map(({ events }): CommitOutcome => {
      from += events.length;
      const own = stored.slice(from - events.length, from);
      // Given data, as every read gives it back (no encryption here: it is the same).
      return { kind: 'appended', events: own, alreadyStored: false };
    }),
  );
}

/** A typed refusal from a hook or the encryption: which commit it is about is unknown. */
class CommitRefusedInside extends Error {
  constructor(readonly refusal: StrataError) {
    super(refusal.message, { cause: refusal });
  }
}

async function appendWithin(
  tx: SqlExecutor,
  groups: readonly CommitGroup[],
  raced: boolean,
): Promise<CommitOutcome[][]> {
  const { tenant } = (groups[0] as CommitGroup).settings;
  const lists = groups.map((group) => group.commits);
  const versions = await streamVersions(
    tx,
    tenant,
    lists.flat().map((commit) => commit.stream),
  );
  const versionOf = (stream: StreamRef) => versions.get(streamKey(stream)) ?? 0;
  const none = (): PostgresStoredEvent | undefined => undefined;
  let plans = planCommitGroups(lists, versionOf, none);
  // Stored ids matter only for a retry or a conflict (a refusal without them) or after a race;
  // otherwise a reused id is caught by the unique index, and the lookup is saved.
  if (raced || plans.flat().some((plan) => plan.kind === 'refused')) {
    const ids = lists.flat().flatMap((commit) => commit.events.map((event) => event.id));
    const stored = await findStoredByIds(tx, tenant, ids);
    plans = planCommitGroups(lists, versionOf, (id) => stored.get(id));
  }

  const rows: EventToInsert[] = [];
  const given: NewEvent[] = [];
  for (const [g, group] of groups.entries()) {
    for (const [index, plan] of (plans[g] as CommitPlan[]).entries()) {
      if (plan.kind !== 'append') continue;
      const { stream, events } = group.commits[index] as CommitAppend;
      const encryption = group.settings.encryption;
      const toStore = await refusalsMarked(() =>
        encryptNewEvents(tx, { tenant, stream, events, encryption }),
      );
      toStore.forEach((event, offset) => {
        rows.push({ stream, event, version: plan.firstVersion + offset });
        given.push(events[offset] as NewEvent);
      });
    }
  }
  const stored = rows.length === 0 ? [] : await insertRows(tx, tenant, rows);
  // Hooks and the caller get the data as the caller gave it, as every read gives it back.
  const appended = stored.map((event, index) => ({
    ...event,
    data: given[index]?.data ?? event.data,
  }));

  let next = 0;
  const outcomes: CommitOutcome[][] = [];
  for (const [g, group] of groups.entries()) {
    const slices: { stream: StreamRef; from: number; to: number }[] = [];
    const answers = (plans[g] as CommitPlan<PostgresStoredEvent>[]).map(
      (plan, index): CommitOutcome => {
        switch (plan.kind) {
          case 'append': {
            const commit = group.commits[index] as CommitAppend;
            const from = next;
            next += commit.events.length;
            slices.push({ stream: commit.stream, from, to: next });
            return { kind: 'appended', events: appended.slice(from, next), alreadyStored: false };
          }
          case 'already-stored':
            return { kind: 'appended', events: plan.events, alreadyStored: true };
          default:
            return plan;
        }
      },
    );
    for (const layer of hookLayers(slices)) {
      const events = layer.flatMap(({ from, to }) => appended.slice(from, to));
      const context = {
        tenant,
        transaction: tx,
        stored: layer.flatMap(({ from, to }) => stored.slice(from, to)),
      };
      for (const hook of group.settings.appendHooks) {
        await refusalsMarked(() => hook(events, context));
      }
    }
    const wholeHooks = group.settings.wholeHooks ?? [];
    if (wholeHooks.length > 0 && slices.length > 0) {
      const first = (slices[0] as (typeof slices)[number]).from;
      const last = (slices.at(-1) as (typeof slices)[number]).to;
      const events = appended.slice(first, last);
      const context = { tenant, transaction: tx, stored: stored.slice(first, last) };
      for (const hook of wholeHooks) await refusalsMarked(() => hook(events, context));
    }
    outcomes.push(answers);
  }
  return outcomes;
}

/**
 * The group's appended commits in the calls its hooks get: consecutive commits, a call ending
 * before a commit of an aggregate it already holds. A hook that judges an aggregate's events
 * (the scope write check) judges each commit on its own, as when the commits were appended one
 * after the other, and the calls keep the events' order (a push of commits on one aggregate
 * each gets one call; fifty edits of one todo, fifty calls in the same transaction).
 */
export function hookLayers<T extends { readonly stream: StreamRef }>(commits: readonly T[]): T[][] {
  const layers: T[][] = [];
  let current: T[] = [];
  let held = new Set<string>();
  for (const commit of commits) {
    const key = streamKey(commit.stream);
    if (held.has(key)) {
      layers.push(current);
      current = [];
      held = new Set();
    }
    held.add(key);
    current.push(commit);
  }
  if (current.length > 0) layers.push(current);
  return layers;
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
