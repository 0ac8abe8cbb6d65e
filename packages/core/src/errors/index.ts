export * from './errors.ts';
export * from './strata-error.ts';
