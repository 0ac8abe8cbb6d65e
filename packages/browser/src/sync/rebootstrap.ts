import type { LogAnchor, LogDivergedError, StreamRef } from '@strata/core';
import { streamKey } from '@strata/core';
import { withStorageErrors } from '../database/storage-errors.ts';
import type { RejectedCommandRow, StrataDatabase } from '../database/strata-database.ts';
import { rebuildProjections } from '../runtime/rebuild-projections.ts';
import { ANCHOR_KEY, CURSOR_KEY, LAST_SYNCED_AT_KEY } from './apply-upstream.ts';
import type { ReadLog } from './log-check.ts';
import { rebaseAggregate } from './rebase.ts';
import { allScopesRead, readScopeStates, writeScopeStates } from './scope-set.ts';
import type { SharedConnection } from './shared-connection.ts';
import type { SyncContext } from './sync-context.ts';
import type { Rebootstrap } from './sync-status.ts';

/** The sync state key of the server log's id, as last seen on a pull (`LOG_ID_HEADER`). */
export const LOG_ID_KEY = 'logId';
/** The sync state key of a re-bootstrap in progress: set when it begins, gone when it ends. */
export const REBOOTSTRAP_KEY = 'rebootstrap';

/**
 * Tables a re-bootstrap keeps: what the user did here and has not seen confirmed (pending
 * commands, rejected ones), and the sync state it edits key by key (the scopes asked for stay,
 * read again from the start; which aggregate each holds is learnt again with them).
 */
const KEPT_TABLES = new Set(['commands', 'rejected', 'syncState']);

/** The log this device read from: its id and the last event received, for the next catch-up. */
export async function readLogPosition(
  db: StrataDatabase,
): Promise<{ readonly logId?: string; readonly anchor?: LogAnchor }> {
  const [logId, anchor] = await withStorageErrors(() =>
    db.syncState.bulkGet([LOG_ID_KEY, ANCHOR_KEY]),
  );
  return {
    ...(typeof logId?.value === 'string' ? { logId: logId.value } : {}),
    ...(anchor?.value === undefined ? {} : { anchor: anchor.value as LogAnchor }),
  };
}

/** The re-bootstrap in progress, if any (it survives a reload: the next start finishes it). */
export async function readRebootstrap(db: StrataDatabase): Promise<Rebootstrap | undefined> {
  const row = await withStorageErrors(() => db.syncState.get(REBOOTSTRAP_KEY));
  return row?.value as Rebootstrap | undefined;
}

/**
 * The first half of a re-bootstrap (issue 17), in one transaction: the server's log is not the
 * one this device read (reset, or restored from an older backup), so everything it confirmed
 * from there is dropped (events, snapshots, bases, kept-unreadable events, projection rows, the
 * cursor and the log's id and anchor) and the pending commands are kept, their predicted events
 * with the rest. The next catch-up reads the new log from its start; `finishRebootstrap` then
 * re-runs the pending commands on it. Until then nothing is pushed (see `start-sync.ts`).
 *
 * @example
 * if (isStrataError(error, 'LOG_DIVERGED')) await beginRebootstrap(context, error.message);
 */
export async function beginRebootstrap(context: SyncContext, reason: string): Promise<Rebootstrap> {
  const { db } = context.strata;
  const rebootstrap: Rebootstrap = { reason, since: context.clock().toISOString() };
  await withStorageErrors(() =>
    db.transaction('rw', db.tables, async () => {
      for (const table of db.tables) {
        if (!KEPT_TABLES.has(table.name)) await table.clear();
      }
      await db.syncState.bulkDelete([CURSOR_KEY, LAST_SYNCED_AT_KEY, LOG_ID_KEY, ANCHOR_KEY]);
      // Scoped sync: every scope back-fills from the start (a refused one is asked again).
      const scopes = await readScopeStates(db);
      await writeScopeStates(
        db,
        scopes.map((state) => ({ key: state.key, complete: false })),
      );
      await db.syncState.put({ key: REBOOTSTRAP_KEY, value: rebootstrap });
    }),
  );
  return rebootstrap;
}

