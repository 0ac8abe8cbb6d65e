export * from './consumer-group.ts';
export * from './consumer-group-admin.ts';
export * from './consumer-group-schema.ts';
export * from './consumer-group-store.ts';
export * from './retry-policy.ts';
