/**
 * Base64url without padding (RFC 4648 §5): how key bytes, IVs and ciphertexts travel inside
 * JSON. `btoa`/`atob` exist in every runtime strata targets; Node's `Buffer` does not.
 *
 * @example
 * toBase64Url(new Uint8Array([251, 255])); // '-_8'
 */
export function toBase64Url(bytes: Uint8Array): string {
  let binary = '';
  // Chunked: spreading a large array into String.fromCharCode overflows the call stack.
  for (let at = 0; at < bytes.length; at += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(at, at + 0x8000));
  }
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

/**
 * The bytes of a base64url string (padding optional). Throws a `TypeError` on other characters.
 *
 * @example
 * fromBase64Url('-_8'); // Uint8Array [251, 255]
 */
export function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(text)) throw new TypeError('Not a base64url string');
  const binary = atob(text.replaceAll('-', '+').replaceAll('_', '/'));
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index++) bytes[index] = binary.charCodeAt(index);
  return bytes;
}
