import { describe, expect, it } from 'vitest';
import { runCoreChecks } from '../test/fixtures/runtime-check.ts';
import { createInMemoryEventStore } from './event-store/in-memory-event-store.ts';
import { isKsuid } from './ids/ksuid.ts';
import { describeEventStoreContract } from './testing/describe-event-store-contract.ts';

// Core runs unchanged in real Chromium: the contract suite through Vitest, and the same
// end-to-end checks that run in workerd.
describeEventStoreContract('in-memory, in Chromium', () => createInMemoryEventStore());

describe('@strata/core in Chromium', () => {
  it('executes commands, snapshots, loads and validates', async () => {
    expect(navigator.userAgent).toContain('Chrome');
    const report = await runCoreChecks();
    expect(report.contract.filter((result) => !result.passed)).toEqual([]);
    expect(report.state).toEqual({ count: 8, resets: 0 });
    expect([report.version, report.snapshotVersion]).toEqual([3, 3]);
    expect(report.validationCode).toBe('VALIDATION_FAILED');
    expect(report.pushAccepted).toBe(true);
    expect(report.eventIds.every(isKsuid)).toBe(true);
  });
});
