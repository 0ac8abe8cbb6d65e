import { InternalError, UnavailableError } from '@strata/core';
import { describe, expect, it, vi } from 'vitest';
import { createSharedConnection } from './shared-connection.ts';
import type { ConnectionState } from './sync-status.ts';

const at = new Date('2026-01-02T03:04:05.000Z');

function setUp() {
  const written: ConnectionState[] = [];
  const onShared = vi.fn();
  const connection = createSharedConnection({
    write: async (state) => {
      written.push(state);
    },
    clock: () => at,
    onShared,
  });
  return { connection, written, onShared };
}

describe('createSharedConnection', () => {
  it('starts disconnected and not caught up, and writes only changes', async () => {
    const { connection, written, onShared } = setUp();
    expect(connection.current()).toEqual({
      connected: false,
      catchUp: { received: 0, done: false },
    });
    await connection.share({ connected: false });
    expect(written).toEqual([]);
    await connection.share({ connected: true, catchUp: { received: 3, done: true } });
    await connection.share({ connected: true });
    expect(written).toEqual([{ connected: true, catchUp: { received: 3, done: true } }]);
    // Told after every share, changed or not (whenSynced checks then).
    expect(onShared).toHaveBeenCalledTimes(3);
  });

  it('keeps the last error until a success clears it', async () => {
    const { connection, written } = setUp();
    await connection.fail(new UnavailableError('server down'));
    expect(connection.current().lastError).toEqual({
      code: 'UNAVAILABLE',
      message: 'server down',
      at: at.toISOString(),
    });
    await connection.share({ connected: true });
    expect(connection.current().lastError?.code).toBe('UNAVAILABLE');
    await connection.share({ lastError: undefined });
    expect(connection.current()).not.toHaveProperty('lastError');
    expect(written).toHaveLength(3);
  });

  it('shares anything thrown: strata errors by code, the rest as INTERNAL', async () => {
    const { connection } = setUp();
    await connection.fail(new InternalError('bug'));
    expect(connection.current().lastError?.code).toBe('INTERNAL');
    await connection.fail(new TypeError('not a function'));
    expect(connection.current().lastError).toMatchObject({
      code: 'INTERNAL',
      message: 'not a function',
    });
    await connection.fail('a string');
    expect(connection.current().lastError?.message).toBe('a string');
  });

  it('a failed write rejects share but never fail (the loops retry regardless)', async () => {
    const onShared = vi.fn();
    const connection = createSharedConnection({
      write: () => Promise.reject(new Error('quota')),
      clock: () => at,
      onShared,
    });
    await expect(connection.share({ connected: true })).rejects.toThrow('quota');
    await expect(connection.fail(new Error('offline'))).resolves.toBeUndefined();
    expect(onShared).not.toHaveBeenCalled();
  });

  it('is never caught up while a re-bootstrap is in progress, whatever a page or stream says', async () => {
    const { connection } = setUp();
    const rebootstrap = { reason: 'the log id changed', since: at.toISOString() };
    await connection.share({ catchUp: { received: 5, done: true }, rebootstrap });
    expect(connection.current().catchUp).toEqual({ received: 5, done: false });
    await connection.share({ connected: true, catchUp: { received: 9, total: 9, done: true } });
    expect(connection.current().catchUp).toEqual({ received: 9, total: 9, done: false });
    // Its end clears it, and the catch-up may be done again.
    await connection.share({ catchUp: { received: 9, done: true }, rebootstrap: undefined });
    expect(connection.current()).not.toHaveProperty('rebootstrap');
    expect(connection.current().catchUp.done).toBe(true);
  });
});
