import {
  exportStreamKey,
  type ForgetResult,
  generateStreamKey,
  InternalError,
  importStreamKey,
  type KeyRecord,
  type KeyStore,
  type StreamKey,
  type StreamRef,
} from '@strata/core';
import { isoTime } from '../postgres/iso-time.ts';
import type { SqlExecutor } from '../postgres/sql-database.ts';

/** Options of `createPostgresKeyStore`. */
export interface PostgresKeyStoreOptions {
  readonly tenant: string;
}

/** A row of `strata_encryption_keys` as the queries here select it. */
export interface KeyRow {
  tenant: string;
  kid: string;
  aggregate_type: string;
  aggregate_id: string;
  key: string | null;
  forgotten_at: string | Date | null;
}

export const KEY_COLUMNS = 'tenant, kid, aggregate_type, aggregate_id, key, forgotten_at';

/**
 * The key store of one tenant in `strata_encryption_keys`. Give it the append's transaction to
 * create a key together with the first events it encrypts (a rolled-back append leaves no key).
 *
 * @example
 * const keyStore = createPostgresKeyStore(database, { tenant: principal.tenant });
 * await keyStore.forget({ aggregateType: 'User', aggregateId: 'u1' });
 */
export function createPostgresKeyStore(
  db: SqlExecutor,
  options: PostgresKeyStoreOptions,
): KeyStore {
  const { tenant } = options;

  async function activeKey(stream: StreamRef): Promise<StreamKey | undefined> {
    const { rows } = await db.query<{ kid: string; key: string }>(
      // FOR SHARE: inside an append, a forget waits until the append committed, and an append
      // that comes after a forget finds no active key and makes a new one. Without it an append
      // could store payloads under a key deleted meanwhile.
      `SELECT kid, key FROM strata_encryption_keys
       WHERE tenant = $1 AND aggregate_type = $2 AND aggregate_id = $3 AND forgotten_at IS NULL
       FOR SHARE`,
      [tenant, stream.aggregateType, stream.aggregateId],
    );
    const row = rows[0];
    return row === undefined ? undefined : { kid: row.kid, key: await importStreamKey(row.key) };
  }

  return {
    async keyFor(stream) {
      // Two first uses at once: one insert wins, the other finds the winner's key once it
      // committed (its own statement could not see it yet), so try a few times.
      for (let attempt = 0; attempt < 5; attempt++) {
        const existing = await activeKey(stream);
        if (existing !== undefined) return existing;
        const created = await generateStreamKey();
        const { rows } = await db.query<{ kid: string }>(
          `INSERT INTO strata_encryption_keys (tenant, kid, aggregate_type, aggregate_id, key)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (tenant, aggregate_type, aggregate_id) WHERE forgotten_at IS NULL DO NOTHING
           RETURNING kid`,
          [
            tenant,
            created.kid,
            stream.aggregateType,
            stream.aggregateId,
            await exportStreamKey(created.key),
          ],
        );
        if (rows.length === 1) return created;
      }
      throw new InternalError(
        `No encryption key for ${stream.aggregateType}/${stream.aggregateId} after 5 attempts`,
      );
    },
    async find(kids) {
      const found = new Map<string, KeyRecord>();
      if (kids.length === 0) return found;
      const { rows } = await db.query<KeyRow>(
        `SELECT ${KEY_COLUMNS} FROM strata_encryption_keys WHERE tenant = $1 AND kid = ANY($2::text[])`,
        [tenant, [...kids]],
      );
      for (const row of rows) found.set(row.kid, await toKeyRecord(row));
      return found;
    },
    async forget(stream): Promise<ForgetResult> {
      const { rows } = await db.query<{ kid: string; forgotten_at: string | Date }>(
        `UPDATE strata_encryption_keys SET key = NULL, forgotten_at = now()
         WHERE tenant = $1 AND aggregate_type = $2 AND aggregate_id = $3 AND forgotten_at IS NULL
         RETURNING kid, forgotten_at`,
        [tenant, stream.aggregateType, stream.aggregateId],
      );
      const row = rows[0];
      return row === undefined ? {} : { kid: row.kid, forgottenAt: isoTime(row.forgotten_at) };
    },
  };
}

/** A selected key row as the record readers need. */
export async function toKeyRecord(row: KeyRow): Promise<KeyRecord> {
  const stream = { aggregateType: row.aggregate_type, aggregateId: row.aggregate_id };
  if (row.key === null || row.forgotten_at !== null) {
    return {
      status: 'forgotten',
      kid: row.kid,
      stream,
      forgottenAt: isoTime(row.forgotten_at ?? new Date(0)),
    };
  }
  return { status: 'active', kid: row.kid, stream, key: await importStreamKey(row.key) };
}
