import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AsyncProjection } from '../projections/async-projection.ts';
import { type RebuildProgress, rebuildProjection } from '../projections/rebuild-projection.ts';
import type { EnvRecord } from '../runtimes/env.ts';
import type { ServerDatabaseOptions } from '../runtimes/server-app.ts';
import { openNodeDatabase } from './server.ts';

/** Options of `rebuildNodeProjections`. */
export interface RebuildCommandOptions extends ServerDatabaseOptions {
  /** A module exporting `projections` (or a default export): the app's async projections. */
  readonly projectionsModule: string;
  /** Names of the projections to rebuild; all of the module's when empty. */
  readonly names?: readonly string[];
  readonly env?: EnvRecord;
  readonly batchSize?: number;
  /** Where progress lines go. Defaults to console.log. */
  readonly log?: (line: string) => void;
  /** Smallest gap between two progress lines of one projection. Defaults to 1000 ms. */
  readonly progressIntervalMs?: number;
}

/**
 * `main.ts rebuild`: rebuilds async projections of the app's module from the first event, on
 * the server's database, printing progress (`[strata] todo-list: 4500/10000 events (45%)`).
 * Returns events read per projection.
 */
export async function rebuildNodeProjections(
  options: RebuildCommandOptions,
): Promise<Record<string, number>> {
  const log = options.log ?? ((line: string) => console.log(line));
  const projections = selectProjections(
    await loadProjections(options.projectionsModule),
    options.names ?? [],
  );
  const database = await openNodeDatabase(options);
  const rebuilt: Record<string, number> = {};
  try {
    for (const projection of projections) {
      const started = performance.now();
      const report = progressPrinter(log, options.progressIntervalMs ?? 1000);
      rebuilt[projection.name] = await rebuildProjection(database.database, projection, {
        ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
        onProgress: report,
      });
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      log(
        `[strata] rebuilt ${projection.name}: ${rebuilt[projection.name]} events in ${seconds} s`,
      );
    }
    return rebuilt;
  } finally {
    await database.close();
  }
}

/** Prints the first and last progress of a rebuild and, between them, at most one line per interval. */
function progressPrinter(log: (line: string) => void, intervalMs: number) {
  let lastAt = Number.NEGATIVE_INFINITY;
  return (progress: RebuildProgress) => {
    const now = performance.now();
    const done = progress.processed >= progress.total;
    if (!done && now - lastAt < intervalMs) return;
    lastAt = now;
    const percent =
      progress.total === 0
        ? 100
        : Math.min(100, Math.floor((progress.processed / progress.total) * 100));
    log(
      `[strata] ${progress.projection}: ${progress.processed}/${progress.total} events (${percent}%)`,
    );
  };
}

async function loadProjections(path: string): Promise<readonly AsyncProjection[]> {
  const module = (await import(pathToFileURL(resolve(path)).href)) as {
    projections?: unknown;
    default?: unknown;
  };
  const projections = module.projections ?? module.default;
  if (!Array.isArray(projections) || projections.length === 0) {
    throw new Error(`${path} exports no projections (export const projections = [...])`);
  }
  return projections as AsyncProjection[];
}

function selectProjections(
  projections: readonly AsyncProjection[],
  names: readonly string[],
): readonly AsyncProjection[] {
  if (names.length === 0) return projections;
  const unknown = names.filter(
    (name) => !projections.some((projection) => projection.name === name),
  );
  if (unknown.length > 0) {
    const known = projections.map((projection) => projection.name).join(', ');
    throw new Error(`No projection named ${unknown.join(', ')} (the module has ${known})`);
  }
  return projections.filter((projection) => names.includes(projection.name));
}
