import { describe, expect, it } from 'vitest';
import { recordingExecutor } from '../../test/fixtures/recording-executor.ts';
import { tenantPositionOf } from './tenant-position-of.ts';

describe('tenantPositionOf', () => {
  it('reads a tenant cursor, or its absence, without a query', async () => {
    const { executor, calls } = recordingExecutor([]);
    expect(await tenantPositionOf(executor, 'acme', 't42')).toBe(42);
    expect(await tenantPositionOf(executor, 'acme', undefined)).toBe(0);
    expect(await tenantPositionOf(executor, 'acme', '')).toBe(0);
    expect(calls).toEqual([]);
  });

  it('translates a global cursor from before tenant positions in the tenant’s rows', async () => {
    const { executor, calls } = recordingExecutor([{ position: '6' }]);
    expect(await tenantPositionOf(executor, 'acme', '977.1001')).toBe(6);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.params).toEqual(['acme', '977', 1001]);
    expect(calls[0]?.text).toContain('min(tenant_position) - 1');
  });

  it('is INVALID_CURSOR for anything else', async () => {
    const { executor } = recordingExecutor([]);
    await expect(tenantPositionOf(executor, 'acme', 'x9')).rejects.toMatchObject({
      code: 'INVALID_CURSOR',
    });
  });
});
