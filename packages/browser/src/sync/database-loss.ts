import type { CommandCommit } from '@strata/core';
import { CLIENT_ID_KEY } from '../database/database-kept.ts';
import { withStorageErrors } from '../database/storage-errors.ts';
import type { PendingCommandRow, StrataDatabase } from '../database/strata-database.ts';
import { REBOOTSTRAP_KEY } from './rebootstrap.ts';
import { writeScopeStates } from './scope-set.ts';
import type { Rebootstrap } from './sync-status.ts';

/** Why a device re-bootstraps after its database went (`SyncStatus.rebootstrap.reason`). */
export const DATABASE_LOST_REASON =
  'The local database was deleted while the app ran (site data cleared); it is read again from the server';

export interface DatabaseLossOptions {
  readonly db: StrataDatabase;
  /** This device's client id, kept in memory: it stays the same device. */
  readonly clientId: string;
  readonly clock: () => Date;
  /** The pushes this tab still holds in memory (read before the database went). */
  readonly held: () => readonly CommandCommit[];
  /**
   * Scoped sync: the keys of the scopes this device asked for, as last read. Their rows went
   * with the database: without them it re-bootstrapped into no scope and held nothing. Read
   * when the database closes.
   */
  readonly askedScopes: () => readonly string[];
  /** Called first, before anything is written: stop the live stream, forget what was read. */
  readonly onLost: () => void;
  /** Called once the new database is set up to re-bootstrap. */
  readonly onRecovered: (rebootstrap: Rebootstrap) => void;
  readonly onError: (error: unknown) => void;
}

/**
 * Watches for the database to be deleted under the running app (issue 17): clearing site data
 * closes IndexedDB connections by force, and Dexie reopens a new, empty database at the next
 * access, into which the sync loops would write the cursor they remember: the device then held a
 * few events while its status said synced. On a close this tab did not ask for, the sync is told
 * (`onLost`: it drops its stream and in-memory reading position), and the new database is set
 * up to re-bootstrap like a reset server: the client id again, the scopes it asked for (scoped
 * sync), the commands this tab still held in memory as pending (re-run on the server's state
 * after the catch-up, or rejected visibly), and the re-bootstrap mark. Every tab's sync client
 * does the same; only the syncing one writes. Returns the unsubscribe.
 */
export function watchDatabaseLoss(options: DatabaseLossOptions): () => void {
  const { db } = options;
  const recover = async (askedScopes: readonly string[]) => {
    // A close this app asked for (strata.close, sync.stop) leaves Dexie closed for good.
    if (db.hasBeenClosed()) return;
    const held = options.held();
    options.onLost();
    if (!db.isOpen()) await db.open();
    const rebootstrap = await withStorageErrors(() =>
      db.transaction('rw', [db.syncState, db.commands], async () => {
        if ((await db.syncState.get(CLIENT_ID_KEY)) === undefined) {
          const value: Rebootstrap = {
            reason: DATABASE_LOST_REASON,
            since: options.clock().toISOString(),
          };
          await db.syncState.bulkPut([
            { key: CLIENT_ID_KEY, value: options.clientId },
            { key: REBOOTSTRAP_KEY, value },
          ]);
          // Asked for again, read from the start (a refused one is asked again too).
          await writeScopeStates(
            db,
            askedScopes.map((key) => ({ key, complete: false })),
          );
        }
        // Closed for another reason (an upgrade elsewhere): the data is still there. Else this
        // tab or another one (the first to notice) set the new database up.
        const current = (await db.syncState.get(REBOOTSTRAP_KEY))?.value as Rebootstrap | undefined;
        if (current?.reason !== DATABASE_LOST_REASON) return undefined;
        const known = new Set(
          (
            await db.commands
              .where('commandId')
              .anyOf(held.map((c) => c.commitId))
              .toArray()
          ).map((row) => row.commandId),
        );
        await db.commands.bulkAdd(held.filter((c) => !known.has(c.commitId)).map(pendingRowOf));
        return current;
      }),
    );
    if (rebootstrap !== undefined) options.onRecovered(rebootstrap);
  };
  const onClose = () => {
    // Read now: by the time Dexie let us look, a write of the sync loops may have reopened the
    // new, empty database and the scope watch read no scope from it.
    const askedScopes = options.askedScopes();
    // Dexie fires `close` before it records whether it may reopen: look after that.
    setTimeout(() => recover(askedScopes).catch(options.onError), 0);
  };
  db.on('close', onClose);
  return () => db.on('close').unsubscribe(onClose);
}

/**
 * A held push as a pending command row: its predicted events went with the database, so it has
 * none; the re-bootstrap re-runs it on the server's state (a command the server already stored
 * is recognised by its id when its events arrive, and is not run twice).
 */
function pendingRowOf(commit: CommandCommit): Omit<PendingCommandRow, 'seq'> {
  const { command } = commit;
  const metadata = commit.events[0]?.metadata ?? { commandId: commit.commitId };
  return {
    commandId: commit.commitId,
    aggregateType: command.aggregateType,
    aggregateId: command.aggregateId,
    command: command.name,
    input: command.input,
    ...(command.inputVersion === undefined ? {} : { inputVersion: command.inputVersion }),
    metadata: metadata as Record<string, unknown>,
    eventIds: [],
    executedAt: command.issuedAt,
  };
}
