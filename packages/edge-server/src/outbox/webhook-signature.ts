/** The header a webhook's signature travels in: `t=<unix seconds>,v1=<hex HMAC-SHA256>`. */
export const WEBHOOK_SIGNATURE_HEADER = 'strata-signature';

/** Default of `verifyWebhookSignature`'s `toleranceSeconds`. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

const encoder = new TextEncoder();

function hmacKey(secret: string, usage: 'sign' | 'verify'): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    'raw',
    encoder.encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    [usage],
  );
}

// The timestamp is signed with the body, so an intercepted request cannot be replayed later.
const signedContent = (timestamp: number, body: string) => encoder.encode(`${timestamp}.${body}`);

const toHex = (bytes: ArrayBuffer) =>
  Array.from(new Uint8Array(bytes), (byte) => byte.toString(16).padStart(2, '0')).join('');

function fromHex(hex: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^(?:[0-9a-f]{2})+$/i.test(hex)) return undefined;
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++)
    bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

/**
 * Signs webhook bodies with one secret, importing the key once: the signature header value for
 * a body sent at `timestamp` (unix seconds). WebCrypto only, so it runs on Node, workerd, Bun
 * and Deno alike.
 *
 * @example
 * const sign = webhookSigner(secret);
 * headers.set(WEBHOOK_SIGNATURE_HEADER, await sign(body, Math.floor(Date.now() / 1000)));
 */
export function webhookSigner(
  secret: string,
): (body: string, timestamp: number) => Promise<string> {
  let key: Promise<CryptoKey> | undefined;
  return async (body, timestamp) => {
    key ??= hmacKey(secret, 'sign');
    const mac = await crypto.subtle.sign('HMAC', await key, signedContent(timestamp, body));
    return `t=${timestamp},v1=${toHex(mac)}`;
  };
}

/**
 * The signature header value for one webhook body sent at `timestamp` (unix seconds).
 *
 * @example
 * const header = await signWebhook(secret, body, Math.floor(Date.now() / 1000));
 */
export function signWebhook(secret: string, body: string, timestamp: number): Promise<string> {
  return webhookSigner(secret)(body, timestamp);
}

/** Options of `verifyWebhookSignature`. */
export interface VerifyWebhookOptions {
  readonly secret: string;
  /** The raw request body, exactly as received (parse it only after verifying). */
  readonly body: string;
  /** The `strata-signature` header; a missing header fails. */
  readonly header: string | null | undefined;
  /** How old (or how far in the future) a signature may be. Default 300 s. */
  readonly toleranceSeconds?: number;
  /** The receiver's clock, in unix seconds. Default: now. */
  readonly now?: number;
}

/**
 * For receivers of `webhookSink`: whether a request's signature is valid, made with `secret` over
 * this exact body, and recent (within `toleranceSeconds`, against replays). The comparison is
 * WebCrypto's own `verify`, which takes the same time however many bytes match. Several `v1`
 * entries are allowed (any may match), for rotating secrets.
 *
 * @example
 * const body = await request.text();
 * const header = request.headers.get(WEBHOOK_SIGNATURE_HEADER);
 * if (!(await verifyWebhookSignature({ secret, body, header }))) return new Response(null, { status: 401 });
 */
export async function verifyWebhookSignature(options: VerifyWebhookOptions): Promise<boolean> {
  const {
    secret,
    body,
    header,
    toleranceSeconds = WEBHOOK_TOLERANCE_SECONDS,
    now = Math.floor(Date.now() / 1000),
  } = options;
  if (typeof header !== 'string') return false;
  let timestamp: number | undefined;
  const signatures: Uint8Array<ArrayBuffer>[] = [];
  for (const part of header.split(',')) {
    const [name, value = ''] = part.trim().split('=', 2);
    if (name === 't' && /^\d+$/.test(value)) timestamp = Number(value);
    if (name === 'v1') {
      const bytes = fromHex(value);
      if (bytes !== undefined) signatures.push(bytes);
    }
  }
  if (timestamp === undefined || signatures.length === 0) return false;
  if (Math.abs(now - timestamp) > toleranceSeconds) return false;
  const key = await hmacKey(secret, 'verify');
  const content = signedContent(timestamp, body);
  for (const signature of signatures) {
    if (await crypto.subtle.verify('HMAC', key, signature, content)) return true;
  }
  return false;
}
