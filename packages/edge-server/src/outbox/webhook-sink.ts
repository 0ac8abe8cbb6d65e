import type { OutboxSink } from './outbox-sink.ts';
import { WEBHOOK_SIGNATURE_HEADER, webhookSigner } from './webhook-signature.ts';

/** Options of `webhookSink`. */
export interface WebhookSinkOptions {
  /** Where messages are POSTed. */
  readonly url: string | URL;
  /** HMAC-SHA256 key the receiver verifies with (`verifyWebhookSignature`). */
  readonly secret: string;
  /** More headers on every request (e.g. an API key); the signature headers win on a clash. */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * A request's own time limit, below the relay's delivery timeout if it should give up sooner.
   * Default: the relay's delivery timeout only.
   */
  readonly timeoutMs?: number;
  /** Default: the global `fetch` (a test or proxy may pass its own). */
  readonly fetch?: typeof fetch;
}

/**
 * A webhook answered with something other than 2xx (the relay records it as the attempt's
 * `last_error` and retries).
 *
 * @example
 * onError: (error, message) => {
 *   if (error instanceof WebhookDeliveryError && error.status === 410) alert(message?.destination);
 * },
 */
export class WebhookDeliveryError extends Error {
  override readonly name = 'WebhookDeliveryError';
  constructor(
    readonly status: number,
    readonly responseText: string,
  ) {
    super(`Webhook answered ${status}${responseText === '' ? '' : `: ${responseText}`}`);
  }
}

const RESPONSE_EXCERPT = 500;

/**
 * A sink that POSTs each message as JSON, `{ id, destination, tenant, attempt, event }`, signed
 * with HMAC-SHA256 over the timestamp and body (header `strata-signature: t=...,v1=...`). Any
 * 2xx acknowledges; any other status, a redirect (never followed: the signed body stays with
 * the receiver it was meant for), a network error or a timeout is a failed attempt. The header
 * `strata-message-id` repeats the id receivers deduplicate on. WebCrypto and `fetch` only: runs
 * on Node, workerd, Bun and Deno.
 *
 * @example
 * const relay = createOutboxRelay({
 *   database,
 *   sinks: { billing: webhookSink({ url: 'https://billing.example.com/hooks/strata', secret }) },
 * });
 */
export function webhookSink(options: WebhookSinkOptions): OutboxSink {
  const { url, secret, headers = {}, timeoutMs } = options;
  const send = options.fetch ?? fetch;
  const sign = webhookSigner(secret);
  return async (message, { signal }) => {
    const body = JSON.stringify({
      id: message.id,
      destination: message.destination,
      tenant: message.tenant,
      attempt: message.attempt,
      event: message.event,
    });
    const signature = await sign(body, Math.floor(Date.now() / 1000));
    const response = await send(url, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        ...headers,
        'content-type': 'application/json',
        [WEBHOOK_SIGNATURE_HEADER]: signature,
        'strata-message-id': message.id,
      },
      body,
      signal:
        timeoutMs === undefined
          ? signal
          : AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
    });
    if (response.status >= 200 && response.status < 300) {
      await response.body?.cancel();
      return;
    }
    const text = await response.text().catch(() => '');
    throw new WebhookDeliveryError(response.status, text.slice(0, RESPONSE_EXCERPT));
  };
}
