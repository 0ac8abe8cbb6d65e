import {
  type AnyAggregateDefinition,
  type BackoffOptions,
  COMMAND_PROTOCOL_VERSION,
  type CommandCommit,
  createWakeSignal,
  newKsuid,
  type ScopeRef,
  StorageFailedError,
} from '@strata/core';
import { liveQuery } from 'dexie';
import { bootstrapTypes } from '../bases/server-bases.ts';
import { withStorageErrors } from '../database/storage-errors.ts';
import type { RejectedCommandRow } from '../database/strata-database.ts';
import type { Strata } from '../runtime/create-strata.ts';
import type { LiveSubscribable } from '../runtime/live-state.ts';
import { readCursor } from './apply-upstream.ts';
import { catchUp } from './catch-up.ts';
import { watchDatabaseLoss } from './database-loss.ts';
import { follow } from './follow.ts';
import { createFollowingBatches } from './following-batch.ts';
import { createHoleFiller } from './history-holes.ts';
import { defaultLocks, type LockManagerLike } from './leader-lock.ts';
import { lead } from './leadership.ts';
import { migratePendingCommands } from './migrate-pending-commands.ts';
import { watchNetwork } from './network-events.ts';
import { loadOlderHistory } from './older-history.ts';
import { watchPendingCommands } from './pending-commands.ts';
import { runPushLoop } from './push-loop.ts';
import { applyPushResults, collectCommits } from './push-pending-commands.ts';
import {
  createReachabilityProbe,
  PROBE_INTERVAL_MS,
  probedConnection,
} from './reachability-probe.ts';
import { createRebootstrapping } from './rebootstrap.ts';
import { createActivityRecording, recordLeadership } from './record-sync-activity.ts';
import { createScopeControl, type ScopeControl, watchScopeSet } from './scope-control.ts';
import { allScopesRead, readScopeStates } from './scope-set.ts';
import { scopedUpstream } from './scoped-upstream.ts';
import { createSharedConnection, writeConnection } from './shared-connection.ts';
import { createSyncActivity, type SyncActivityEntry } from './sync-activity.ts';
import { syncContext } from './sync-context.ts';
import { type CatchUpProgress, liveSyncStatus, type SyncStatus } from './sync-status.ts';
import { createSyncTransport, type SyncTransportOptions } from './sync-transport.ts';
import { createSyncedWaiters } from './synced-waiters.ts';
import { createTabStatus } from './tab-status.ts';
import { releaseForSync } from './unreadable-events.ts';
import { prepareScopedStart, sweepUnscoped } from './unscoped-sweep.ts';
import { createUnseenConflicts } from './unseen-conflicts.ts';
import { runUpstreamLoop } from './upstream-loop.ts';
import { createUpstreamWriter } from './upstream-writer.ts';

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
  /**
   * While requests fail, how often the server's `GET /readyz` is asked whether it is back, so
   * sync resumes within about this long of its return instead of after the backoff (up to 30 s).
   * Defaults to 1000 ms (jittered); the server's `Retry-After` is honoured.
   */
  readonly probeIntervalMs?: number;
  /** Most events per push. Defaults to 500 (the server's default limit is 1000). */
  readonly maxEventsPerPush?: number;
  /** Most commits per push. Defaults to 500 (the server takes up to 1000). */
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
  /**
   * Scoped sync: replicate only these scopes' aggregates (`POST /v2/pull`, `GET /v2/subscribe`)
   * instead of the whole tenant. The set is kept in the database: starting with another set
   * drops what the removed scopes alone held. Change it at run time with `sync.setScopes`.
   */
  readonly scopes?: readonly ScopeRef[];
  /**
   * Scoped sync: how long a scope the server refused (403) waits before it is asked for again,
   * so a later grant back-fills it. Defaults to 30 s.
   */
  readonly refusedScopeRetryMs?: number;
}

