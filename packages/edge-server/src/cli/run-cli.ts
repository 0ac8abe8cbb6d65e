/**
 * The `strata` command line: picks the command, runs it, and turns the outcome into an exit code
 * (0 done, 1 failed, 2 usage error). `serve` keeps the process running after it resolves.
 */
import { describeError } from '../logging/describe-error.ts';
import {
  type CliCommand,
  type CliOutput,
  EXIT_CODES_HELP,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  HelpRequested,
  UsageError,
} from './cli-command.ts';
import { inspectCommand } from './inspect-command.ts';
import { migrateCommand } from './migrate-command.ts';
import { rebuildCommand } from './rebuild-command.ts';
import { serveCommand } from './serve-command.ts';

/** Every command, in the order `strata --help` lists them. */
export const COMMANDS: readonly CliCommand[] = [
  serveCommand,
  migrateCommand,
  rebuildCommand,
  inspectCommand,
];

/** `strata --help`. */
export function overview(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  return `usage: strata <command> [options]   (strata <command> --help for its options)

The strata sync server and its database.

Commands:
${COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`).join('\n')}

${EXIT_CODES_HELP}`;
}

const console_: CliOutput = {
  log: (line) => console.log(line),
  error: (line) => console.error(line),
};

/**
 * Runs the command line `argv` (without node and the script) and resolves with its exit code;
 * for `serve`, once the server listens (it then runs until a signal).
 */
export async function runCli(argv: readonly string[], output = console_): Promise<number> {
  // `pnpm strata -- serve` passes the `--` through: skip it.
  const args = argv[0] === '--' ? argv.slice(1) : argv;
  const [name, ...rest] = args;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    if (name === undefined) {
      output.error(overview());
      return EXIT_USAGE;
    }
    output.log(overview());
    return EXIT_OK;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (command === undefined) {
    output.error(`strata: unknown command ${name}\n\n${overview()}`);
    return EXIT_USAGE;
  }
  try {
    await command.run(rest, output);
    return EXIT_OK;
  } catch (error) {
    if (error instanceof HelpRequested) {
      output.log(`${command.help}\n\n${EXIT_CODES_HELP}`);
      return EXIT_OK;
    }
    if (error instanceof UsageError) {
      output.error(`strata ${command.name}: ${error.message}\n\n${command.help}`);
      return EXIT_USAGE;
    }
    output.error(`[strata] failed: ${describeError(error)}`);
    return EXIT_FAILURE;
  }
}

/**
 * `runCli` as a process: sets the exit code, and exits once a one-off command is done (an idle
 * pool's timer must not keep it waiting) or at once when it failed.
 */
export async function runCliProcess(argv: readonly string[]): Promise<void> {
  const code = await runCli(argv);
  const serving = code === EXIT_OK && argv.filter((arg) => arg !== '--')[0] === 'serve';
  if (!serving) process.exit(code);
}
