/**
 * The Node server's former command line, kept for scripts that run it by path:
 *
 *   tsx src/node/main.ts [start] [--port 8787] [--host 127.0.0.1] [--data-dir .data/strata] [--no-migrate] [--app MODULE]
 *   tsx src/node/main.ts migrate [--data-dir .data/strata]
 *   tsx src/node/main.ts rebuild [name...] --projections ./app/projections.ts [--data-dir .data/strata]
 *
 * It is the `strata` CLI (src/cli/) with `start`, or no command, meaning `serve`: use `strata`.
 */
import { runCliProcess } from '../cli/run-cli.ts';

const argv = process.argv.slice(2);
const args = argv[0] === '--' ? argv.slice(1) : argv;
const [first, ...rest] = args;
await runCliProcess(
  first === undefined || first.startsWith('-')
    ? ['serve', ...args]
    : first === 'start'
      ? ['serve', ...rest]
      : args,
);