/** A running sync client. */
export interface SyncClient {
  /** Live sync status: leader, online, connected, pending, last synced, last error, catch-up. */
  readonly status: LiveSubscribable<SyncStatus>;
  /** Commands rejected after a conflict, live, oldest first (in every tab). */
  readonly rejected: LiveSubscribable<RejectedCommandRow[]>;
  /**
   * What this tab's sync client did, live, oldest first: pushes, pulls, live events, connects,
   * disconnects, errors, leadership (in memory, the last 500; empty in tabs that do not sync).
   */
  readonly activity: LiveSubscribable<readonly SyncActivityEntry[]>;
  /** Resolves once nothing is pending and upstream is caught up (in the syncing tab). */
  whenSynced(): Promise<void>;
  /** Skips the current wait (backoff or poll interval) and tries now. */
  syncNow(): void;
  /** Removes a command from the rejected list once the app has shown it. */
  dismissRejected(seq: number): Promise<void>;
  /** Stops syncing and releases leadership; resolves when the loops have ended. */
  stop(): Promise<void>;
  /**
   * Scoped sync: makes `scopes` the device's set. Added scopes back-fill while the others stay
   * live, then join the stream; removed ones are dropped with every aggregate no other held
   * scope holds (events, snapshot, projection rows), their pending commands moved to `rejected`
   * as `FORBIDDEN`. Kept in the database. Throws a `TypeError` when sync started without scopes.
   */
  setScopes(scopes: readonly ScopeRef[]): Promise<void>;
  /**
   * Snapshot bootstrap: stores the history before an aggregate's base (the server snapshot it
   * started from), read from the server, so `strata.history` covers it from version 1. Answers
   * how many events were stored; 0 for an aggregate that did not start from a snapshot.
   */
  loadHistory(aggregate: AnyAggregateDefinition, aggregateId: string): Promise<number>;
  /** Scoped sync: adds one scope (see `setScopes`). */
  addScope(scope: ScopeRef): Promise<void>;
  /** Scoped sync: removes one scope, by ref or key (see `setScopes`). */
  removeScope(scope: ScopeRef | string): Promise<void>;
}

/** Batch sizes `startSync` uses unless told otherwise. */
export const SYNC_DEFAULTS = {
  maxEventsPerPush: 500,
  maxCommitsPerPush: 500,
  pullLimit: 1000,
  refusedScopeRetryMs: 30_000,
} as const;

/**
 * Starts syncing a strata runtime with a strata edge server: pushes pending commands in order,
 * follows the server's events (pull to catch up, then SSE), and rebases on conflicts. One tab
 * per database syncs (Web Locks); the others see everything through the shared database.
 *
 * The parts: `lead` (leadership), `runUpstreamLoop` (`catchUp`, then `follow` or poll),
 * `runPushLoop` (pending commands up, answers stored), `createSharedConnection` (what the
 * syncing tab tells the others), wired here with the options' defaults.
 *
 * @example
 * const strata = await createStrata({ name: 'todos', tables, projections: [todoList] });
 * const sync = startSync(strata, { url: 'https://api.example.com/', aggregates: [Todo], token });
 * sync.status.subscribe((status) => render(status.pending, status.connected));
 */
