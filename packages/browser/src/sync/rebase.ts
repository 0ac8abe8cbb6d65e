import {
  isStrataError,
  loadAggregate,
  prepareCommand,
  type StreamRef,
  UnknownCommandError,
} from '@strata/core';
import type { EventRow, RejectedCommandRow } from '../database/strata-database.ts';
import { streamRange } from '../event-store/dexie-event-store.ts';
import type { SyncContext, UpstreamEvent } from './sync-context.ts';

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
}

/**
 * Rebases one aggregate, inside the caller's read-write transaction over all tables: drops its
 * pending events (and a snapshot that covers them), stores `upstream` (the server's events after
 * the confirmed ones), then re-runs its pending commands in order on the new state. A command
 * in `rejections`, or one that no longer validates, moves to the rejected list with its reason.
 * Projections are left to `reproject`.
 */
export async function rebaseAggregate(
  context: SyncContext,
  stream: StreamRef,
  upstream: readonly UpstreamEvent[],
  rejections: ReadonlyMap<string, Rejection> = new Map(),
): Promise<RebaseOutcome> {
  const { db, store } = context.strata;
  const rows = await db.events
    .where('[aggregateType+aggregateId+version]')
    .between(...streamRange(stream), true, true)
    .toArray();
  const confirmedVersion = rows.reduce((v, row) => (row.pending === 0 ? row.version : v), 0);
  await db.events.bulkDelete(rows.filter((row) => row.pending === 1).map((row) => row.position));
  const snapshot = await db.snapshots.get([stream.aggregateType, stream.aggregateId]);
  if (snapshot !== undefined && snapshot.version > confirmedVersion) {
    await db.snapshots.delete([stream.aggregateType, stream.aggregateId]);
  }
  await db.events.bulkAdd(
    upstream.filter((event) => event.version > confirmedVersion).map(toConfirmedRow) as EventRow[],
  );

  const aggregate = context.aggregates.get(stream.aggregateType);
  const commands = await db.commands
    .where('[aggregateType+aggregateId]')
    .equals([stream.aggregateType, stream.aggregateId])
    .sortBy('seq');
  let { state, version } =
    aggregate === undefined
      ? { state: undefined, version: 0 }
      : await loadAggregate(store as never, aggregate, stream.aggregateId);

  const rejected: RejectedCommandRow[] = [];
  const absorbed: string[] = [];
  let reapplied = 0;
  const recordedAt = context.clock().toISOString();
  for (const { seq, ...command } of commands) {
    let rejection = rejections.get(command.commandId);
    let decision: ReturnType<ReturnType<typeof prepareCommand>['decide']> | undefined;
    if (rejection === undefined) {
      try {
        if (aggregate === undefined) {
          throw new UnknownCommandError(stream.aggregateType, command.command);
        }
        decision = prepareCommand(aggregate, command.command, command.input).decide({
          aggregateId: stream.aggregateId,
          state,
          version,
          // The user's intent dates from when they executed it, not from the rebase.
          now: new Date(command.executedAt),
          metadata: command.metadata as never,
          newId: context.newId,
        });
      } catch (error) {
        rejection = rejectionOf(error);
      }
    }
    if (rejection !== undefined || decision === undefined) {
      const row: RejectedCommandRow = {
        ...command,
        code: rejection?.code ?? 'INTERNAL',
        reason: rejection?.message ?? 'The command could not be re-run',
        rejectedAt: recordedAt,
      };
      await db.rejected.add(row);
      await db.commands.delete(seq as number);
      rejected.push(row);
      continue;
    }
    if (decision.events.length === 0) {
      await db.commands.delete(seq as number);
      absorbed.push(command.commandId);
      continue;
    }
    await db.events.bulkAdd(
      decision.events.map((event) => ({ ...event, recordedAt, pending: 1 })) as EventRow[],
    );
    await db.commands.update(seq as number, { eventIds: decision.events.map((e) => e.id) });
    state = decision.state;
    version += decision.events.length;
    reapplied++;
  }
  return { rejected, absorbed, reapplied };
}

/** An upstream event as a local row: confirmed, with the server's position kept aside. */
export function toConfirmedRow({ position, ...event }: UpstreamEvent): Omit<EventRow, 'position'> {
  return { ...event, pending: 0, serverPosition: position };
}

function rejectionOf(error: unknown): Rejection {
  if (isStrataError(error)) return { code: error.code, message: error.message };
  return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
}
