/**
 * What every `strata` command is: a name, its help, and a run over its own arguments. Shared by
 * the commands (one file each) and the dispatcher (run-cli.ts).
 */
import { parseArgs } from 'node:util';

/** The exit codes of every command, as `--help` states them. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** The lines of `--help` that name the exit codes. */
export const EXIT_CODES_HELP = `Exit codes:
  0  done (serve: stopped cleanly on SIGINT/SIGTERM)
  1  failed (the database, the app module, a refused lock, ...): the message says why
  2  usage error (an unknown command or option, a missing argument)`;

/** How a command writes: stdout for results, stderr for progress-free failures. */
export interface CliOutput {
  readonly log: (line: string) => void;
  readonly error: (line: string) => void;
}

/** One command of the CLI. */
export interface CliCommand {
  readonly name: string;
  /** One line for the command list of `strata --help`. */
  readonly summary: string;
  /** The command's `--help` text (usage, options, environment), without the exit codes. */
  readonly help: string;
  /** Runs the command; resolves when its work is done (`serve`: when it is listening). */
  run(args: readonly string[], output: CliOutput): Promise<void>;
}

/** A command line the CLI cannot run as written: exit code 2, with the command's usage. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** `--help` was asked for: the dispatcher prints the command's help and exits 0. */
export class HelpRequested extends Error {
  override readonly name = 'HelpRequested';
}

/** A command's options, as `node:util` parseArgs takes them (no multiples, no defaults). */
type Options = Readonly<Record<string, { readonly type: 'string' | 'boolean' }>>;

/** What `parseCommandArgs` gives: each option's value (string or flag) and the positionals. */
export interface ParsedArgs<T extends Options> {
  readonly values: { readonly [K in keyof T]?: T[K]['type'] extends 'boolean' ? boolean : string };
  readonly positionals: readonly string[];
}

/**
 * `node:util` parseArgs with `--help`/`-h` added, its errors turned into `UsageError`s, and
 * `HelpRequested` thrown when help is asked for.
 */
export function parseCommandArgs<T extends Options>(
  args: readonly string[],
  options: T,
  allowPositionals = false,
): ParsedArgs<T> {
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...args],
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals,
      strict: true,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (parsed.values.help === true) throw new HelpRequested();
  return parsed as unknown as ParsedArgs<T>;
}

/** A whole number option (`--limit 10`), or a `UsageError` naming it. */
export function wholeNumberOption(
  name: string,
  value: string | undefined,
  minimum: number,
): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < minimum) {
    throw new UsageError(`--${name} must be a whole number of at least ${minimum}, not ${value}`);
  }
  return number;
}
