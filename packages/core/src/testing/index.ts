export * from './aggregate-spec.ts';
export * from './assertions.ts';
export * from './describe-event-store-contract.ts';
export * from './event-store-contract.ts';
