export * from './dead-letters.ts';
export * from './outbox-relay.ts';
export * from './outbox-schema.ts';
export * from './outbox-sink.ts';
export * from './outbox-writer.ts';
export * from './purge-delivered.ts';
export * from './webhook-signature.ts';
export * from './webhook-sink.ts';
