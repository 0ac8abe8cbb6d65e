/** `/readyz` on PGlite: ready only when the database answers and every migration is applied. */
import type { PGlite } from '@electric-sql/pglite';
import { PROBLEM_JSON } from '@strata/core';
import { createBlankPglite } from '@strata/tooling/pglite/test-pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS, migrate } from '../migrations/migrations.ts';
import { schemaStatus } from '../migrations/schema-status.ts';
import { DATABASE_RETRY_AFTER_SECONDS } from '../postgres/connection-errors.ts';
import { pgliteDatabase } from '../postgres/pglite-database.ts';
import type { SqlDatabase } from '../postgres/sql-database.ts';
import { singleTenant } from './auth.ts';
import { createSyncApp } from './create-sync-app.ts';
import { checkReadiness } from './readiness-route.ts';

// One PGlite (creating one takes seconds): migrated step by step as the tests go.
let pglite: PGlite;
let database: SqlDatabase;
beforeAll(async () => {
  pglite = await createBlankPglite();
  database = pgliteDatabase(pglite);
}, 60_000);
afterAll(async () => {
  await pglite.close().catch(() => undefined);
});

const readyz = async () => {
  const app = createSyncApp({ database, authenticate: singleTenant() });
  try {
    const response = await app.request('/readyz');
    return { response, body: (await response.json()) as Record<string, unknown> };
  } finally {
    await app.close();
  }
};

const expectUnavailable = ({ response, body }: Awaited<ReturnType<typeof readyz>>) => {
  expect(response.status).toBe(503);
  expect(response.headers.get('content-type')).toBe(PROBLEM_JSON);
  expect(response.headers.get('retry-after')).toBe(String(DATABASE_RETRY_AFTER_SECONDS));
  expect(body.code).toBe('UNAVAILABLE');
};

describe('GET /readyz', () => {
  it('is 503 on a database never migrated, listing every version as pending', async () => {
    expect(await schemaStatus(database)).toEqual({
      applied: [],
      pending: MIGRATIONS.map((m) => m.version),
    });
    const answer = await readyz();
    expectUnavailable(answer);
    expect(String(answer.body.detail ?? answer.body.title)).toMatch(/Migrations .* not applied/);
  });

  it('is 503 while a migration is missing', async () => {
    await migrate(database, MIGRATIONS.slice(0, 2));
    const status = await schemaStatus(database);
    expect(status.applied).toEqual([1, 2]);
    expect(status.pending).toEqual(MIGRATIONS.slice(2).map((m) => m.version));
    expectUnavailable(await readyz());
  });

  it('is 200 once every migration is applied', async () => {
    await migrate(database);
    const { response, body } = await readyz();
    expect(response.status).toBe(200);
    expect(body).toEqual({ ok: true, schemaVersion: MIGRATIONS.at(-1)?.version });
  });

  it('is 503 when the database does not answer in time', async () => {
    const hanging: SqlDatabase = {
      query: () => new Promise(() => undefined),
      transaction: () => new Promise(() => undefined),
    };
    const error = await checkReadiness({ database: hanging, timeoutMs: 20 }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({
      code: 'UNAVAILABLE',
      retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS,
    });
  });

  it('is 503 when the database is gone (PGlite closed), and /healthz is still 200', async () => {
    await pglite.close();
    expectUnavailable(await readyz());
    const app = createSyncApp({ database, authenticate: singleTenant() });
    expect((await app.request('/healthz')).status).toBe(200);
    await app.close();
  });
});
