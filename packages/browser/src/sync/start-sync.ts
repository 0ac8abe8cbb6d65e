import {
  type AnyAggregateDefinition,
  type BackoffOptions,
  backoffDelay,
  type Commit,
  createWakeSignal,
  isStrataError,
  newKsuid,
  type PushResponse,
  type StrataError,
} from '@strata/core';
import { liveQuery } from 'dexie';
import { withStorageErrors } from '../database/storage-errors.ts';
import type { RejectedCommandRow } from '../database/strata-database.ts';
import type { Strata } from '../runtime/create-strata.ts';
import type { LiveSubscribable } from '../runtime/live-state.ts';
import { applyUpstream, CURSOR_KEY, type UpstreamResult } from './apply-upstream.ts';

import { defaultLocks, type LockManagerLike, whileLeader } from './leader-lock.ts';
import { applyPushResults, collectCommits } from './push-pending-commands.ts';
import { retryDelay } from './retry-delay.ts';
import type { SyncContext, UpstreamEvent } from './sync-context.ts';
import {
  type CatchUpProgress,
  CONNECTION_KEY,
  type ConnectionState,
  INITIAL_CONNECTION,
  liveSyncStatus,
  type SyncError,
  type SyncStatus,
} from './sync-status.ts';
import { createSyncTransport, type SyncTransportOptions } from './sync-transport.ts';

/** Options of `startSync`; defaults are applied here, once. */
export interface SyncOptions extends SyncTransportOptions {
  /** The aggregates whose commands may be pending: a rebase re-runs them. */
  readonly aggregates: readonly AnyAggregateDefinition[];
  /** Called (in the syncing tab) after each page of a catch-up. */
  readonly onProgress?: (progress: CatchUpProgress) => void;
  /** Called (in the syncing tab) with commands that were rejected after a conflict. */
  readonly onRejected?: (commands: readonly RejectedCommandRow[]) => void;
  /** Backoff between failed attempts; retries never stop. Defaults to 250 ms doubling to 30 s. */
  readonly backoff?: BackoffOptions;
  /** Most events per push. Defaults to 500 (the server's default limit is 1000). */
  readonly maxEventsPerPush?: number;
  /** Most commits per push. Defaults to 200. */
  readonly maxCommitsPerPush?: number;
  /** Events per pull page while catching up. Defaults to 1000 (the protocol's maximum). */
  readonly pullLimit?: number;
  /** Follow the server live over SSE after catching up. Defaults to true; false polls. */
  readonly live?: boolean;
  /** Poll interval when not live (or when the server has no subscriptions). Defaults to 5 s. */
  readonly pollIntervalMs?: number;
  /**
   * Reconnect when a live subscription was silent this long. The server sends heartbeats
   * (every 15 s by default), so silence means a dead connection. Defaults to 45 s.
   */
  readonly idleTimeoutMs?: number;
  /** The Web Locks API; `null` makes this instance sync without one. Defaults to `navigator.locks`. */
  readonly locks?: LockManagerLike | null;
  /** Randomness for backoff jitter (tests pass a seeded one). */
  readonly random?: () => number;
}

/** A running sync client. */
export interface SyncClient {
  /** Live sync status: leader, online, connected, pending, last synced, last error, catch-up. */
  readonly status: LiveSubscribable<SyncStatus>;
  /** Commands rejected after a conflict, live, oldest first (in every tab). */
  readonly rejected: LiveSubscribable<RejectedCommandRow[]>;
  /** Resolves once nothing is pending and upstream is caught up (in the syncing tab). */
  whenSynced(): Promise<void>;
  /** Skips the current wait (backoff or poll interval) and tries now. */
  syncNow(): void;
  /** Removes a command from the rejected list once the app has shown it. */
  dismissRejected(seq: number): Promise<void>;
  /** Stops syncing and releases leadership; resolves when the loops have ended. */
  stop(): Promise<void>;
}

