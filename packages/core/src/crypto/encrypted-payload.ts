import * as z from 'zod/mini';
import { safeParseSchema } from '../errors/validation-issues.ts';

/** The only payload format so far; a reader meeting a higher one leaves the payload alone. */
export const ENCRYPTED_PAYLOAD_VERSION = 1;

/** AES-GCM with a 256-bit key, in JOSE's name for it. */
export const ENCRYPTION_ALGORITHM = 'A256GCM';

const base64Url = z.string().check(z.regex(/^[A-Za-z0-9_-]+$/, 'base64url without padding'));

/**
 * Schema of an encrypted event payload: the event's `data` when it is stored, sent or pulled
 * encrypted. `kid` names the stream key in a key store; `iv` (96 bits) and `ciphertext`
 * (with its 128-bit tag) are base64url.
 *
 * @example
 * parseOrThrow(EncryptedPayloadSchema, event.data, 'encrypted payload').$encrypted.kid;
 */
export const EncryptedPayloadSchema = z.strictObject({
  $encrypted: z.strictObject({
    v: z.literal(ENCRYPTED_PAYLOAD_VERSION),
    alg: z.literal(ENCRYPTION_ALGORITHM),
    kid: z.string().check(z.minLength(1), z.maxLength(200)),
    iv: base64Url,
    ciphertext: base64Url,
  }),
});

/**
 * An encrypted event payload. It is plain JSON, so every store and the sync protocol carry it
 * like any other data.
 *
 * @example
 * const data: EncryptedPayload = {
 *   $encrypted: { v: 1, alg: 'A256GCM', kid: 'k1', iv: 'AAAAAAAAAAAAAAAA', ciphertext: '...' },
 * };
 */
export type EncryptedPayload = z.infer<typeof EncryptedPayloadSchema>;

/**
 * Whether event data is an encrypted payload (and not, say, app data that happens to have a
 * `$encrypted` key of another shape).
 *
 * @example
 * if (isEncryptedPayload(event.data)) console.log('sealed with key', event.data.$encrypted.kid);
 */
export function isEncryptedPayload(data: unknown): data is EncryptedPayload {
  // The cheap check first: readers call this on every event they serve.
  if (typeof data !== 'object' || data === null || !('$encrypted' in data)) return false;
  return safeParseSchema(EncryptedPayloadSchema, data).success;
}
