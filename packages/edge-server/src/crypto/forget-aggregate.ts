import type { ForgetResult, StreamRef } from '@strata/core';
import type { SqlDatabase } from '../postgres/sql-database.ts';
import { createPostgresKeyStore } from './postgres-key-store.ts';

/** What `forgetAggregate` forgets. */
export interface ForgetAggregateOptions {
  readonly tenant: string;
  readonly stream: StreamRef;
}

/**
 * Crypto-shredding of one aggregate: deletes its key (leaving a tombstone), so every payload
 * encrypted with it, in the events table and in every copy (outbox rows, clients' pulls after
 * this), reads as the forgotten marker from now on. Its server snapshots go too, in the same
 * transaction: they were folded from the plaintext. Events appended later get a new key.
 * Read models that projections built from the plaintext are the app's to clean.
 *
 * @example
 * const { kid } = await forgetAggregate(database, {
 *   tenant: principal.tenant, stream: { aggregateType: 'User', aggregateId: 'u1' },
 * });
 */
export async function forgetAggregate(
  database: SqlDatabase,
  options: ForgetAggregateOptions,
): Promise<ForgetResult> {
  const { tenant, stream } = options;
  return database.transaction(async (tx) => {
    const result = await createPostgresKeyStore(tx, { tenant }).forget(stream);
    if (result.kid !== undefined) {
      await tx.query(
        `DELETE FROM strata_snapshots
         WHERE tenant = $1 AND aggregate_type = $2 AND aggregate_id = $3`,
        [tenant, stream.aggregateType, stream.aggregateId],
      );
    }
    return result;
  });
}
