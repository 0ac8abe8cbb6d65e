import { createTestDatabase, type TestDatabase, testPostgres } from '@strata/tooling/postgres/neon';
import { bearerToken, commit, syncClient, todoEvent } from '@strata/tooling/sync/sync-client';
import { runInWorkerd, type WorkerdHandle } from '@strata/tooling/workerd/run-in-workerd';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  parsePrometheusText,
  sampleValue,
} from '../../test/fixtures/observability/parse-prometheus-text.ts';
import { migrate } from '../migrations/migrations.ts';
import { neonDatabase } from '../postgres/neon-database.ts';

// The Workers entry (worker.ts with the sample domain: test/fixtures/runtimes/test-worker.ts) in
// real workerd, metrics turned on by the STRATA_METRICS_TOKEN binding. Every request builds an
// app of its own there: the counters must still add up across requests (one set per isolate).
const SECRET = 'workerd-metrics-jwt-secret';
const METRICS_TOKEN = 'workerd-metrics-token-0123456789';
let db: TestDatabase;
let worker: WorkerdHandle;

beforeAll(async () => {
  db = await createTestDatabase('strata_workerd_metrics');
  const pool = db.createPool();
  try {
    await migrate(neonDatabase(pool));
  } finally {
    await pool.end();
  }
  worker = await runInWorkerd({
    entry: new URL('../../test/fixtures/runtimes/test-worker.ts', import.meta.url),
    compatibilityFlags: ['enable_request_signal'],
    bindings: {
      DATABASE_URL: db.url,
      JWT_SECRET: SECRET,
      NEON_WS_PROXY: `127.0.0.1:${testPostgres().wsProxyPort}`,
      STRATA_METRICS_TOKEN: METRICS_TOKEN,
    },
  });
});

afterAll(async () => {
  await worker?.dispose();
  await db?.drop();
});

async function scrape() {
  const response = await worker.fetch('/metrics', {
    headers: { authorization: `Bearer ${METRICS_TOKEN}` },
  });
  expect(response.status).toBe(200);
  expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  return parsePrometheusText(await response.text());
}

describe('metrics in workerd', () => {
  it('count pushes and rejections across requests of one isolate, and read the database', async () => {
    const client = syncClient((path, init) => worker.fetch(path, init), {
      token: await bearerToken(SECRET, 'tenant-workerd-metrics'),
    });
    const before = await scrape();
    expect(sampleValue(before, 'strata_runtime_info', { runtime: 'workerd' })).toBe(1);
    await client.push(commit('w1', todoEvent('w-a', 1)));
    const conflict = await client.push(commit('w2', todoEvent('w-a', 1)));
    expect(conflict.results[0]).toMatchObject({ status: 'rejected', code: 'VERSION_CONFLICT' });
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) =>
      (sampleValue(after, name, labels) ?? 0) - (sampleValue(before, name, labels) ?? 0);
    expect(delta('strata_pushes_total', { protocol: 'v1' })).toBe(2);
    expect(delta('strata_commits_accepted_total', { protocol: 'v1' })).toBe(1);
    expect(
      delta('strata_commits_rejected_total', { protocol: 'v1', code: 'VERSION_CONFLICT' }),
    ).toBe(1);
    expect(delta('strata_events_appended_total')).toBe(1);
    // Backlogs are read through the request's own pool.
    expect(sampleValue(after, 'strata_metrics_database_read_success')).toBe(1);
    expect(sampleValue(after, 'strata_consumer_groups')).toBe(0);
    const text = await (
      await worker.fetch('/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
    ).text();
    expect(text).not.toContain('tenant-workerd-metrics');
    expect(text).not.toContain('w-a');
  });

  it('answers 401 problem+json without the secret', async () => {
    const response = await worker.fetch('/metrics', {
      headers: { authorization: `Bearer ${await bearerToken(SECRET, 'tenant-workerd-metrics')}` },
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    const body = (await response.json()) as { code: string; requestId: string };
    expect(body).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(body.requestId).toBe(response.headers.get('x-request-id'));
  });
});
