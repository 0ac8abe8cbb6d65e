import { useState } from 'react';
import { runCommand } from './run-command.ts';

/**
 * A checkbox's value as the user just chose it, until the live data catches up. A command's
 * effect reaches the UI through IndexedDB and a live query a moment after the command resolves;
 * a controlled checkbox would snap back until then (React's `useOptimistic` too: it reverts when
 * the action resolves, still before the live query has read the change).
 *
 * The choice holds while `basis` (the live value it was made on: live queries deliver new
 * objects) is unchanged, and is dropped at once if the command fails.
 */
export function useChoice<T>(
  live: T,
  basis: unknown,
): readonly [T, (value: T, command: Promise<unknown>) => void] {
  const [choice, setChoice] = useState<{ readonly value: T; readonly basis: unknown }>();
  const shown = choice !== undefined && Object.is(choice.basis, basis) ? choice.value : live;
  const choose = (value: T, command: Promise<unknown>) => {
    const made = { value, basis };
    setChoice(made);
    runCommand(
      command.catch((error: unknown) => {
        setChoice((current) => (current === made ? undefined : current));
        throw error;
      }),
    );
  };
  return [shown, choose];
}