/**
 * The second half, after the catch-up from the new log's start, in one transaction: every
 * aggregate with pending commands is rebased on what the server has now (its commands re-run;
 * those that no longer validate move to the rejected list, returned), the projections are
 * rebuilt from the log, and the re-bootstrap ends. Nothing to do (an empty array) when none is
 * in progress.
 */
export async function finishRebootstrap(context: SyncContext): Promise<RejectedCommandRow[]> {
  const { db, tables, projections } = context.strata;
  return withStorageErrors(() =>
    db.transaction('rw', db.tables, async () => {
      if ((await db.syncState.get(REBOOTSTRAP_KEY)) === undefined) return [];
      const commands = await db.commands.orderBy('seq').toArray();
      const streams = new Map<string, StreamRef>();
      for (const command of commands) streams.set(streamKey(command), command);
      const rejected: RejectedCommandRow[] = [];
      for (const stream of streams.values()) {
        const outcome = await rebaseAggregate(context, stream, []);
        rejected.push(...outcome.rejected);
      }
      await rebuildProjections(db, tables, projections);
      await db.syncState.delete(REBOOTSTRAP_KEY);
      return rejected;
    }),
  );
}

/** The sync client's side of re-bootstrapping (see `createRebootstrapping`). */
export interface Rebootstrapping {
  /** The log this device read, for the catch-up (`CatchUpOptions.log`). */
  readonly log: ReadLog;
  /** `LOG_DIVERGED` upstream: drop the confirmed data and share it (`UpstreamLoopOptions.onDiverged`). */
  diverged(error: LogDivergedError): Promise<void>;
  /** After each catch-up: finishes a re-bootstrap in progress (nothing to do otherwise). */
  caughtUp(): Promise<void>;
  /** Whether pushes wait: a re-bootstrap is in progress. */
  holdsPushes(): boolean;
  /** The re-bootstrap a previous session left unfinished, to share when this one starts. */
  current(): Promise<Rebootstrap | undefined>;
}

/**
 * Wires a sync session to `beginRebootstrap` and `finishRebootstrap`: a divergence is shared in
 * the status (`rebootstrap`; the shared connection keeps the catch-up not done meanwhile), the
 * catch-up that follows finishes it, its rejections are reported and the push loop woken. The
 * shared connection's state is this session's knowledge of a re-bootstrap in progress (set at
 * the start from `current()`, by a divergence, by a lost database), so pushes and catch-ups
 * ask it rather than the database.
 */
export function createRebootstrapping(
  context: SyncContext,
  session: {
    readonly connection: Pick<SharedConnection, 'share' | 'current'>;
    readonly received: () => number;
    readonly onRejected: (rows: readonly RejectedCommandRow[]) => void;
    readonly onFinished: () => void;
  },
): Rebootstrapping {
  const { db } = context.strata;
  return {
    log: {
      read: () => readLogPosition(db),
      remember: async (logId) => {
        await withStorageErrors(() => db.syncState.put({ key: LOG_ID_KEY, value: logId }));
      },
    },
    async diverged(error) {
      const rebootstrap = await beginRebootstrap(context, error.message);
      await session.connection.share({ rebootstrap });
    },
    async caughtUp() {
      if (session.connection.current().rebootstrap === undefined) return;
      // Scoped sync: the commands re-run once every scope is back (a back-fill that went on
      // beside the stream ends with another catch-up).
      if (!allScopesRead(await readScopeStates(db))) return;
      session.onRejected(await finishRebootstrap(context));
      await session.connection.share({
        catchUp: { received: session.received(), done: true },
        rebootstrap: undefined,
      });
      session.onFinished();
    },
    holdsPushes: () => session.connection.current().rebootstrap !== undefined,
    current: () => readRebootstrap(db),
  };
}
