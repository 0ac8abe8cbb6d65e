// KSUIDs as specified by segmentio/ksuid: 4 bytes of big-endian seconds since EPOCH_SECONDS, then
// 16 random bytes, written as 27 base62 digits. Only Web-standard APIs (crypto.getRandomValues,
// Uint8Array, bigint) are used so the same file runs in browsers, workerd, Bun, Deno and Node.

/** The KSUID epoch, 2014-05-13T16:53:20Z: counting from here, 32 bits of seconds last until 2150. */
const EPOCH_SECONDS = 1_400_000_000;
const MAX_SECONDS = EPOCH_SECONDS + 0xffff_ffff;
const PAYLOAD_BYTES = 16;
const LENGTH = 27;
// In ASCII order, so that comparing two ids as strings compares them as numbers.
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
// 2^160 - 1. Some 27-digit strings are larger and cannot be stored in 20 bytes.
const MAX_KSUID = 'aWgEPTl1tmebfsQzFP4bxwgy80V';

/**
 * The shape of a KSUID string: 27 base62 characters. A string can match and still be too large
 * to be a KSUID, so use {@link isKsuid} to validate input.
 *
 * @example
 * KSUID_PATTERN.test('0ujtsYcgvSTl8PAuAdqWYSMnLOv'); // true
 */
export const KSUID_PATTERN = /^[0-9A-Za-z]{27}$/;

/** Options for {@link newKsuid}. */
export interface NewKsuidOptions {
  /** When the id is created, as a `Date` or as milliseconds since 1970; seconds are kept. */
  now?: Date | number | undefined;
  /** Fills the 16 payload bytes. Defaults to `crypto.getRandomValues`. */
  random?: ((bytes: Uint8Array) => void) | undefined;
}

/** The two parts of a KSUID, as returned by {@link parseKsuid}. */
export interface ParsedKsuid {
  /** The creation time, in whole seconds. */
  timestamp: Date;
  /** The 16 random bytes. */
  payload: Uint8Array;
}

/**
 * Creates a KSUID. Ids sort by creation time when compared as strings (`<`, `Array#sort()`;
 * not `localeCompare`, which does not order by code unit). Ids made in the same second are
 * in random order.
 *
 * Throws a `TypeError` if `now` is not a valid time between 2014-05-13T16:53:20Z and
 * 2150-06-19T23:21:35Z.
 *
 * @example
 * newKsuid(); // '2d2dRAsGvxfX9HpDmSKZwavtKPB'
 * newKsuid({ now: new Date('2024-02-29T12:34:56Z'), random: (bytes) => bytes.fill(0) });
 */
export function newKsuid(options: NewKsuidOptions = {}): string {
  const { now = Date.now(), random = fillRandom } = options;
  const ms = typeof now === 'number' ? now : now.getTime();
  const payload = new Uint8Array(PAYLOAD_BYTES);
  random(payload);
  return formatKsuid(Math.floor(ms / 1000), payload);
}

/**
 * Encodes a timestamp and a payload as a KSUID string. The same inputs always give the same id.
 *
 * Throws a `TypeError` unless `timestampSeconds` is a whole number of unix seconds from
 * 1400000000 to 5694967295 and `payload` is 16 bytes.
 *
 * @example
 * formatKsuid(1400000000, new Uint8Array(16)); // '000000000000000000000000000'
 */
export function formatKsuid(timestampSeconds: number, payload: Uint8Array): string {
  if (
    !Number.isInteger(timestampSeconds) ||
    timestampSeconds < EPOCH_SECONDS ||
    timestampSeconds > MAX_SECONDS
  ) {
    throw new TypeError(
      `KSUID timestamp must be whole unix seconds from ${EPOCH_SECONDS} (2014-05-13T16:53:20Z) to ${MAX_SECONDS} (2150-06-19T23:21:35Z), got ${String(timestampSeconds)}`,
    );
  }
  if (!(payload instanceof Uint8Array) || payload.length !== PAYLOAD_BYTES) {
    const got = payload instanceof Uint8Array ? `${payload.length} bytes` : typeof payload;
    throw new TypeError(`KSUID payload must be a Uint8Array of ${PAYLOAD_BYTES} bytes, got ${got}`);
  }

  let value = BigInt(timestampSeconds - EPOCH_SECONDS);
  for (const byte of payload) value = (value << 8n) | BigInt(byte);

  let id = '';
  while (value > 0n) {
    id = ALPHABET.charAt(Number(value % 62n)) + id;
    value /= 62n;
  }
  // Fixed width keeps string order equal to numeric order.
  return id.padStart(LENGTH, '0');
}

/**
 * Decodes a KSUID string into its timestamp and payload.
 *
 * Throws a `TypeError` if `id` is not 27 base62 characters or is larger than the largest KSUID.
 *
 * @example
 * parseKsuid('0ujtsYcgvSTl8PAuAdqWYSMnLOv');
 * // { timestamp: 2017-10-10T04:00:47.000Z, payload: Uint8Array(16) [0xb5, 0xa1, ...] }
 */
export function parseKsuid(id: string): ParsedKsuid {
  if (typeof id !== 'string') {
    throw new TypeError(`KSUID must be a string, got ${id === null ? 'null' : typeof id}`);
  }
  if (id.length !== LENGTH) {
    throw new TypeError(`KSUID must be ${LENGTH} characters long, got ${id.length}`);
  }
  const bad = id.search(/[^0-9A-Za-z]/);
  if (bad !== -1) {
    throw new TypeError(
      `KSUID ${JSON.stringify(id)} has a character other than 0-9, A-Z, a-z at index ${bad}`,
    );
  }
  // Same length and ASCII-ordered digits, so a string comparison is a numeric one.
  if (id > MAX_KSUID) {
    throw new TypeError(
      `KSUID ${JSON.stringify(id)} is larger than the largest KSUID, ${MAX_KSUID}, and does not fit in 20 bytes`,
    );
  }

  let value = 0n;
  for (const char of id) value = value * 62n + BigInt(ALPHABET.indexOf(char));

  const payload = new Uint8Array(PAYLOAD_BYTES);
  for (let i = PAYLOAD_BYTES - 1; i >= 0; i--) {
    payload[i] = Number(value & 0xffn);
    value >>= 8n;
  }
  return { timestamp: new Date((EPOCH_SECONDS + Number(value)) * 1000), payload };
}

/**
 * Whether `value` is a KSUID string: 27 base62 characters, no larger than the largest KSUID.
 *
 * @example
 * isKsuid('0ujtsYcgvSTl8PAuAdqWYSMnLOv'); // true
 * isKsuid('zzzzzzzzzzzzzzzzzzzzzzzzzzz'); // false: does not fit in 20 bytes
 */
export function isKsuid(value: unknown): value is string {
  return typeof value === 'string' && KSUID_PATTERN.test(value) && value <= MAX_KSUID;
}

// Looks crypto up on each call, as a method: getRandomValues throws "Illegal invocation" in
// browsers when detached from crypto, and a late lookup sees polyfills installed after import.
function fillRandom(bytes: Uint8Array): void {
  globalThis.crypto.getRandomValues(bytes);
}
