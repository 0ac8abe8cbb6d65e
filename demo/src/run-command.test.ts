import { afterEach, describe, expect, it, vi } from 'vitest';
import { commandsSettled, runCommand } from './run-command.ts';

// The update prompt reloads only once `commandsSettled()` resolves: a reload in the middle of a
// command's IndexedDB transaction would lose the command.

/** A promise the test settles by hand. */
function deferred() {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}

/** Whether `promise` has settled by the time pending callbacks have run. */
async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(() => {
    settled = true;
  });
  await new Promise((resolve) => setTimeout(resolve, 0));
  return settled;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('commandsSettled', () => {
  it('resolves at once when no command is in flight', async () => {
    expect(await isSettled(commandsSettled())).toBe(true);
  });

  it('waits for every command in flight, including ones started while it waits', async () => {
    const first = deferred();
    const second = deferred();
    runCommand(first.promise);
    const settled = commandsSettled();
    runCommand(second.promise);
    expect(await isSettled(settled)).toBe(false);
    first.resolve();
    expect(await isSettled(settled)).toBe(false);
    second.resolve();
    expect(await isSettled(settled)).toBe(true);
  });

  it('counts a failed command as settled (and logs it)', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const failing = deferred();
    runCommand(failing.promise);
    const settled = commandsSettled();
    expect(await isSettled(settled)).toBe(false);
    failing.reject(new Error('storage is full'));
    expect(await isSettled(settled)).toBe(true);
    expect(error).toHaveBeenCalledWith('Command failed:', expect.any(Error));
  });
});
