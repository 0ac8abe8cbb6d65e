/**
 * `strata rebuild`: rebuilds async projections from the first event (node/rebuild-command.ts),
 * printing progress as it goes.
 */
import { rebuildNodeProjections } from '../node/rebuild-command.ts';
import { type CliCommand, parseCommandArgs, UsageError } from './cli-command.ts';

export const rebuildCommand: CliCommand = {
  name: 'rebuild',
  summary: 'rebuild async projections from the first event',
  help: `usage: strata rebuild [PROJECTION...] --projections MODULE [--data-dir DIR]

Rebuilds the named async projections (all of the module's when none are named) from the first
event, printing progress at most once a second and a line per projection when it is done.

Options:
  --projections MODULE   a module exporting \`projections\` (or a default export): the app's async projections
  --data-dir DIR         PGlite's folder when DATABASE_URL is unset; default STRATA_DATA_DIR, else .data/strata

Environment: DATABASE_URL (else PGlite), STRATA_DATA_DIR, STRATA_POOL_*, NEON_WS_PROXY.`,
  async run(args, output) {
    const { values, positionals } = parseCommandArgs(
      args,
      { projections: { type: 'string' }, 'data-dir': { type: 'string' } },
      true,
    );
    if (values.projections === undefined)
      throw new UsageError('rebuild needs --projections MODULE');
    const dataDir = values['data-dir'];
    await rebuildNodeProjections({
      projectionsModule: values.projections,
      names: positionals,
      log: output.log,
      ...(dataDir === undefined ? {} : { dataDir }),
    });
  },
};
