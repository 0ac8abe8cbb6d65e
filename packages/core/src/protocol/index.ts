export * from './event-schemas.ts';
export * from './json-schema.ts';
export * from './problem-details.ts';
export * from './pull.ts';
export * from './push.ts';
export * from './sse-reader.ts';
export * from './subscription.ts';
