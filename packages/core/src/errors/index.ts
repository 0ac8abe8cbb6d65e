export * from './errors.ts';
export * from './strata-error.ts';
export * from './validation-issues.ts';
