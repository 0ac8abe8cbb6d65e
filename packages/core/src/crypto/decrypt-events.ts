import { sameStream } from '../event-store/stream-ref.ts';
import type { EventEnvelope } from '../events/event.ts';
import { type EncryptedPayload, isEncryptedPayload } from './encrypted-payload.ts';
import { decryptEventData, payloadBinding } from './event-cipher.ts';
import { forgottenPayload } from './forgotten.ts';
import type { KeyRecord, KeyStore } from './key-store.ts';

/**
 * What a reader makes of one event's data, given the record of the key it names:
 * - not an encrypted payload: the data as it is;
 * - the stream's active key: the decrypted data;
 * - the stream's deleted key: the forgotten marker;
 * - a key this reader does not hold (a client's own, end to end), or one that does not open the
 *   payload (another stream's key, tampered bytes): the payload unchanged, still sealed.
 * Never throws for a payload, so one bad event cannot stop a reader.
 *
 * @example
 * const data = await readEventData(event, (await keyStore.find([kid])).get(kid));
 */
export async function readEventData(
  event: EventEnvelope,
  record: KeyRecord | undefined,
): Promise<unknown> {
  return isEncryptedPayload(event.data) ? openPayload(event, event.data, record) : event.data;
}

/** `readEventData` for a payload already known to be encrypted. */
async function openPayload(
  event: EventEnvelope,
  data: EncryptedPayload,
  record: KeyRecord | undefined,
): Promise<unknown> {
  if (record === undefined || record.kid !== data.$encrypted.kid) return data;
  if (!sameStream(record.stream, event)) return data;
  if (record.status === 'forgotten') return forgottenPayload(record.kid, record.forgottenAt);
  try {
    return await decryptEventData(data, record.key, payloadBinding(event));
  } catch {
    return data;
  }
}

/**
 * The events with their data read through a key store (see `readEventData`): one `find` for
 * the whole batch, none when no event is encrypted. Events come back in order, as copies when
 * their data changed.
 *
 * @example
 * const readable = await decryptEvents(await store.readStream(stream), keyStore);
 */
export async function decryptEvents<TEvent extends EventEnvelope>(
  events: readonly TEvent[],
  keyStore: Pick<KeyStore, 'find'>,
): Promise<TEvent[]> {
  // Each payload is checked once, here.
  const sealed = events.map((event) => (isEncryptedPayload(event.data) ? event.data : undefined));
  const kids = new Set(
    sealed.flatMap((payload) => (payload === undefined ? [] : [payload.$encrypted.kid])),
  );
  if (kids.size === 0) return [...events];
  const records = await keyStore.find([...kids]);
  return Promise.all(
    events.map(async (event, index) => {
      const payload = sealed[index];
      if (payload === undefined) return event;
      const data = await openPayload(event, payload, records.get(payload.$encrypted.kid));
      return data === event.data ? event : { ...event, data };
    }),
  );
}
