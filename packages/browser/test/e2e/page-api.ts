/**
 * What the e2e pages (sync-app.ts, scoped-sync-app.ts) share: their query-string settings and
 * how a command's outcome crosses `page.evaluate` (a value, never a rejection). Browser only.
 */
import { isStrataError, newKsuid } from '@strata/core';

/** What became of a command; never a rejection, so it crosses `page.evaluate` intact. */
export type CommandOutcome =
  | { readonly ok: true; readonly commandId: string; readonly version: number }
  | {
      readonly ok: false;
      readonly commandId: string;
      /** The strata error code, or undefined for an error that is not a strata error. */
      readonly code: string | undefined;
      readonly message: string;
    };

/** A query-string setting the page cannot start without. */
export function requiredParam(params: URLSearchParams, name: string): string {
  const value = params.get(name);
  if (value === null || value === '') {
    throw new Error(`${location.pathname}: the ?${name}= parameter is required`);
  }
  return value;
}

/** Runs a command under a fresh command id and answers its outcome. */
export async function commandOutcome(
  execute: (commandId: string) => Promise<{ readonly version: number }>,
): Promise<CommandOutcome> {
  const commandId = newKsuid();
  try {
    return { ok: true, commandId, version: (await execute(commandId)).version };
  } catch (error) {
    return {
      ok: false,
      commandId,
      code: isStrataError(error) ? error.code : undefined,
      message: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    };
  }
}

/** What a page that failed to start says on `window`. */
export function startError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
