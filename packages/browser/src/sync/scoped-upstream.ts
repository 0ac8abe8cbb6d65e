// Scoped sync's upstream: what `runUpstreamLoop` catches up and follows when the device holds
// scopes. The held scopes are caught up together and followed by one stream from their shared
// cursor; a scope added meanwhile back-fills beside it from its own cursor, then joins: the
// stream stops, every scope is pulled to the end (the server then gives them all one cursor)
// and the stream reopens with the new set. Nothing is skipped: each scope resumes from the
// cursor stored with its last page. Scopes the server refuses are taken off the device and
// asked for again after an interval.

import { type BackoffOptions, isStrataError, type WakeSignal } from '@strata/core';
import type { StrataDatabase } from '../database/strata-database.ts';
import type { ScopedBatch } from './apply-scoped.ts';
import type { ReadLog } from './log-check.ts';
import { retryDelay } from './retry-delay.ts';
import { backfillSet, catchUpSet, readScopeStates, type ScopeState } from './scope-set.ts';
import { pullScopesToEnd, refusedScopes } from './scoped-catch-up.ts';
import { followScopes } from './scoped-follow.ts';
import type { SharedConnection } from './shared-connection.ts';
import type { SyncTransport } from './sync-transport.ts';

export interface ScopedUpstreamOptions {
  readonly db: StrataDatabase;
  /** The log this device read from: each catch-up sends its anchor and compares its log id. */
  readonly log?: ReadLog;
  readonly transport: Pick<SyncTransport, 'pullScopes' | 'subscribeScopes'>;
  readonly apply: (batch: ScopedBatch) => Promise<unknown>;
  /** Takes refused scopes off the device (marks them refused, drops what only they held). */
  readonly refuse: (keys: readonly string[]) => Promise<void>;
  /** Woken when the scope set changes (`setScopes`, in any tab). */
  readonly scopesChanged: WakeSignal;
  readonly pullLimit: number;
  /** Types that may back-fill from server snapshots (`bootstrapTypes`). */
  readonly snapshots?: Readonly<Record<string, string>>;
  readonly idleTimeoutMs: number;
  /** How long a refused scope waits before it is asked for again. */
  readonly refusedRetryMs: number;
  /** Whether the loop follows live; when polling, added scopes back-fill during catch-up. */
  readonly live: boolean;
  readonly clock: () => Date;
  readonly connection: Pick<SharedConnection, 'fail'>;
  readonly backoff: BackoffOptions | undefined;
  readonly random: () => number;
  readonly onPage: (page: { readonly items: number; readonly done: boolean }) => Promise<void>;
  readonly onOpen?: (stream: AbortController) => void;
  readonly onCaughtUp: () => Promise<void>;
  /** Called as each catch-up starts. */
  readonly beforeCatchUp?: () => void;
  /** Called after each catch-up's pulls were stored (e.g. to sweep what no scope holds). */
  readonly afterCatchUp?: () => Promise<void>;
  readonly signal: AbortSignal;
}

/** The `catchUp` and `follow` of `runUpstreamLoop` for a device that holds scopes. */
export interface ScopedUpstream {
  catchUp(): Promise<string | undefined>;
  follow(after: string | undefined): Promise<void>;
}

/**
 * @example
 * const upstream = scopedUpstream({ db, transport, apply, refuse, scopesChanged, ... });
 * await runUpstreamLoop({ catchUp: upstream.catchUp, follow: upstream.follow, ... });
 */
