export * from './aggregate-definition.ts';
export { decodedFor, receives } from './aggregate-scope.ts';
