// @strata/edge-server/outbox: the transactional outbox (events recorded with the append) and the
// relay that delivers them at least once. Async reactors ride on it (see @strata/edge-server/reactors).

// Operations: dead letters and keeping the table small.
export {
  type DeadLetter,
  type DeadLetterSelection,
  type ListDeadLettersOptions,
  listDeadLetters,
  replayDeadLetters,
} from './dead-letters.ts';

// Delivering: the relay, the sinks it calls and what a sink receives.
export {
  createOutboxRelay,
  OUTBOX_RELAY_DEFAULTS,
  OutboxDeliveryTimeoutError,
  type OutboxRelay,
  type OutboxRelayOptions,
  type OutboxRelayRound,
} from './outbox-relay.ts';
export type { OutboxDeliveryContext, OutboxMessage, OutboxSink } from './outbox-sink.ts';
// Recording: an append hook that writes the chosen events to the outbox.
export { type OutboxRoute, outboxWriter } from './outbox-writer.ts';
export { type PurgeDeliveredOptions, purgeDeliveredMessages } from './purge-delivered.ts';
export {
  signWebhook,
  type VerifyWebhookOptions,
  verifyWebhookSignature,
  WEBHOOK_SIGNATURE_HEADER,
  WEBHOOK_TOLERANCE_SECONDS,
  webhookSigner,
} from './webhook-signature.ts';
// Webhooks: a signed-POST sink, and the signature a receiver checks.
export { WebhookDeliveryError, type WebhookSinkOptions, webhookSink } from './webhook-sink.ts';
