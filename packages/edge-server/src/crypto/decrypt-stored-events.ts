import { isEncryptedPayload, type KeyRecord, readEventData } from '@strata/core';
import type { PostgresStoredEvent } from '../postgres/postgres-stored-event.ts';
import type { SqlExecutor } from '../postgres/sql-database.ts';
import { KEY_COLUMNS, type KeyRow, toKeyRecord } from './postgres-key-store.ts';

/**
 * Readers' side of crypto-shredding (issue 7): every server reader (pull, subscribe, the store's
 * reads, history, outbox relay, consumer groups, async projections) passes stored events through
 * here before handing them on. Each event's data comes back
 * - unchanged when it is not an encrypted payload (a batch without any costs no query);
 * - decrypted with its tenant's key for its stream;
 * - as the forgotten marker (`isForgotten`) when that key was deleted;
 * - unchanged, still sealed, when the server never had the key: a payload a client encrypted
 *   end to end travels through push, storage, pull and subscribe as it came.
 * One key query per batch, over all the batch's tenants. Events come back in order, as copies
 * where the data changed.
 *
 * @example
 * const events = await decryptStoredEvents(database, claimed.map((row) => row.event));
 */
export async function decryptStoredEvents<TEvent extends PostgresStoredEvent>(
  database: SqlExecutor,
  events: readonly TEvent[],
): Promise<TEvent[]> {
  const wanted = new Map<string, { tenant: string; kid: string }>();
  for (const event of events) {
    if (!isEncryptedPayload(event.data)) continue;
    const { kid } = event.data.$encrypted;
    wanted.set(tenantKid(event.tenant, kid), { tenant: event.tenant, kid });
  }
  if (wanted.size === 0) return [...events];

  const pairs = [...wanted.values()];
  const { rows } = await database.query<KeyRow>(
    `SELECT ${KEY_COLUMNS} FROM strata_encryption_keys
     WHERE (tenant, kid) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
    [pairs.map((pair) => pair.tenant), pairs.map((pair) => pair.kid)],
  );
  const records = new Map<string, KeyRecord>();
  for (const row of rows) records.set(tenantKid(row.tenant, row.kid), await toKeyRecord(row));

  return Promise.all(
    events.map(async (event) => {
      if (!isEncryptedPayload(event.data)) return event;
      const record = records.get(tenantKid(event.tenant, event.data.$encrypted.kid));
      const data = await readEventData(event, record);
      return data === event.data ? event : { ...event, data };
    }),
  );
}

const tenantKid = (tenant: string, kid: string) => JSON.stringify([tenant, kid]);
