import { isStrataError, type StreamRef, streamKey, upgradeCommandInput } from '@strata/core';
import { withStorageErrors } from '../database/storage-errors.ts';
import type { PendingCommandRow, RejectedCommandRow } from '../database/strata-database.ts';
import type { StrataTransaction } from '../event-store/strata-transaction.ts';
import { type Rejection, rebaseAggregate } from './rebase.ts';
import { reproject } from './reproject.ts';
import type { SyncContext } from './sync-context.ts';

/**
 * The sync state key of the commands (and their input versions) the outbox was last migrated
 * to: rows this app version writes are current, so only an app update that changed them can
 * leave rows behind, and a start with the same ones skips the scan of the outbox.
 */
export const MIGRATED_COMMANDS_KEY = 'migratedCommands';

/** What `migratePendingCommands` did. */
export interface PendingMigration {
  /** Commands whose input was upgraded to their command's current input version. */
  readonly upgraded: number;
  /** Commands that could not be, moved to the rejected list. */
  readonly rejected: readonly RejectedCommandRow[];
}

/**
 * Brings the pending commands in line with this app's commands after an update (issue 17), in one
 * transaction, once: a command whose input is of an older version (`inputVersion`, absent: 1) is
 * upgraded by its command's declared upgraders (`defineCommandInput`) and written back at the
 * current version; one that cannot be (its command was removed, no upgrader reaches it, an
 * upgrader throws, the result is invalid) moves to the rejected list with the typed code and
 * reason (`UNKNOWN_COMMAND`, `VALIDATION_FAILED`), and its aggregate is rebased without it, as a
 * rebase rejects a command: its predicted events go, the commands after it re-run on the state
 * without them, projections follow. Rows of aggregates this app does not declare, and rows of a
 * newer input version than it knows (written by a newer app: the server may know it), are left.
 * Running it again changes nothing, and with the same commands as last time it reads one key,
 * not the outbox (a start with thousands of pending commands read them all in a transaction
 * over every table, before any push).
 *
 * @example
 * const { upgraded, rejected } = await migratePendingCommands(syncContext(strata, [Todo], newKsuid));
 */
export async function migratePendingCommands(context: SyncContext): Promise<PendingMigration> {
  const { db } = context.strata;
  const commands = commandVersions(context);
  const last = await withStorageErrors(() => db.syncState.get(MIGRATED_COMMANDS_KEY));
  if (last?.value === commands) return { upgraded: 0, rejected: [] };
  return withStorageErrors(() =>
    db.transaction('rw', db.tables, async (dexie) => {
      await db.syncState.put({ key: MIGRATED_COMMANDS_KEY, value: commands });
      const rows = await db.commands.orderBy('seq').toArray();
      const updates: { key: number; changes: Partial<PendingCommandRow> }[] = [];
      const refused = new Map<string, { stream: StreamRef; rejections: Map<string, Rejection> }>();
      for (const row of rows) {
        const outcome = migrated(context, row);
        if (outcome === undefined) continue;
        if ('rejection' in outcome) {
          const stream = { aggregateType: row.aggregateType, aggregateId: row.aggregateId };
          const entry = refused.get(streamKey(stream)) ?? { stream, rejections: new Map() };
          entry.rejections.set(row.commandId, outcome.rejection);
          refused.set(streamKey(stream), entry);
        } else {
          updates.push({ key: row.seq as number, changes: outcome.changes });
        }
      }
      if (updates.length === 0 && refused.size === 0) return { upgraded: 0, rejected: [] };
      // First the upgrades: the rebases below re-run the aggregate's other commands from them.
      await db.commands.bulkUpdate(updates);
      const rejected: RejectedCommandRow[] = [];
      for (const { stream, rejections } of refused.values()) {
        const outcome = await rebaseAggregate(context, stream, [], { rejections });
        rejected.push(...outcome.rejected);
      }
      const transaction: StrataTransaction = { dexie, table: (name) => db.table(name) };
      await reproject(
        context,
        [...refused.values()].map(({ stream }) => stream),
        transaction,
      );
      return { upgraded: updates.length, rejected };
    }),
  );
}

/** The sync's commands and their input versions, as one comparable string (sorted). */
function commandVersions(context: SyncContext): string {
  const names: string[] = [];
  for (const aggregate of context.aggregates.values()) {
    for (const name of Object.keys(aggregate.commands)) {
      const version = aggregate.commands[name]?.versions?.inputVersion ?? 1;
      names.push(`${aggregate.type}.${name}@${version}`);
    }
  }
  return names.sort().join(' ');
}

/** What becomes of one row: nothing (undefined), its upgraded input, or its rejection. */
function migrated(
  context: SyncContext,
  row: PendingCommandRow,
):
  | { readonly changes: Partial<PendingCommandRow> }
  | { readonly rejection: Rejection }
  | undefined {
  const aggregate = context.aggregates.get(row.aggregateType);
  if (aggregate === undefined) return undefined;
  const from = row.inputVersion ?? 1;
  const command = Object.hasOwn(aggregate.commands, row.command)
    ? aggregate.commands[row.command]
    : undefined;
  const current = command?.versions?.inputVersion ?? 1;
  if (command !== undefined && from >= current) return undefined;
  try {
    const input = upgradeCommandInput(aggregate, row.command, from, row.input);
    return { changes: { input, inputVersion: current } };
  } catch (error) {
    return {
      rejection: isStrataError(error)
        ? { code: error.code, message: error.message }
        : { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) },
    };
  }
}
