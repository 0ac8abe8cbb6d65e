// @strata/edge-server/projections: read models in Postgres, kept inside the append's transaction
// (inline) or from the global order by a runner (async), and rebuilt from the first event.

// Async: defined once, run by a runner (several instances take turns), rebuilt on demand.
export {
  type AsyncProjection,
  defineAsyncProjection,
  type ProjectionContext,
} from './async-projection.ts';
// Inline: an append hook that applies core's inline projections in the append's transaction.
export { inlineProjections } from './inline-projections.ts';
export {
  createProjectionRunner,
  type ProjectionRunner,
  type ProjectionRunnerOptions,
} from './projection-runner.ts';
export {
  type RebuildOptions,
  type RebuildProgress,
  rebuildProjection,
} from './rebuild-projection.ts';
