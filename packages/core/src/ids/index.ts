export * from './ksuid.ts';
