import { createBackgroundLoop } from '../background/background-loop.ts';
import { describeError } from '../logging/describe-error.ts';
import type { SqlDatabase } from '../postgres/sql-database.ts';
import type { ListenSource } from '../subscriptions/listen-source.ts';
import type { AsyncProjection } from './async-projection.ts';
import { projectToTail, setUpProjection } from './project-batch.ts';

/** Options of `createProjectionRunner`; defaults are applied here, once. */
export interface ProjectionRunnerOptions {
  readonly database: SqlDatabase;
  readonly projections: readonly AsyncProjection[];
  /** Events per transaction. Defaults to 500. */
  readonly batchSize?: number;
  /** How often to look for new events without a notification. Defaults to 1000 ms. */
  readonly pollIntervalMs?: number;
  /** LISTEN/NOTIFY (`neonListen`, `pgliteListen`): new events are projected at once. */
  readonly listen?: ListenSource;
  /** Where failed batches are reported; the runner retries them at the next wake. Defaults to console.error. */
  readonly onError?: (error: unknown, projection: AsyncProjection) => void;
}

/** Keeps async projections up to date. */
export interface ProjectionRunner {
  /** Projects everything readers may see now, for every projection; returns events read per projection. */
  catchUp(): Promise<Record<string, number>>;
  /** Catches up now and whenever events may have arrived, until `stop`. */
  start(): Promise<void>;
  /** Stops after the batch in progress; idempotent. */
  stop(): Promise<void>;
}

/**
 * Runs async projections from the global order: each batch's writes and checkpoint commit
 * together. Several instances may run the same projections: they take turns per batch.
 *
 * @example
 * const runner = createProjectionRunner({ database, projections: [todoList], listen: pgliteListen(pglite) });
 * await runner.start();
 */
export function createProjectionRunner(options: ProjectionRunnerOptions): ProjectionRunner {
  const batchSize = options.batchSize ?? 500;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const report =
    options.onError ??
    ((error: unknown, projection: AsyncProjection) =>
      console.error(`[strata] projection ${projection.name} failed: ${describeError(error)}`));
  const setUp = new Set<string>();
  let stopListening: (() => Promise<void>) | undefined;

  async function catchUpOne(projection: AsyncProjection): Promise<number> {
    if (!setUp.has(projection.name)) {
      await options.database.transaction((tx) => setUpProjection(tx, projection));
      setUp.add(projection.name);
    }
    return projectToTail(options.database, projection, batchSize);
  }

  async function catchUp(): Promise<Record<string, number>> {
    const read: Record<string, number> = {};
    for (const projection of options.projections)
      read[projection.name] = await catchUpOne(projection);
    return read;
  }

  const loop = createBackgroundLoop({
    async round() {
      for (const projection of options.projections) {
        await catchUpOne(projection).catch((error: unknown) => report(error, projection));
      }
      return false; // caught up: the next round waits for a notification or the poll
    },
    idleMs: pollIntervalMs,
    onError: () => undefined, // reported per projection above
  });
  let started = false;

  return {
    catchUp,
    async start() {
      if (started) return;
      started = true;
      stopListening = await options.listen?.(() => loop.wake());
      loop.start();
    },
    async stop() {
      started = false;
      await loop.stop();
      await stopListening?.();
      stopListening = undefined;
    },
  };
}
