export * from './envelope-of.ts';
export * from './event.ts';
export * from './event-definition.ts';
export * from './event-registry.ts';
export * from './json.ts';