export function scopedUpstream(options: ScopedUpstreamOptions): ScopedUpstream {
  const { db, signal } = options;
  /** The scopes the last catch-up brought to one cursor: the stream follows them. */
  let following: readonly string[] = [];
  /** The v2 stream was not found: the loop polls, so catch-up must back-fill too. */
  let polling = !options.live;
  const pull = (states: readonly ScopeState[], stop: AbortSignal, report: boolean) =>
    pullScopesToEnd(states, {
      transport: options.transport,
      apply: options.apply,
      pullLimit: options.pullLimit,
      ...(options.snapshots === undefined ? {} : { snapshots: options.snapshots }),
      // Catch-up progress is the held scopes'; a back-fill shows in `status.scopes`.
      ...(report ? { onPage: options.onPage } : {}),
      ...(options.log === undefined ? {} : { log: options.log }),
      signal: stop,
    });

  /**
   * Pulls `choose(states)` to the end; a refusal takes the refused scopes off and tries again
   * without them. Returns the scopes pulled and their cursors.
   */
  async function pullRefusing(
    choose: (states: readonly ScopeState[]) => ScopeState[],
    stop: AbortSignal,
    report = false,
  ): Promise<{ keys: string[]; cursors: Record<string, string> }> {
    for (;;) {
      const states = choose(await readScopeStates(db));
      if (states.length === 0) return { keys: [], cursors: {} };
      try {
        const cursors = await pull(states, stop, report);
        return { keys: states.map((state) => state.key), cursors };
      } catch (error) {
        const refused = refusedScopes(error);
        if (refused === undefined) throw error;
        await options.refuse(refused);
      }
    }
  }

  async function catchUp(): Promise<string | undefined> {
    options.beforeCatchUp?.();
    const now = () => options.clock();
    let { keys, cursors } = await pullRefusing(
      (states) => catchUpSet(states, now(), options.refusedRetryMs),
      signal,
      true,
    );
    if (polling) {
      const filled = await pullRefusing(
        (states) => backfillSet(states, new Set(keys), now(), options.refusedRetryMs),
        signal,
      );
      if (filled.keys.length > 0) {
        ({ keys, cursors } = await pullRefusing(
          (states) => catchUpSet(states, now(), options.refusedRetryMs),
          signal,
          true,
        ));
      }
    }
    following = keys;
    await options.afterCatchUp?.();
    return keys.length === 0 ? undefined : cursors[keys[0] as string];
  }

  async function follow(after: string | undefined): Promise<void> {
    const restart = new AbortController();
    const stopRestart = () => restart.abort();
    // Stopped during the catch-up before: nothing may open (a stream would outlive the stop).
    if (signal.aborted) restart.abort();
    signal.addEventListener('abort', stopRestart);
    const sidecar = backfillBeside(new Set(following), restart);
    try {
      if (following.length === 0) {
        // Nothing to follow (every scope refused or back-filling): wait for the sidecar.
        await aborted(restart.signal);
        return;
      }
      await followScopes(following, after, {
        transport: options.transport,
        apply: options.apply,
        batchLimit: options.pullLimit,
        idleTimeoutMs: options.idleTimeoutMs,
        signal: restart.signal,
        ...(options.onOpen === undefined ? {} : { onOpen: options.onOpen }),
        onCaughtUp: options.onCaughtUp,
      });
    } catch (error) {
      const refused = refusedScopes(error);
      if (isStrataError(error, 'NOT_FOUND')) polling = true;
      if (refused === undefined) throw error;
      // The stream refused a scope (its access ended): take it off; the loop catches up again.
      await options.refuse(refused);
    } finally {
      restart.abort();
      signal.removeEventListener('abort', stopRestart);
      await sidecar;
    }
  }

  /**
   * Beside the stream of `streamed`: back-fills scopes that are asked for but not complete
   * (added, or refused and due for another try), then aborts `restart` so the loop catches
   * everything up and reopens the stream with them; a scope removed from the set restarts it
   * at once. Ends when `restart` aborts.
   */
  async function backfillBeside(streamed: ReadonlySet<string>, restart: AbortController) {
    const stop = restart.signal;
    for (let failures = 0; !stop.aborted; ) {
      try {
        const states = await readScopeStates(db);
        const asked = new Set(states.map((state) => state.key));
        if ([...streamed].some((key) => !asked.has(key))) {
          restart.abort();
          return;
        }
        const filled = await pullRefusing(
          (current) => backfillSet(current, streamed, options.clock(), options.refusedRetryMs),
          stop,
        );
        failures = 0;
        if (filled.keys.length > 0) {
          restart.abort();
          return;
        }
        await Promise.race([
          options.scopesChanged.sleep(nextRetryIn(await readScopeStates(db))),
          aborted(stop),
        ]);
      } catch (error) {
        if (stop.aborted) return;
        await options.connection.fail(error);
        await Promise.race([
          options.scopesChanged.sleep(
            retryDelay(error, failures++, options.backoff, options.random),
          ),
          aborted(stop),
        ]);
      }
    }
  }

  /** How long until the first refused scope is due for another try (capped at a minute). */
  function nextRetryIn(states: readonly ScopeState[]): number {
    const now = options.clock().getTime();
    let wait = 60_000;
    for (const state of states) {
      if (state.refusedAt === undefined) continue;
      wait = Math.min(wait, Date.parse(state.refusedAt) + options.refusedRetryMs - now);
    }
    return Math.max(0, wait);
  }

  return { catchUp, follow };
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
