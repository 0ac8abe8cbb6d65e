export * from './acknowledge-events.ts';
export * from './claim-events.ts';
export * from './consumer-group.ts';
export * from './consumer-group-admin.ts';
export * from './consumer-group-definition.ts';
export * from './consumer-group-schema.ts';
export * from './consumer-membership.ts';
export * from './retry-policy.ts';
