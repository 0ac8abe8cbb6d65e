/**
 * The log line never holds a secret or data (issue 12, item 3): a real PGlite error carries the
 * query and its parameters, a pool error its client (whose config holds the connection string);
 * printing the object, as console.error(error) did, leaks them. describeError must not.
 */
import { inspect } from 'node:util';
import type { PGlite } from '@electric-sql/pglite';
import { Client, DatabaseError } from '@neondatabase/serverless';
import { UnavailableError } from '@strata/core';
import { createMigratedPglite } from '@strata/tooling/pglite/test-pglite';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { singleTenant } from '../app/auth.ts';
import { createSyncApp } from '../app/create-sync-app.ts';
import { pgliteDatabase } from '../postgres/pglite-database.ts';
import type { SqlDatabase } from '../postgres/sql-database.ts';
import { describeError, safeErrorReporter, scrubMessage } from './describe-error.ts';

const PAYLOAD = 'PAYLOAD-MARKER-7f3a';
const PASSWORD = 'hunter2-PASSWORD-9c1';
const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2lnbmF0dXJl';

let pglite: PGlite;
beforeAll(async () => {
  pglite = await createMigratedPglite();
}, 60_000);
afterAll(async () => {
  await pglite.close();
});

/** A PGlite error as a failing event insert raises it: the payload in the message and params. */
async function pgliteErrorWithPayload(): Promise<unknown> {
  return pglite
    .query('SELECT $1::int, $2::jsonb', [PAYLOAD, JSON.stringify({ card: PAYLOAD })])
    .catch((error: unknown) => error);
}

/** An idle-connection error as the pool emits it: pg-pool sets `error.client` to the client. */
function poolErrorWithPassword(): DatabaseError {
  const error = new DatabaseError(
    'terminating connection due to administrator command',
    116,
    'error',
  );
  return Object.assign(error, {
    code: '57P01',
    severity: 'FATAL',
    client: new Client({ connectionString: `postgres://app:${PASSWORD}@db.example:5432/app` }),
  });
}

describe('describeError', () => {
  it('keeps name, SQLSTATE and the message of a PGlite error, without its payload', async () => {
    const error = await pgliteErrorWithPayload();
    expect(inspect(error)).toContain(PAYLOAD); // what logging the object used to print
    const line = describeError(error);
    expect(line).not.toContain(PAYLOAD);
    expect(line).toContain('[22P02]');
    expect(line).toContain('invalid input syntax for type integer');
  });

  it('keeps a pool error readable without the password from its client config', () => {
    const error = poolErrorWithPassword();
    expect(inspect(error, { depth: 4 })).toContain(PASSWORD);
    const line = describeError(error);
    expect(line).toBe('DatabaseError [57P01]: terminating connection due to administrator command');
  });

  it('describes a cause one level down, scrubbed the same way', async () => {
    const cause = await pgliteErrorWithPayload();
    const line = describeError(new UnavailableError('The database is unavailable', { cause }));
    expect(line).toMatch(
      /^UnavailableError \[UNAVAILABLE\]: The database is unavailable \(cause: /,
    );
    expect(line).not.toContain(PAYLOAD);
  });

  it('scrubs URLs, tokens, password pairs, quoted literals and key values', () => {
    const scrubbed = scrubMessage(
      [
        `connect to postgres://app:${PASSWORD}@db/app failed`,
        `Bearer ${TOKEN}`,
        `token ${TOKEN}`,
        `password=${PASSWORD}`,
        `value "${PAYLOAD}" and '${PAYLOAD}'`,
        `Key (tenant, id)=(acme, ${PAYLOAD}) already exists`,
        `Unexpected token, "${PAYLOAD}`,
      ].join('; '),
    );
    for (const secret of [PASSWORD, TOKEN, PAYLOAD, 'acme']) expect(scrubbed).not.toContain(secret);
    expect(scrubbed).toContain('already exists');
  });

  it('describes values that are not errors by their type only', () => {
    expect(describeError(`${PAYLOAD}`)).toBe('a thrown string');
    expect(describeError({ message: `password=${PASSWORD}` })).toBe('Object: password=<redacted>');
  });
});

describe('default reporters', () => {
  it('createSyncApp logs a 500 on PGlite as one scrubbed line', async () => {
    const real = pgliteDatabase(pglite);
    // Every read fails as a real PGlite error carrying the payload in its query parameters.
    const failing: SqlDatabase = {
      ...real,
      query: async () => {
        throw await pgliteErrorWithPayload();
      },
    };
    const app = createSyncApp({ database: failing, authenticate: singleTenant() });
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const response = await app.request('/v1/pull', {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(response.status).toBe(500);
      expect(JSON.stringify(await response.json())).not.toContain(PAYLOAD);
      const lines = logged.mock.calls.map((call) => call.map(String).join(' '));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^\[strata\] request failed: \w+ \[22P02\]: invalid input syntax/);
      for (const line of lines) {
        expect(line).not.toContain(PAYLOAD);
        expect(line).not.toContain(TOKEN);
      }
      // Only strings were logged, never the error object.
      expect(logged.mock.calls.flat().every((value) => typeof value === 'string')).toBe(true);
    } finally {
      logged.mockRestore();
      await app.close();
    }
  });

  it('safeErrorReporter logs a pool error without the password', () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      safeErrorReporter('[strata] database error')(poolErrorWithPassword());
      expect(logged.mock.calls).toEqual([
        [
          '[strata] database error: DatabaseError [57P01]: terminating connection due to administrator command',
        ],
      ]);
    } finally {
      logged.mockRestore();
    }
  });
});