/** Batch sizes `startSync` uses unless told otherwise. */
export const SYNC_DEFAULTS = {
  maxEventsPerPush: 500,
  maxCommitsPerPush: 200,
  pullLimit: 1000,
} as const;

/**
 * Starts syncing a strata runtime with a strata edge server: pushes pending commands in order,
 * follows the server's events (pull to catch up, then SSE), and rebases on conflicts. One tab
 * per database syncs (Web Locks); the others see everything through the shared database.
 *
 * @example
 * const strata = await createStrata({ name: 'todos', tables, projections: [todoList] });
 * const sync = startSync(strata, { url: 'https://api.example.com/', aggregates: [Todo], token });
 * sync.status.subscribe((status) => render(status.pending, status.connected));
 */
export function startSync(strata: Strata, options: SyncOptions): SyncClient {
  const { db } = strata;
  const context: SyncContext = {
    strata,
    aggregates: new Map(options.aggregates.map((aggregate) => [aggregate.type, aggregate])),
    clock: strata.clock,
    newId: () => newKsuid(),
  };
  const transport = createSyncTransport(options);
  const random = options.random ?? Math.random;
  const maxEventsPerPush = options.maxEventsPerPush ?? SYNC_DEFAULTS.maxEventsPerPush;
  const maxCommitsPerPush = options.maxCommitsPerPush ?? SYNC_DEFAULTS.maxCommitsPerPush;
  const pullLimit = options.pullLimit ?? SYNC_DEFAULTS.pullLimit;
  const pollIntervalMs = options.pollIntervalMs ?? 5000;
  const idleTimeoutMs = options.idleTimeoutMs ?? 45_000;
  let live = options.live ?? true;

  const stopping = new AbortController();
  const pushWake = createWakeSignal();
  const upstreamWake = createWakeSignal();
  const localListeners = new Set<() => void>();
  const local = { leader: false, online: isOnline() };
  const setLocal = (change: Partial<typeof local>) => {
    Object.assign(local, change);
    for (const listener of localListeners) listener();
  };
  let connection: ConnectionState = INITIAL_CONNECTION;
  let received = 0;
  let idleWaiters: (() => void)[] = [];
  let liveConnection: AbortController | undefined;
  // Pushing waits for the first catch-up (or its failure): commands written offline are then
  // rebased on the server's latest events before they go up, instead of conflicting first.
  let caughtUpOnce: () => void = () => undefined;
  const firstCatchUp = new Promise<void>((resolve) => {
    caughtUpOnce = resolve;
  });

  /** Updates what this tab shares about its connection; `lastError: undefined` clears it. */
  async function share(
    change: Partial<Omit<ConnectionState, 'lastError'>> & { lastError?: SyncError | undefined },
  ) {
    const { lastError, ...rest } = { ...connection, ...change };
    const next: ConnectionState = lastError === undefined ? rest : { ...rest, lastError };
    // Written only when it changed: every write is a transaction other tabs' live queries see.
    if (JSON.stringify(next) !== JSON.stringify(connection)) {
      connection = next;
      await withStorageErrors(() => db.syncState.put({ key: CONNECTION_KEY, value: connection }));
    }
    checkSynced();
  }

  async function fail(error: unknown) {
    const known: StrataError | undefined = isStrataError(error) ? error : undefined;
    const lastError = {
      code: known?.code ?? 'INTERNAL',
      message: error instanceof Error ? error.message : String(error),
      at: strata.clock().toISOString(),
    };
    await share({ lastError }).catch(() => undefined);
  }

  const reportRejected = (rows: readonly RejectedCommandRow[]) => {
    if (rows.length > 0) options.onRejected?.(rows);
  };

  async function applyBatch(events: readonly UpstreamEvent[], cursor: string) {
    const result: UpstreamResult = await applyUpstream(context, events, cursor);
    received += events.length;
    reportRejected(result.rejected);
    // Our events coming back, or a rebase, may unblock the pending commands.
    if (result.confirmed > 0 || result.rebased.length > 0) pushWake.wake();
  }

  async function readCursor(): Promise<string | undefined> {
    const row = await withStorageErrors(() => db.syncState.get(CURSOR_KEY));
    return row?.value as string | undefined;
  }

  /** Pulls until the server has nothing more; returns the cursor reached. */
  async function catchUp(): Promise<string | undefined> {
    let cursor = await readCursor();
    let total: number | undefined;
    for (let first = true; ; first = false) {
      // The first page of the first catch-up also asks how many remain (a count query), so
      // progress can show a total; a reconnect after that only fetches what it missed.
      const page = await transport.pull(cursor, pullLimit, {
        count: first && !connection.catchUp.done,
        signal: stopping.signal,
      });
      if (page.events.length > 0 || page.cursor !== cursor) {
        await applyBatch(page.events, page.cursor);
      }
      cursor = page.cursor;
      if (page.remaining !== undefined) total = received + page.remaining;
      const progress = { received, done: !page.hasMore, ...(total === undefined ? {} : { total }) };
      await share({ catchUp: progress, lastError: undefined });
      options.onProgress?.(progress);
      if (!page.hasMore) return cursor;
    }
  }

  /** Follows `/v1/subscribe` until the stream ends, goes silent, or applying a batch fails. */
  async function follow(after: string | undefined) {
    const connectionAborted = new AbortController();
    liveConnection = connectionAborted;
    const abort = () => connectionAborted.abort();
    stopping.signal.addEventListener('abort', abort);
    let idleTimer = setTimeout(abort, idleTimeoutMs);
    // Messages queue while a batch is written: one transaction per batch, not per event.
    const queue: { event: UpstreamEvent; cursor: string }[] = [];
    let writing: Promise<void> | undefined;
    let failure: unknown;
    const write = () => {
      writing ??= (async () => {
        try {
          while (queue.length > 0) {
            const batch = queue.splice(0, pullLimit);
            await applyBatch(
              batch.map((entry) => entry.event),
              batch[batch.length - 1]?.cursor as string,
            );
          }
        } catch (error) {
          failure = error;
          abort();
        } finally {
          writing = undefined;
        }
      })();
    };
    try {
      for await (const message of transport.subscribe(after, connectionAborted.signal)) {
        clearTimeout(idleTimer);
        idleTimer = setTimeout(abort, idleTimeoutMs);
        if (message.kind === 'event') {
          queue.push({ event: message.event, cursor: message.cursor });
          write();
        } else if (message.kind === 'caught-up') {
          await share({ connected: true, catchUp: { received, done: true }, lastError: undefined });
        }
      }
    } catch (error) {
      if (!connectionAborted.signal.aborted) throw error;
    } finally {
      clearTimeout(idleTimer);
      stopping.signal.removeEventListener('abort', abort);
      await writing;
    }
    if (failure !== undefined) throw failure;
  }

  async function upstreamLoop() {
    for (let failures = 0; !stopping.signal.aborted; ) {
      try {
        const cursor = await catchUp();
        caughtUpOnce();
        failures = 0;
        if (live) {
          await follow(cursor);
          await share({ connected: false });
        } else {
          await upstreamWake.sleep(pollIntervalMs);
        }
      } catch (error) {
        if (stopping.signal.aborted) return;
        // A server without subscriptions: poll instead.
        if (isStrataError(error, 'NOT_FOUND')) live = false;
        caughtUpOnce();
        await share({ connected: false }).catch(() => undefined);
        await fail(error);
        await upstreamWake.sleep(retryDelay(error, failures++, options.backoff, random));
      }
    }
  }

  async function push(commits: Commit[]): Promise<PushResponse> {
    return transport.push({ clientId: strata.clientId, commits }, stopping.signal);
  }

  async function pushLoop() {
    await firstCatchUp;
    let batchLimit = maxCommitsPerPush;
    for (let failures = 0; !stopping.signal.aborted; ) {
      try {
        const commits = await collectCommits(context, maxEventsPerPush, batchLimit);
        if (commits.length === 0) {
          checkSynced();
          await pushWake.sleep(60_000);
          continue;
        }
        let response: PushResponse;
        try {
          response = await push(commits);
        } catch (error) {
          const refused =
            isStrataError(error, 'PAYLOAD_TOO_LARGE') || isStrataError(error, 'VALIDATION_FAILED');
          if (!refused) throw error;
          if (commits.length > 1) {
            // Find the commit the server cannot take by halving the batch.
            batchLimit = Math.max(1, Math.floor(commits.length / 2));
            continue;
          }
          response = { results: [refusal(commits[0] as Commit, error)] };
        }
        batchLimit = maxCommitsPerPush;
        const outcome = await applyPushResults(context, commits, response);
        reportRejected(outcome.rejected);
        await share({ lastError: undefined });
        if (outcome.conflicts.length > 0 || outcome.retryLater > 0) {
          // The server is ahead: its events arrive upstream and rebase the pending commands,
          // which wakes this loop; polling clients pull now.
          upstreamWake.wake();
          await pushWake.sleep(backoffDelay(failures++, options.backoff, random));
        } else {
          failures = 0;
        }
      } catch (error) {
        if (stopping.signal.aborted) return;
        await fail(error);
        await pushWake.sleep(retryDelay(error, failures++, options.backoff, random));
      }
    }
  }

  function checkSynced() {
    if (idleWaiters.length === 0) return;
    void db.commands.count().then((pending) => {
      if (pending > 0 || !connection.catchUp.done) return;
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const resolve of waiters) resolve();
    });
  }

  // New commands (from any tab: Dexie broadcasts changes) wake the push loop.
  const pendingWatch = liveQuery(() => db.commands.orderBy('seq').lastKey()).subscribe({
    next: () => pushWake.wake(),
    error: () => undefined,
  });
  const onOnline = () => {
    setLocal({ online: true });
    pushWake.wake();
    upstreamWake.wake();
  };
  const onOffline = () => {
    setLocal({ online: false });
    // The browser knows the network is gone; a stream still open would only look connected.
    liveConnection?.abort();
  };
  const events = globalThis as unknown as Partial<Pick<Window, 'addEventListener'>> &
    Partial<Pick<Window, 'removeEventListener'>>;
  events.addEventListener?.('online', onOnline);
  events.addEventListener?.('offline', onOffline);

  const locks = options.locks === undefined ? defaultLocks() : options.locks;
  const running = whileLeader(locks, `strata-sync:${db.name}`, stopping.signal, async () => {
    setLocal({ leader: true });
    try {
      await share({ connected: false, catchUp: { received, done: false } });
      await Promise.all([upstreamLoop(), pushLoop()]);
    } finally {
      setLocal({ leader: false });
    }
  }).catch((error: unknown) => fail(error));

  return {
    status: liveSyncStatus(
      db,
      () => ({ ...local }),
      (listener) => {
        localListeners.add(listener);
        return () => localListeners.delete(listener);
      },
    ),
    rejected: {
      subscribe: (observer) =>
        liveQuery(() => db.rejected.orderBy('seq').toArray()).subscribe(observer as never),
    },
    whenSynced() {
      return new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        checkSynced();
      });
    },
    syncNow() {
      pushWake.wake();
      upstreamWake.wake();
    },
    dismissRejected: (seq) => withStorageErrors(() => db.rejected.delete(seq)),
    async stop() {
      stopping.abort();
      pushWake.wake();
      upstreamWake.wake();
      pendingWatch.unsubscribe();
      events.removeEventListener?.('online', onOnline);
      events.removeEventListener?.('offline', onOffline);
      await running;
    },
  };
}

/** The server refused a whole one-commit push: that commit can never be accepted. */
function refusal(commit: Commit, error: StrataError): PushResponse['results'][number] {
  return {
    commitId: commit.commitId,
    status: 'rejected',
    code: error.code,
    message: error.message,
    currentVersion: 0,
  };
}

function isOnline(): boolean {
  const navigatorLike = (globalThis as { navigator?: { onLine?: boolean } }).navigator;
  return navigatorLike?.onLine ?? true;
}
