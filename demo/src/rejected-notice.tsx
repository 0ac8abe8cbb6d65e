import { useRejectedCommands } from '@strata/browser/react';
import { runCommand } from './run-command.ts';

/**
 * Commands another device made invalid (e.g. renaming a todo someone else removed): the sync
 * client rebased them, they failed, and the user should know before dismissing them.
 */
export function RejectedNotice() {
  const { rejected, dismiss } = useRejectedCommands();
  if (rejected.length === 0) return null;
  return (
    <div className="rejected-notice" role="alert">
      <p>These changes could not be applied:</p>
      <ul>
        {rejected.map((row) => (
          <li key={row.seq ?? row.commandId} data-command={row.command}>
            <span className="rejected-command">{describeCommand(row.command, row.input)}</span>
            {' — '}
            <span className="rejected-reason">{row.reason}</span>
            <button
              type="button"
              className="dismiss"
              onClick={() => {
                if (row.seq !== undefined) runCommand(dismiss(row.seq));
              }}
            >
              Dismiss
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

function describeCommand(command: string, input: unknown): string {
  const title = (input as { title?: unknown } | null)?.title;
  return typeof title === 'string' ? `${command} “${title}”` : command;
}
