/**
 * `strata migrate`: applies the migrations the database lacks, one line per migration as it goes
 * (before a deploy, in CI, or before `serve --no-migrate`).
 */
import { MIGRATIONS, migrate } from '../migrations/migrations.ts';
import { schemaStatus } from '../migrations/schema-status.ts';
import { openNodeDatabase } from '../node/server.ts';
import { type CliCommand, parseCommandArgs } from './cli-command.ts';

export const migrateCommand: CliCommand = {
  name: 'migrate',
  summary: 'apply missing migrations to the database',
  help: `usage: strata migrate [--data-dir DIR]

Applies the migrations the database lacks, each in its own transaction, printing a line per
migration. On Postgres, safe while servers are up and from several places at once; a PGlite
folder must not be in use by a running server (its lock refuses: exit code 1).

Options:
  --data-dir DIR   PGlite's folder when DATABASE_URL is unset; default STRATA_DATA_DIR, else .data/strata

Environment: DATABASE_URL (else PGlite), STRATA_DATA_DIR, STRATA_POOL_*, NEON_WS_PROXY.`,
  async run(args, output) {
    const { values } = parseCommandArgs(args, { 'data-dir': { type: 'string' } });
    const dataDir = values['data-dir'];
    const database = await openNodeDatabase(dataDir === undefined ? {} : { dataDir });
    try {
      const { pending } = await schemaStatus(database.database);
      if (pending.length === 0) {
        output.log(`[strata] ${database.description}: schema is up to date`);
        return;
      }
      output.log(
        `[strata] ${database.description}: ${pending.length} of ${MIGRATIONS.length} migrations to apply`,
      );
      const applied: number[] = [];
      for (const [index, version] of pending.entries()) {
        const migration = MIGRATIONS.find((candidate) => candidate.version === version);
        if (migration === undefined) continue;
        const started = performance.now();
        applied.push(...(await migrate(database.database, [migration])));
        const ms = Math.round(performance.now() - started);
        output.log(
          `[strata] migration ${version} (${migration.name}): applied in ${ms} ms [${index + 1}/${pending.length}]`,
        );
      }
      output.log(`[strata] ${database.description}: applied migrations ${applied.join(', ')}`);
    } finally {
      await database.close();
    }
  },
};
