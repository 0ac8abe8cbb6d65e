export * from './event-schemas.ts';
export * from './json-schema.ts';
export * from './problem-details.ts';
export * from './pull.ts';
export * from './push.ts';
export * from './query-integer.ts';
export {
  isSafeText,
  MAX_INT4,
  MAX_TIMESTAMP,
  MIN_TIMESTAMP,
  SafeTextSchema,
  TimestampSchema,
} from './safe-text.ts';
export * from './sse-reader.ts';
export * from './streams.ts';
export * from './subscription.ts';
