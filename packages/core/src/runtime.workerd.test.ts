import { runInWorkerd, type WorkerdHandle } from '@strata/tooling/workerd/run-in-workerd';
import KSUID from 'ksuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RuntimeCheckReport } from '../test/fixtures/runtime-check.ts';

// Core must run in Cloudflare's workerd as it is: no nodejs_compat flag, no polyfills.
let worker: WorkerdHandle;
let report: RuntimeCheckReport;

beforeAll(async () => {
  worker = await runInWorkerd({
    entry: new URL('../test/fixtures/core-worker.ts', import.meta.url),
  });
  const response = await worker.fetch('/');
  expect(response.status).toBe(200);
  report = (await response.json()) as RuntimeCheckReport;
});

afterAll(async () => {
  await worker?.dispose();
});

describe('@strata/core in workerd', () => {
  it('passes the event store contract on the in-memory store', () => {
    expect(report.contract.filter((result) => !result.passed)).toEqual([]);
    expect(report.contract.length).toBeGreaterThan(20);
  });

  it('executes commands, snapshots and loads', () => {
    expect(report.state).toEqual({ count: 8, resets: 0 });
    expect([report.version, report.snapshotVersion]).toEqual([3, 3]);
    expect(report.validationCode).toBe('VALIDATION_FAILED');
    expect(report.pushAccepted).toBe(true);
  });

  it('makes KSUIDs that the ksuid package parses in Node', () => {
    for (const [index, id] of report.eventIds.entries()) {
      const parsed = KSUID.parse(id);
      expect(parsed.string).toBe(id);
      expect(parsed.timestamp + 1_400_000_000).toBe(report.idSeconds[index]);
      expect(Math.abs(Date.now() / 1000 - parsed.timestamp - 1_400_000_000)).toBeLessThan(600);
    }
  });
});
