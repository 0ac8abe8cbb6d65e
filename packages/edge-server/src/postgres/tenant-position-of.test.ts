import { describe, expect, it } from 'vitest';
import type { SqlExecutor } from './sql-database.ts';
import { tenantPositionOf } from './tenant-position-of.ts';

function fakeExecutor(rows: unknown[]) {
  const calls: { text: string; params: readonly unknown[] | undefined }[] = [];
  const executor: SqlExecutor = {
    async query<TRow>(text: string, params?: readonly unknown[]) {
      calls.push({ text, params });
      return { rows: rows as TRow[] };
    },
  };
  return { executor, calls };
}

describe('tenantPositionOf', () => {
  it('reads a tenant cursor, or its absence, without a query', async () => {
    const { executor, calls } = fakeExecutor([]);
    expect(await tenantPositionOf(executor, 'acme', 't42')).toBe(42);
    expect(await tenantPositionOf(executor, 'acme', undefined)).toBe(0);
    expect(await tenantPositionOf(executor, 'acme', '')).toBe(0);
    expect(calls).toEqual([]);
  });

  it('translates a global cursor from before tenant positions in the tenant’s rows', async () => {
    const { executor, calls } = fakeExecutor([{ position: '6' }]);
    expect(await tenantPositionOf(executor, 'acme', '977.1001')).toBe(6);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.params).toEqual(['acme', '977', 1001]);
    expect(calls[0]?.text).toContain('min(tenant_position) - 1');
  });

  it('is INVALID_CURSOR for anything else', async () => {
    const { executor } = fakeExecutor([]);
    await expect(tenantPositionOf(executor, 'acme', 'x9')).rejects.toMatchObject({
      code: 'INVALID_CURSOR',
    });
  });
});
