import type { AppendOptions, AppendResult, NewEvent, Snapshot, StreamRef } from '@strata/core';
import { encryptNewEvents } from '../crypto/encrypt-new-events.ts';
import type { EncryptionOptions } from '../crypto/encryption-options.ts';
import type { AppendHook } from './append-hook.ts';
import { withAppendRetries } from './append-retries.ts';
import { insertEvents } from './insert-events.ts';
import { notifyAppended } from './notify-appended.ts';
import { planStreamAppend } from './plan-stream-append.ts';
import { saveSnapshotRow } from './snapshot-rows.ts';
import type { SqlDatabase, SqlExecutor } from './sql-database.ts';

/** What every append of a tenant's store shares. */
export interface AppendSettings {
  readonly tenant: string;
  readonly appendHooks: readonly AppendHook[];
  /**
   * Hooks of one caller's append, after `appendHooks`, that see all its events in one call
   * even when several commits of one aggregate are stored together (the authority's command
   * log): unlike `appendHooks` they judge nothing commit by commit (append-commits.ts).
   */
  readonly wholeHooks?: readonly AppendHook[];
  readonly encryption: EncryptionOptions | undefined;
}

/**
 * One append, in a transaction of its own: planned (`planStreamAppend`), encrypted, inserted
 * (`insertEvents`), its snapshot saved, the append hooks and `beforeCommit` run, then committed.
 * Tried again when a concurrent writer won a race (`withAppendRetries`). Four round trips on
 * the happy path of an exact expected version: BEGIN, version, INSERT, COMMIT; then the
 * notification (`notifyAppended`).
 */
export async function appendToStream(
  db: SqlDatabase,
  settings: AppendSettings,
  stream: StreamRef,
  events: readonly NewEvent[],
  options: AppendOptions<SqlExecutor>,
): Promise<AppendResult> {
  const result = await withAppendRetries((raced) =>
    db.transaction((tx) => appendWithin(tx, settings, stream, events, options, raced)),
  );
  if (!result.alreadyStored) notifyAppended(db, settings.tenant);
  return result;
}

async function appendWithin(
  tx: SqlExecutor,
  settings: AppendSettings,
  stream: StreamRef,
  events: readonly NewEvent[],
  options: AppendOptions<SqlExecutor>,
  raced: boolean,
): Promise<AppendResult> {
  const { tenant } = settings;
  const { plan, currentVersion } = await planStreamAppend(
    tx,
    tenant,
    stream,
    events,
    options.expectedVersion,
    raced,
  );
  if (plan.kind === 'already-stored') {
    // The lookup decrypted them already.
    return { events: plan.events, version: currentVersion, alreadyStored: true };
  }
  const toStore = await encryptNewEvents(tx, {
    tenant,
    stream,
    events,
    encryption: settings.encryption,
  });
  const stored = await insertEvents(tx, tenant, stream, toStore, plan.firstVersion);
  const version = plan.firstVersion + events.length - 1;
  // A snapshot taken for another version (the caller appended with ANY and another writer got
  // in first) would claim a state that misses that writer's events.
  if (
    options.snapshot?.version === version &&
    !(settings.encryption !== undefined && (await forgottenSince(tx, tenant, options.snapshot)))
  ) {
    await saveSnapshotRow(tx, tenant, options.snapshot);
  }
  // Hooks and the caller get the data as the caller gave it, as every read gives it back; no
  // need to decrypt what was encrypted a moment ago (versions follow the given order).
  const appended = stored.map((event, index) => ({
    ...event,
    data: events[index]?.data ?? event.data,
  }));
  for (const hook of [...settings.appendHooks, ...(settings.wholeHooks ?? [])])
    await hook(appended, { tenant, transaction: tx, stored });
  await options.beforeCommit?.(appended, tx);
  return { events: appended, version, alreadyStored: false };
}

/**
 * Whether the snapshot's aggregate was forgotten (crypto-shredding) after its state was taken:
 * the state was folded from plaintext the forget has shredded since, and a snapshot would keep
 * it (and hand it to devices that bootstrap from snapshots).
 */
async function forgottenSince(
  tx: SqlExecutor,
  tenant: string,
  snapshot: Snapshot,
): Promise<boolean> {
  const { rows } = await tx.query(
    `SELECT 1 FROM strata_encryption_keys
     WHERE tenant = $1 AND aggregate_type = $2 AND aggregate_id = $3
       AND forgotten_at >= $4::timestamptz
     LIMIT 1`,
    [tenant, snapshot.aggregateType, snapshot.aggregateId, snapshot.takenAt],
  );
  return rows.length > 0;
}
