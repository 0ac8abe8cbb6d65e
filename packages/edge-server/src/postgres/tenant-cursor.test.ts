import { CursorSchema, InvalidCursorError } from '@strata/core';
import { describe, expect, it } from 'vitest';
import { decodeClientCursor, encodeTenantCursor, TENANT_START_CURSOR } from './tenant-cursor.ts';

describe('tenant cursors', () => {
  it('round-trip a tenant position and fit the protocol cursor charset', () => {
    for (const position of [0, 1, 42, Number.MAX_SAFE_INTEGER]) {
      const cursor = encodeTenantCursor(position);
      expect(CursorSchema.safeParse(cursor).success).toBe(true);
      expect(decodeClientCursor(cursor)).toEqual({ kind: 'tenant', position });
    }
    expect(TENANT_START_CURSOR).toBe(encodeTenantCursor(0));
  });

  it('read absent and empty as the start', () => {
    expect(decodeClientCursor(undefined)).toEqual({ kind: 'tenant', position: 0 });
    expect(decodeClientCursor('')).toEqual({ kind: 'tenant', position: 0 });
  });

  it('keep accepting the global cursors handed out before tenant positions', () => {
    expect(decodeClientCursor('977.1001')).toEqual({
      kind: 'global',
      cursor: { transactionId: '977', position: 1001 },
    });
    expect(decodeClientCursor('0.0')).toEqual({
      kind: 'global',
      cursor: { transactionId: '0', position: 0 },
    });
  });

  it('reject anything else as INVALID_CURSOR', () => {
    const junk = [
      't',
      't-1',
      't01',
      't1.5',
      'T5',
      `t${'9'.repeat(17)}`,
      't9007199254740993',
      'x5',
      '5',
      '1.',
      '.1',
      `${2n ** 64n}.1`,
      'not a cursor!',
      't5\u0000',
    ];
    for (const text of junk) {
      expect(() => decodeClientCursor(text), text).toThrow(InvalidCursorError);
    }
  });

  it('refuses to encode what is not a tenant position', () => {
    for (const position of [-1, 1.5, Number.NaN, 2 ** 53]) {
      expect(() => encodeTenantCursor(position)).toThrow(RangeError);
    }
  });
});
