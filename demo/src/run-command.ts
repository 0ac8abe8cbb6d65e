/** Commands started from the UI that have not yet been stored (or failed). */
const inFlight = new Set<Promise<unknown>>();

/**
 * Runs a command from an event handler. A command can fail for reasons the UI cannot rule out
 * (another tab removed the todo a moment ago, storage is full); the live queries keep showing
 * the true state, so the failure is only logged.
 *
 * Until it settles the command counts as in flight (see `commandsSettled`): its events and
 * pending command are being written to IndexedDB in one transaction, which a page unload would
 * abort.
 */
export function runCommand(command: Promise<unknown>): void {
  inFlight.add(command);
  command
    .finally(() => inFlight.delete(command))
    .catch((error: unknown) => console.error('Command failed:', error));
}

/**
 * Resolves once no command started with `runCommand` is still being written, including ones
 * started meanwhile. Before a reload (an app update), so the reload never cuts a write short: a
 * stored command is pending in IndexedDB and syncs after the reload; a command cut short would
 * be gone.
 */
export async function commandsSettled(): Promise<void> {
  while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
}