export function startSync(strata: Strata, options: SyncOptions): SyncClient {
  const { db } = strata;
  const context = syncContext(strata, options.aggregates, () => newKsuid());
  // Kept-unreadable events this version reads are applied before anything syncs (issue 17).
  const released = releaseForSync(context);
  const activity = createSyncActivity({ clock: strata.clock });
  const recording = createActivityRecording(activity);
  const transport = recording.transport(createSyncTransport(options));
  const retry = { backoff: options.backoff, random: options.random ?? Math.random };
  const pullLimit = options.pullLimit ?? SYNC_DEFAULTS.pullLimit;
  const stopping = new AbortController();
  const pushWake = createWakeSignal();
  // Ends the push loop's backoff after a failure: the network came back, or a request reached
  // the server (a catch-up, a rebase). New commands do not: they wait for the backoff.
  const pushRetry = createWakeSignal();
  const upstreamWake = createWakeSignal();
  const tab = createTabStatus();
  recordLeadership(tab, activity);
  const scoped = options.scopes !== undefined;
  // True from a batch collected until the push loop finds nothing to push. Meanwhile commands
  // are pending: `whenSynced` need not count them (a read of the whole table, O(rows) in
  // Chromium) after every answer the loop shares; it is checked once the loop is idle.
  let pushing = false;
  const synced = createSyncedWaiters(
    async () =>
      !pushing &&
      (await db.commands.count()) === 0 &&
      connection.current().catchUp.done &&
      connection.current().rebootstrap === undefined &&
      // Scoped: every scope the server grants was read to the end too.
      (!scoped || allScopesRead(await readScopeStates(db))),
  );
  // Every failure and success of the loops is reported here, so the probe hears of both: while
  // they fail it asks the server about once a second and ends their backoff when it is back.
  const connection = probedConnection(
    recording.connection(
      createSharedConnection({
        write: writeConnection(db),
        clock: strata.clock,
        onShared: synced.check,
      }),
    ),
    createReachabilityProbe({
      probe: (signal) => transport.ready(signal),
      onBack: () => {
        pushRetry.wake();
        upstreamWake.wake();
      },
      intervalMs: options.probeIntervalMs ?? PROBE_INTERVAL_MS,
      random: retry.random,
      online: () => tab.get().online,
      signal: stopping.signal,
    }),
  );
  const reportRejected = (rows: readonly RejectedCommandRow[]) => {
    if (rows.length > 0) options.onRejected?.(rows);
  };
  const { apply, applyScoped, received } = createUpstreamWriter(context, {
    onRejected: reportRejected,
    onUnblocked: () => {
      pushWake.wake();
      pushRetry.wake();
    },
    fillHoles: createHoleFiller(context, transport),
  });
  // The database deleted under the running app (site data cleared): what was read from it is
  // stale, and the pushes this tab holds are all that is left of its pending commands.
  let generation = 0;
  const readingOf =
    (started: number): typeof apply =>
    (events, cursor) => {
      if (started !== generation) {
        return Promise.reject(
          new StorageFailedError('The local database was replaced while this read ran', {
            reason: 'ABORTED',
          }),
        );
      }
      return apply(events, cursor);
    };
  const heldPushes = new Map<string, CommandCommit>();
  const unwatchLoss = watchDatabaseLoss({
    db,
    clientId: strata.clientId,
    clock: strata.clock,
    held: () => [...heldPushes.values()],
    // Before the watch's first read (taken once the set given at start is written), that set.
    askedScopes: () => scopeWatch?.keys() ?? (options.scopes ?? []).map((ref) => ref.key),
    onLost: () => {
      generation++;
      // Not caught up any more: the new database holds nothing yet. In Chromium this write
      // meets the connection being closed by force and fails ("The connection was closed");
      // left unhandled, every clear of site data was an unhandled rejection in the app. The
      // state is kept in memory all the same, and onRecovered writes it into the new database.
      void connection
        .share({ connected: false, catchUp: { received: received(), done: false } })
        .catch(() => undefined);
      liveStream?.abort();
    },
    onRecovered: (rebootstrap) => {
      // The loops are woken even if this write fails: they share their state as they go.
      void connection
        .share({ connected: false, rebootstrap })
        .catch(connection.fail)
        .then(wakeBoth);
    },
    onError: connection.fail,
  });
  // A server whose log is not the one this device read (reset, restored): start over from it.
  const rebootstrapping = createRebootstrapping(context, {
    connection,
    received,
    onRejected: reportRejected,
    onFinished: () => pushWake.wake(),
  });
  const scopesChanged = createWakeSignal();
  const scopeControl: ScopeControl = createScopeControl(context, {
    onRejected: reportRejected,
    onChanged: () => scopesChanged.wake(),
  });
  // The set given at start is the set: scopes kept from a run with other ones are dropped.
  // A database that synced the whole tenant is swept once its scopes were read (unscoped-sweep.ts).
  const scopesReady = scoped
    ? prepareScopedStart(db).then(() => scopeControl.setScopes(options.scopes ?? []))
    : Promise.resolve();
  const scopeWatch = scoped
    ? watchScopeSet(
        context,
        () => {
          scopesChanged.wake();
          synced.check();
        },
        scopesReady,
      )
    : undefined;
  const unseen = createUnseenConflicts(context);
  let liveStream: AbortController | undefined;
  // Pushing waits for the first catch-up (or its failure): commands written offline are then
  // rebased on the server's latest events before they go up, instead of conflicting first.
  let caughtUpOnce: () => void = () => undefined;
  const firstCatchUp = new Promise<void>((resolve) => {
    caughtUpOnce = resolve;
  });
  // Stopped before the first catch-up ran: the push loop must still start (and end at once).
  stopping.signal.addEventListener('abort', () => caughtUpOnce());

  const live = options.live ?? true;
  const idleTimeoutMs = options.idleTimeoutMs ?? 45_000;
  // Each catch-up page: shared, and told as shared (not done while re-bootstrapping).
  const shareProgress = async (progress: CatchUpProgress) => {
    await connection.share({ catchUp: progress, lastError: undefined });
    options.onProgress?.(connection.current().catchUp);
  };
  const onCaughtUp = () => {
    pushRetry.wake();
    return connection.share({
      connected: true,
      catchUp: { received: received(), done: true },
      lastError: undefined,
    });
  };
  const scopedSteps = scopedUpstream({
    db,
    log: rebootstrapping.log,
    transport,
    apply: applyScoped,
    refuse: scopeControl.refuse,
    scopesChanged,
    pullLimit,
    snapshots: bootstrapTypes(context.aggregates.values(), strata.projections),
    idleTimeoutMs,
    refusedRetryMs: options.refusedScopeRetryMs ?? SYNC_DEFAULTS.refusedScopeRetryMs,
    live,
    clock: strata.clock,
    connection,
    ...retry,
    onPage: (page) => shareProgress({ received: received(), done: page.done }),
    onOpen: (stream) => {
      liveStream = stream;
      // A conflict came in during the catch-up before this stream: catch up once more.
      if (unseen.wantsCatchUp()) stream.abort();
    },
    onCaughtUp,
    beforeCatchUp: unseen.catchUpStarted,
    afterCatchUp: async () => {
      await rebootstrapping.caughtUp();
      reportRejected(await sweepUnscoped(context));
      const rejected = await unseen.settle();
      reportRejected(rejected);
      if (rejected.length > 0) pushWake.wake();
    },
    signal: stopping.signal,
  });
  const upstreamLoop = () =>
    runUpstreamLoop({
      ...(scoped
        ? { catchUp: scopedSteps.catchUp, follow: scopedSteps.follow }
        : { catchUp: v1CatchUp, follow: v1Follow }),
      onDiverged: rebootstrapping.diverged,
      live,
      pollIntervalMs: options.pollIntervalMs ?? 5000,
      wake: upstreamWake,
      connection,
      onCatchUpEnded: caughtUpOnce,
      ...retry,
      signal: stopping.signal,
    });
  const v1CatchUp = async () => {
    const cursor = await catchUp({
      transport,
      readCursor: () => readCursor(db),
      apply: readingOf(generation),
      received,
      pullLimit,
      // The first catch-up also counts what remains, so progress can show a total; a
      // reconnect after that only fetches what it missed.
      countRemaining: () => !connection.current().catchUp.done,
      onPage: shareProgress,
      log: rebootstrapping.log,
      signal: stopping.signal,
    });
    await rebootstrapping.caughtUp();
    return cursor;
  };
  const v1Follow = (after: string | undefined) =>
    follow(after, {
      transport,
      apply: readingOf(generation),
      batchLimit: pullLimit,
      idleTimeoutMs,
      signal: stopping.signal,
      onOpen: (stream) => {
        liveStream = stream;
      },
      onCaughtUp,
    });
  const pushLoop = async () => {
    const following = createFollowingBatches(context);
    try {
      await runPushLoop({
        collect: async (maxEvents, maxCommits) => {
          // Re-bootstrapping: the commands wait to be re-run on the server's log.
          if (rebootstrapping.holdsPushes()) return [];
          const commits = await collectCommits(context, maxEvents, maxCommits);
          pushing = commits.length > 0;
          return commits;
        },
        collectFollowing: (commits, response, maxEvents, maxCommits) =>
          following.following(commits, response, maxEvents, maxCommits),
        prepareFollowing: (inFlight, maxEvents, maxCommits) =>
          following.prepare(inFlight, maxEvents, maxCommits),
        push: (commits) => {
          for (const commit of commits) heldPushes.set(commit.commitId, commit);
          return transport.push(
            { protocol: COMMAND_PROTOCOL_VERSION, clientId: strata.clientId, commits },
            stopping.signal,
          );
        },
        applyResults: async (commits, response) => {
          const outcome = await applyPushResults(context, commits, response, { scoped });
          for (const commit of commits) heldPushes.delete(commit.commitId);
          // A conflict on an aggregate no held scope placed: a catch-up tells whether upstream
          // will ever bring its events (unseen-conflicts.ts); the live stream alone cannot.
          if (scoped && (await unseen.note(outcome.conflicts))) {
            liveStream?.abort();
            upstreamWake.wake();
          }
          return outcome;
        },
        maxEventsPerPush: options.maxEventsPerPush ?? SYNC_DEFAULTS.maxEventsPerPush,
        maxCommitsPerPush: options.maxCommitsPerPush ?? SYNC_DEFAULTS.maxCommitsPerPush,
        wake: pushWake,
        retryWake: pushRetry,
        pullNow: () => upstreamWake.wake(),
        onRejected: reportRejected,
        onIdle: synced.check,
        connection,
        ...retry,
        signal: stopping.signal,
      });
    } finally {
      following.close();
    }
  };

  const wakeBoth = () => {
    pushWake.wake();
    pushRetry.wake();
    upstreamWake.wake();
  };
  const unwatchPending = watchPendingCommands(db, () => pushWake.wake());
  const unwatchNetwork = watchNetwork({
    onOnline: () => {
      tab.set({ online: true });
      wakeBoth();
    },
    onOffline: () => {
      tab.set({ online: false });
      // The browser knows the network is gone; a stream still open would only look connected.
      liveStream?.abort();
    },
  });
  const running = lead({
    locks: options.locks === undefined ? defaultLocks() : options.locks,
    name: `strata-sync:${db.name}`,
    signal: stopping.signal,
    tab,
    session: async () => {
      // First, before any wait: the state the last session left (a reload, a closed syncing
      // tab) said connected, which this new one is not yet.
      await connection.share({ connected: false, catchUp: { received: received(), done: false } });
      await Promise.all([scopesReady, released]);
      await connection.share({ rebootstrap: await rebootstrapping.current() });

      // Pending commands of an older app version: upgraded to this one's command inputs, or
      // rejected visibly, before any is pushed (issue 17; push and rebase upgrade rows too).
      await migratePendingCommands(context).then(
        ({ rejected }) => reportRejected(rejected),
        (error: unknown) => connection.fail(error),
      );
      await Promise.all([upstreamLoop(), firstCatchUp.then(pushLoop)]);
    },
    onError: connection.fail,
  });

  const ready = async () => {
    if (!scoped) {
      throw new TypeError('This sync client syncs the whole tenant: start it with `scopes`');
    }
    await scopesReady;
    return scopeControl;
  };

  return {
    status: liveSyncStatus(db, tab.get, tab.subscribe, { scoped }),
    activity: activity.live,
    rejected: {
      subscribe: (observer) =>
        liveQuery(() => db.rejected.orderBy('seq').toArray()).subscribe(observer as never),
    },
    whenSynced: synced.wait,
    syncNow: wakeBoth,
    dismissRejected: (seq) => withStorageErrors(() => db.rejected.delete(seq)),
    async stop() {
      stopping.abort();
      wakeBoth();
      unwatchPending();
      unwatchNetwork();
      unwatchLoss();
      scopeWatch?.stop();
      await running;
      await scopesReady.catch(() => undefined);
    },
    // After the set given at start is written: else that write would undo an earlier change.
    loadHistory: (aggregate, aggregateId) =>
      loadOlderHistory(db, transport, { aggregateType: aggregate.type, aggregateId }),
    setScopes: async (scopes) => (await ready()).setScopes(scopes),
    addScope: async (scope) => (await ready()).addScope(scope),
    removeScope: async (scope) => (await ready()).removeScope(scope),
  };
}
