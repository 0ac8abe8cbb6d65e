export * from './decrypt-stored-events.ts';
export * from './encrypt-new-events.ts';
export * from './encryption-options.ts';
export * from './forget-aggregate.ts';
export * from './key-store-schema.ts';
export * from './postgres-key-store.ts';
