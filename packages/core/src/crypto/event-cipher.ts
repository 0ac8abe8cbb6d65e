import type { EventEnvelope } from '../events/event.ts';
import { fromBase64Url, toBase64Url } from './base64url.ts';
import {
  ENCRYPTED_PAYLOAD_VERSION,
  ENCRYPTION_ALGORITHM,
  type EncryptedPayload,
} from './encrypted-payload.ts';
import type { StreamKey } from './stream-key.ts';

/**
 * The event a payload belongs to. It is authenticated with the ciphertext (AES-GCM additional
 * data), so a payload copied onto another event, or another aggregate, fails to decrypt.
 */
export interface PayloadBinding {
  readonly aggregateType: string;
  readonly aggregateId: string;
  /** The event's id. */
  readonly eventId: string;
}

/**
 * The binding of an event envelope.
 *
 * @example
 * await encryptEventData(event.data, key, payloadBinding(event));
 */
export function payloadBinding(
  event: Pick<EventEnvelope, 'id' | 'aggregateType' | 'aggregateId'>,
): PayloadBinding {
  return {
    aggregateType: event.aggregateType,
    aggregateId: event.aggregateId,
    eventId: event.id,
  };
}

/**
 * Encrypts event data (JSON) with the stream's key: AES-GCM 256, a fresh random 96-bit IV per
 * payload, the binding (and the header) as additional authenticated data. WebCrypto only, so it
 * runs in browsers, workerd, Bun, Deno and Node alike.
 *
 * @example
 * const data = await encryptEventData({ email: 'ada@example.com' }, await keyStore.keyFor(stream), {
 *   aggregateType: 'User', aggregateId: 'u1', eventId: event.id,
 * });
 */
export async function encryptEventData(
  data: unknown,
  streamKey: StreamKey,
  binding: PayloadBinding,
): Promise<EncryptedPayload> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const plaintext = new TextEncoder().encode(JSON.stringify(data));
  const ciphertext = await crypto.subtle.encrypt(
    {
      name: 'AES-GCM',
      iv,
      additionalData: additionalData(streamKey.kid, binding),
    },
    streamKey.key,
    plaintext,
  );
  // Keys in Postgres jsonb's own order (shorter first), so a payload stored in a jsonb column
  // comes back as the very same JSON text, not just the same values.
  return {
    $encrypted: {
      v: ENCRYPTED_PAYLOAD_VERSION,
      iv: toBase64Url(iv),
      alg: ENCRYPTION_ALGORITHM,
      kid: streamKey.kid,
      ciphertext: toBase64Url(new Uint8Array(ciphertext)),
    },
  };
}

/**
 * Decrypts a payload `encryptEventData` made for this binding, back to its JSON data. Rejects
 * (WebCrypto's `OperationError`) when the key, the binding or a byte of the payload differs.
 *
 * @example
 * const data = await decryptEventData(event.data, key, payloadBinding(event));
 */
export async function decryptEventData(
  payload: EncryptedPayload,
  key: CryptoKey,
  binding: PayloadBinding,
): Promise<unknown> {
  const { kid, iv, ciphertext } = payload.$encrypted;
  const plaintext = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: fromBase64Url(iv), additionalData: additionalData(kid, binding) },
    key,
    fromBase64Url(ciphertext),
  );
  return JSON.parse(new TextDecoder().decode(plaintext));
}

/** A JSON array, so no choice of ids can make two different bindings encode alike. */
function additionalData(kid: string, binding: PayloadBinding): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(
    JSON.stringify([
      'strata-event',
      ENCRYPTED_PAYLOAD_VERSION,
      ENCRYPTION_ALGORITHM,
      kid,
      binding.aggregateType,
      binding.aggregateId,
      binding.eventId,
    ]),
  );
}
