import {
  isStrataError,
  loadAggregate,
  prepareCommand,
  type StreamRef,
  streamKey,
  UnknownCommandError,
} from '@strata/core';
import type {
  EventRow,
  PendingCommandRow,
  RejectedCommandRow,
} from '../database/strata-database.ts';
import { streamRange } from '../event-store/dexie-event-store.ts';
import { AggregateHeldError, holdOf } from '../unreadable/held-aggregates.ts';
import { pendingIdsAmong } from './pending-commands.ts';
import type { SyncContext, UpstreamEvent } from './sync-context.ts';
import { keepUnreadable } from './unreadable-events.ts';

/** Why the server (or a rebase) refused a command. */
export interface Rejection {
  readonly code: string;
  readonly message: string;
}

/** What a rebase did to one aggregate's pending commands. */
export interface RebaseOutcome {
  /** Commands that no longer validate, moved to the rejected list. */
  readonly rejected: readonly RejectedCommandRow[];
  /** Commands that decided nothing on the new state (someone did the same): nothing to push. */
  readonly absorbed: readonly string[];
  /** Commands re-run with new events on top of the new state. */
  readonly reapplied: number;
  /** Upstream events not stored because they do not follow the confirmed version (`contiguousOnly`). */
  readonly leftOut: number;
}

/** Options of `rebaseAggregate`. */
export interface RebaseOptions {
  /** Commands the server refused, by command id: they move to the rejected list with the reason. */
  readonly rejections?: ReadonlyMap<string, Rejection>;
  /**
   * Store only the upstream events that continue the confirmed version without a gap, on this
   * aggregate (a push answer may carry events after others this device has not pulled yet);
   * the rest are counted in `leftOut`, for upstream to bring in order.
   */
  readonly contiguousOnly?: boolean;
  /**
   * Ids of predictions whose command the server stored with events of its own (the command row
   * is gone, its events were not kept): dropped with the pending events.
   */
  readonly superseded?: ReadonlySet<string>;
}

/**
 * Rebases one aggregate, inside the caller's read-write transaction over all tables: drops its
 * pending events (and a snapshot that covers them), stores `upstream` (the server's events after
 * the confirmed ones), then re-runs its pending commands in order on the new state, as the
 * runtime's principal. A command in `rejections`, or one that no longer validates (or that its
 * `allow` rule now refuses), moves to the rejected list with its reason. Projections are left
 * to `reproject`.
 */
export async function rebaseAggregate(
  context: SyncContext,
  stream: StreamRef,
  upstream: readonly UpstreamEvent[],
  { rejections = new Map(), contiguousOnly = false, superseded = new Set() }: RebaseOptions = {},
): Promise<RebaseOutcome> {
  const { db, store } = context.strata;
  const rows = await db.events
    .where('[aggregateType+aggregateId+version]')
    .between(...streamRange(stream), true, true)
    .toArray();
  const pendingIds = await pendingIdsAmong(db, rows);
  const dropped = (row: EventRow) => pendingIds.has(row.id) || superseded.has(row.id);
  const confirmedVersion = rows.reduce((v, row) => (dropped(row) ? v : row.version), 0);
  await db.events.bulkDelete(rows.filter(dropped).map((row) => row.position));
  const snapshot = await db.snapshots.get([stream.aggregateType, stream.aggregateId]);
  if (snapshot !== undefined && snapshot.version > confirmedVersion) {
    await db.snapshots.delete([stream.aggregateType, stream.aggregateId]);
  }
  const after = upstream.filter((event) => event.version > confirmedVersion);
  const gapAt = contiguousOnly
    ? after.findIndex(
        (event, index) =>
          event.version !== confirmedVersion + 1 + index || streamKey(event) !== streamKey(stream),
      )
    : -1;
  const adopted = gapAt === -1 ? after : after.slice(0, gapAt);
  await db.events.bulkAdd(adopted.map(toConfirmedRow) as EventRow[]);
  // An event this app version cannot read holds the aggregate (held-aggregates.ts): there is no
  // state to re-run its pending commands on, so they are rejected, visibly, with the hold.
  await keepUnreadable(context, adopted);
  const hold = await holdOf(db, stream);

  const aggregate = context.aggregates.get(stream.aggregateType);
  const commands = await db.commands
    .where('[aggregateType+aggregateId]')
    .equals([stream.aggregateType, stream.aggregateId])
    .sortBy('seq');
  let { state, version } =
    aggregate === undefined || hold !== undefined
      ? { state: undefined, version: 0 }
      : await loadAggregate(store as never, aggregate, stream.aggregateId);

  const rejected: RejectedCommandRow[] = [];
  const absorbed: string[] = [];
  const gone: number[] = [];
  const reran: { key: number; changes: Partial<PendingCommandRow> }[] = [];
  const predicted: EventRow[] = [];
  const recordedAt = context.clock().toISOString();
  for (const { seq, ...command } of commands) {
    let rejection =
      rejections.get(command.commandId) ??
      (hold === undefined ? undefined : rejectionOf(new AggregateHeldError(hold)));
    let decision: ReturnType<ReturnType<typeof prepareCommand>['decide']> | undefined;
    if (rejection === undefined) {
      try {
        if (aggregate === undefined) {
          throw new UnknownCommandError(stream.aggregateType, command.command);
        }
        // A row of an older app is upgraded on the way (issue 17; absent version: 1).
        decision = prepareCommand(aggregate, command.command, command.input, {
          inputVersion: command.inputVersion ?? 1,
        }).decide({
          aggregateId: stream.aggregateId,
          state,
          version,
          // The user's intent dates from when they executed it, not from the rebase.
          now: new Date(command.executedAt),
          metadata: command.metadata as never,
          newId: context.newId,
          // Its `allow` rule is checked again: the new state may refuse what the old allowed.
          principal: context.strata.principal,
        });
      } catch (error) {
        rejection = rejectionOf(error);
      }
    }
    if (rejection !== undefined || decision === undefined) {
      rejected.push({
        ...command,
        code: rejection?.code ?? 'INTERNAL',
        reason: rejection?.message ?? 'The command could not be re-run',
        rejectedAt: recordedAt,
      });
      gone.push(seq as number);
      continue;
    }
    if (decision.events.length === 0) {
      gone.push(seq as number);
      absorbed.push(command.commandId);
      continue;
    }
    predicted.push(
      ...(decision.events.map((event) => ({ ...event, recordedAt, pending: 1 })) as EventRow[]),
    );
    reran.push({ key: seq as number, changes: { eventIds: decision.events.map((e) => e.id) } });
    state = decision.state;
    version += decision.events.length;
  }
  await db.rejected.bulkAdd(rejected);
  await db.commands.bulkDelete(gone);
  await db.events.bulkAdd(predicted);
  await db.commands.bulkUpdate(reran);
  return { rejected, absorbed, reapplied: reran.length, leftOut: after.length - adopted.length };
}

/** An upstream event as a local row: confirmed, with the server's position kept aside. */
export function toConfirmedRow({ position, ...event }: UpstreamEvent): Omit<EventRow, 'position'> {
  return { ...event, pending: 0, serverPosition: position };
}

function rejectionOf(error: unknown): Rejection {
  if (isStrataError(error)) return { code: error.code, message: error.message };
  return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
}
