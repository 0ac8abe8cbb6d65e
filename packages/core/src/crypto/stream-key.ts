import { fromBase64Url, toBase64Url } from './base64url.ts';

/**
 * One stream's data key: a WebCrypto AES-GCM 256 key and the id (`kid`) that encrypted
 * payloads carry, so a reader finds the key again.
 */
export interface StreamKey {
  readonly kid: string;
  readonly key: CryptoKey;
}

const AES_GCM = { name: 'AES-GCM', length: 256 } as const;

/**
 * A new random key with a random kid. Extractable, so a server key store can keep its raw bytes
 * (`exportStreamKey`); browsers that keep keys to themselves may store the `CryptoKey` as is.
 *
 * @example
 * const { kid, key } = await generateStreamKey();
 */
export async function generateStreamKey(): Promise<StreamKey> {
  const key = await crypto.subtle.generateKey(AES_GCM, true, ['encrypt', 'decrypt']);
  return { kid: newKeyId(), key };
}

/**
 * A random key id: 128 bits, base64url. Random rather than derived from the stream, so a kid
 * reveals nothing and a stream that gets a new key after a deletion gets a new kid.
 *
 * @example
 * newKeyId(); // 'mQ3pHc1-7fGqkJ0u2yW0bA'
 */
export function newKeyId(): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(16)));
}

/**
 * The raw key bytes, base64url: what a key store writes to its table.
 *
 * @example
 * const raw = await exportStreamKey(streamKey.key);
 */
export async function exportStreamKey(key: CryptoKey): Promise<string> {
  return toBase64Url(new Uint8Array(await crypto.subtle.exportKey('raw', key)));
}

/**
 * A key from the raw bytes `exportStreamKey` made. Not extractable again: a reader only needs
 * to decrypt and encrypt.
 *
 * @example
 * const key = await importStreamKey(row.key);
 */
export async function importStreamKey(raw: string): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', fromBase64Url(raw), AES_GCM, false, ['encrypt', 'decrypt']);
}
