export * from './aggregate-definition.ts';
