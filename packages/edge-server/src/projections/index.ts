export * from './async-projection.ts';
export * from './inline-projections.ts';
export * from './projection-runner.ts';
export * from './rebuild-projection.ts';
