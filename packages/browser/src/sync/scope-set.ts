// The scopes a device asked for (scoped sync), kept in syncState as one `scope:<key>` row each,
// so a restart resumes every scope from its own cursor and a restart with another set knows
// what was removed. A row's cursor is written in the same transaction as the items it covers.
import type { ScopeRef } from '@strata/core';
import type { StrataDatabase } from '../database/strata-database.ts';

/** The syncState key prefix of scope rows. */
const SCOPE_STATE_PREFIX = 'scope:';

/** What the device knows of one scope it asked for. */
export interface ScopeState {
  readonly key: string;
  /** The server's cursor for this scope after the last stored page; absent before the first. */
  readonly cursor?: string;
  /**
   * The scope was read to the server's end at least once: every aggregate it holds is here as
   * of its cursor, so it can join the live stream. False while it back-fills.
   */
  readonly complete: boolean;
  /**
   * When the server last refused it (ISO time): it is retried after an interval. A refused
   * scope has no cursor and is not complete: a later grant back-fills it from the start.
   */
  readonly refusedAt?: string;
}

/** Where each scope stands, for `sync.status`. */
export interface ScopesStatus {
  /** Read to the end once and following: their aggregates are on the device. */
  readonly held: readonly string[];
  /** Asked for and being read for the first time (or again after a refusal was lifted). */
  readonly backfilling: readonly string[];
  /** The server refused them (403): nothing of them is kept; asked again on an interval. */
  readonly refused: readonly string[];
}

/** The scope rows, in key order. */
export async function readScopeStates(db: StrataDatabase): Promise<ScopeState[]> {
  const rows = await db.syncState.where('key').startsWith(SCOPE_STATE_PREFIX).toArray();
  return rows.map((row) => row.value as ScopeState);
}

/** Writes scope states (inside the caller's transaction, or on their own). */
export async function writeScopeStates(
  db: StrataDatabase,
  states: readonly ScopeState[],
): Promise<void> {
  await db.syncState.bulkPut(
    states.map((state) => ({ key: SCOPE_STATE_PREFIX + state.key, value: state })),
  );
}

/** Deletes the rows of these scope keys. */
export async function deleteScopeStates(
  db: StrataDatabase,
  keys: readonly string[],
): Promise<void> {
  await db.syncState.bulkDelete(keys.map((key) => SCOPE_STATE_PREFIX + key));
}

/** The state of a scope just asked for: nothing read yet. */
function newScopeState(ref: ScopeRef): ScopeState {
  return { key: ref.key, complete: false };
}

/** What changes when the device asks for `wanted` instead of the scopes it has rows for. */
export interface ScopeChange {
  readonly added: readonly ScopeState[];
  readonly removed: readonly string[];
}

/**
 * The rows to add and the keys to remove to go from `current` to `wanted` (duplicates in
 * `wanted` count once). Scopes in both keep their cursors.
 */
export function scopeChange(
  current: readonly ScopeState[],
  wanted: readonly ScopeRef[],
): ScopeChange {
  const wantedKeys = new Set(wanted.map((ref) => ref.key));
  const have = new Set(current.map((state) => state.key));
  const added = new Map<string, ScopeState>();
  for (const ref of wanted) {
    if (!have.has(ref.key) && !added.has(ref.key)) added.set(ref.key, newScopeState(ref));
  }
  return {
    added: [...added.values()],
    removed: current.filter((state) => !wantedKeys.has(state.key)).map((state) => state.key),
  };
}

/** The status of each scope: held, back-filling or refused. */
export function scopesStatus(states: readonly ScopeState[]): ScopesStatus {
  const of = (test: (state: ScopeState) => boolean) =>
    states.filter(test).map((state) => state.key);
  return {
    held: of((state) => state.refusedAt === undefined && state.complete),
    backfilling: of((state) => state.refusedAt === undefined && !state.complete),
    refused: of((state) => state.refusedAt !== undefined),
  };
}

/**
 * Whether every scope asked for was read to the end or is refused (holds nothing): every
 * aggregate a held scope holds is on the device.
 */
export function allScopesRead(states: readonly ScopeState[]): boolean {
  return states.every((state) => state.complete || state.refusedAt !== undefined);
}

/** Whether a scope may be read now: not refused, or refused at least `retryMs` before `now`. */
function isReadable(state: ScopeState, now: Date, retryMs: number): boolean {
  return state.refusedAt === undefined || now.getTime() - Date.parse(state.refusedAt) >= retryMs;
}

/**
 * The scopes to catch up together before following them live: those read to the end before
 * (the others back-fill beside the live stream), or, when none was, every readable one (a first
 * start has nothing live to keep flowing).
 */
export function catchUpSet(
  states: readonly ScopeState[],
  now: Date,
  retryMs: number,
): ScopeState[] {
  const complete = states.filter((state) => state.complete && state.refusedAt === undefined);
  return complete.length > 0 ? complete : states.filter((state) => isReadable(state, now, retryMs));
}

/** The scopes to back-fill beside the live stream of `following`: asked for, not complete, readable. */
export function backfillSet(
  states: readonly ScopeState[],
  following: ReadonlySet<string>,
  now: Date,
  retryMs: number,
): ScopeState[] {
  return states.filter(
    (state) => !following.has(state.key) && !state.complete && isReadable(state, now, retryMs),
  );
}
