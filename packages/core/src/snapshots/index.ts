export * from './snapshot.ts';
export * from './snapshot-fingerprint.ts';
export * from './snapshot-policy.ts';
