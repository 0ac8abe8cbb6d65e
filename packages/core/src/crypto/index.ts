export * from './base64url.ts';
export * from './decrypt-events.ts';
export * from './encrypted-payload.ts';
export * from './event-cipher.ts';
export * from './forgotten.ts';
export * from './in-memory-key-store.ts';
export * from './key-store.ts';
export * from './stream-key.ts';
