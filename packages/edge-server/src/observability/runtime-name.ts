/**
 * Which runtime runs the app, for the `strata_runtime_info` label: one of a fixed set, told apart
 * by what each runtime defines (workerd's user agent, Bun's and Deno's globals, Node's version).
 */

/** Every value `runtimeName` answers. */
export const RUNTIME_NAMES = ['workerd', 'bun', 'deno', 'node', 'other'] as const;

/** The runtime's name. */
export type RuntimeName = (typeof RUNTIME_NAMES)[number];

/**
 * The runtime this code runs on.
 *
 * @example
 * runtimeName(); // 'node' under Node, 'workerd' in Cloudflare Workers
 */
export function runtimeName(): RuntimeName {
  const scope = globalThis as {
    navigator?: { userAgent?: string };
    Bun?: unknown;
    Deno?: unknown;
    process?: { versions?: { node?: string } };
  };
  if (scope.navigator?.userAgent === 'Cloudflare-Workers') return 'workerd';
  if (scope.Bun !== undefined) return 'bun';
  if (scope.Deno !== undefined) return 'deno';
  if (typeof scope.process?.versions?.node === 'string') return 'node';
  return 'other';
}
