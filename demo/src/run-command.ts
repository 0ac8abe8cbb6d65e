/**
 * Runs a command from an event handler. A command can fail for reasons the UI cannot rule out
 * (another tab removed the todo a moment ago, storage is full); the live queries keep showing
 * the true state, so the failure is only logged.
 */
export function runCommand(command: Promise<unknown>): void {
  command.catch((error: unknown) => console.error('Command failed:', error));
}
