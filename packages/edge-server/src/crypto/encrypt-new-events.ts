import {
  encryptEventData,
  isEncryptedPayload,
  type NewEvent,
  type StreamKey,
  type StreamRef,
} from '@strata/core';
import type { SqlExecutor } from '../postgres/sql-database.ts';
import type { EncryptionOptions } from './encryption-options.ts';
import { createPostgresKeyStore } from './postgres-key-store.ts';

/**
 * The events of one append as they are to be stored: when `encryption` covers the stream, the
 * plaintext payloads encrypted with the stream's key (created in `transaction`, so it commits with
 * the events or not at all). Payloads already encrypted (by a client) are stored as they came.
 *
 * @example
 * const toStore = await encryptNewEvents(tx, { tenant, stream, events, encryption });
 */
export async function encryptNewEvents<TEvent extends NewEvent>(
  transaction: SqlExecutor,
  options: {
    readonly tenant: string;
    readonly stream: StreamRef;
    readonly events: readonly TEvent[];
    readonly encryption: EncryptionOptions | undefined;
  },
): Promise<TEvent[]> {
  const { tenant, stream, events, encryption } = options;
  if (encryption === undefined || !encryption.encrypts(stream)) return [...events];
  let key: StreamKey | undefined;
  const result: TEvent[] = [];
  for (const event of events) {
    if (isEncryptedPayload(event.data)) {
      result.push(event);
      continue;
    }
    key ??= await createPostgresKeyStore(transaction, { tenant }).keyFor(stream);
    const data = await encryptEventData(event.data, key, {
      aggregateType: stream.aggregateType,
      aggregateId: stream.aggregateId,
      eventId: event.id,
    });
    result.push({ ...event, data });
  }
  return result;
}
