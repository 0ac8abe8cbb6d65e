/**
 * The `strata` bin's entry (bin/strata.js runs it: through tsx in this repository, from dist/
 * when published). `strata --help` lists the commands.
 */
import { runCliProcess } from './run-cli.ts';

await runCliProcess(process.argv.slice(2));
