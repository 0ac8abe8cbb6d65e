export * from './backoff.ts';
export * from './wake-signal.ts';
