/**
 * The connection-loss classification over error shapes the drivers really raise: the Neon driver
 * made to fail live (a refused WebSocket, a server that never answers), its DatabaseError class
 * with the fields captured from Postgres 15 (pg_terminate_backend, pg_ctl stop), and PGlite.
 */
import type { PGlite } from '@electric-sql/pglite';
import { DatabaseError, neonConfig, Pool } from '@neondatabase/serverless';
import { isStrataError, UnavailableError, VersionConflictError } from '@strata/core';
import { createBlankPglite } from '@strata/tooling/pglite/test-pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import {
  DATABASE_RETRY_AFTER_SECONDS,
  isConnectionLoss,
  toDatabaseError,
} from './connection-errors.ts';
import { neonDatabase } from './neon-database.ts';
import { pgliteDatabase } from './pglite-database.ts';

/** A DatabaseError as the driver builds it from a server message (fields as captured). */
function databaseError(message: string, fields: Partial<DatabaseError>): DatabaseError {
  return Object.assign(new DatabaseError(message, message.length + 20, 'error'), fields);
}

let silent: WebSocketServer; // accepts, never answers
let silentPort = 0;
// One PGlite for the file (creating one takes seconds); the last test closes it.
let pglite: PGlite;

beforeAll(async () => {
  pglite = await createBlankPglite();
  silent = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => silent.once('listening', resolve));
  const address = silent.address();
  silentPort = typeof address === 'object' && address !== null ? address.port : 0;
  neonConfig.webSocketConstructor = WebSocket;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineTLS = false;
  neonConfig.pipelineConnect = false;
}, 60_000);
afterAll(async () => {
  await pglite.close().catch(() => undefined);
  for (const client of silent.clients) client.terminate();
  await new Promise((resolve) => silent.close(resolve));
});

/** The error a real Neon driver query raises when its WebSocket goes to `wsAddress`. */
async function neonFailure(wsAddress: string): Promise<unknown> {
  neonConfig.wsProxy = () => wsAddress;
  const pool = new Pool({
    connectionString: 'postgres://app:hunter2@db.invalid/app',
    connectionTimeoutMillis: 300,
  });
  pool.on('error', () => undefined);
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    return error;
  } finally {
    await pool.end().catch(() => undefined);
  }
  throw new Error('the query did not fail');
}

describe('isConnectionLoss', () => {
  it('is true for a refused connection (a WebSocket ErrorEvent wrapping ECONNREFUSED)', async () => {
    const error = await neonFailure('127.0.0.1:1/v1');
    expect((error as { constructor: { name: string } }).constructor.name).toBe('ErrorEvent');
    expect(isConnectionLoss(error)).toBe(true);
  });

  it('is true for a connection timeout of the Neon driver', async () => {
    const error = await neonFailure(`127.0.0.1:${silentPort}/v1`);
    expect(String(error)).toContain('Connection terminated due to connection timeout');
    expect(isConnectionLoss(error)).toBe(true);
  });

  it.each([
    [
      'pg_terminate_backend (FATAL 57P01)',
      '57P01',
      'terminating connection due to administrator command',
    ],
    [
      'crash shutdown (57P02)',
      '57P02',
      'terminating connection because of crash of another server process',
    ],
    ['starting up (57P03)', '57P03', 'the database system is starting up'],
    ['statement timeout (57014)', '57014', 'canceling statement due to statement timeout'],
    ['too many connections (53300)', '53300', 'sorry, too many clients already'],
    ['connection failure (class 08)', '08006', 'connection failure'],
  ])('is true for %s', (_, code, message) => {
    expect(isConnectionLoss(databaseError(message, { code, severity: 'FATAL' }))).toBe(true);
  });

  it.each([
    'Connection terminated unexpectedly', // pg_ctl stop -m immediate, mid-query and when connecting
    'Client has encountered a connection error and is not queryable', // a query after 57P01
    'timeout exceeded when trying to connect', // pg-pool: no free client in time
    'Cannot use a pool after calling end on the pool',
  ])('is true for the driver error "%s"', (message) => {
    expect(isConnectionLoss(new Error(message))).toBe(true);
  });

  it.each(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE'])(
    'is true for a socket %s',
    (code) => {
      expect(isConnectionLoss(Object.assign(new Error(`read ${code}`), { code }))).toBe(true);
    },
  );

  it('is false for data and constraint errors, even when a message quotes a loss', async () => {
    {
      const quoted = await pglite
        .query('SELECT $1::int', ['connection terminated unexpectedly'])
        .catch((caught: unknown) => caught);
      expect((quoted as { code?: string }).code).toBe('22P02');
      expect(isConnectionLoss(quoted)).toBe(false);
      await pglite.exec('CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1);');
      const duplicate = await pglite
        .query('INSERT INTO t VALUES (1)')
        .catch((caught: unknown) => caught);
      expect(isConnectionLoss(duplicate)).toBe(false);
    }
    expect(isConnectionLoss(new Error('boom'))).toBe(false);
    expect(isConnectionLoss('Connection terminated unexpectedly')).toBe(false);
    expect(isConnectionLoss(undefined)).toBe(false);
  });
});

describe('toDatabaseError', () => {
  it('turns a loss into UnavailableError with Retry-After and the original as cause', () => {
    const lost = new Error('Connection terminated unexpectedly');
    const mapped = toDatabaseError(lost);
    expect(mapped).toBeInstanceOf(UnavailableError);
    expect((mapped as UnavailableError).retryAfterSeconds).toBe(DATABASE_RETRY_AFTER_SECONDS);
    expect((mapped as UnavailableError).cause).toBe(lost);
    expect(toDatabaseError(mapped)).toBe(mapped); // mapping twice is harmless
  });

  it('passes other errors through untouched', () => {
    const unique = databaseError('duplicate key value violates unique constraint', {
      code: '23505',
    });
    expect(toDatabaseError(unique)).toBe(unique);
    const conflict = new VersionConflictError({ aggregateType: 'T', aggregateId: 'a' }, 1, 2);
    expect(toDatabaseError(conflict)).toBe(conflict);
  });
});

describe('the database layer maps losses', () => {
  it('neonDatabase: a query, and a transaction that cannot connect, throw UNAVAILABLE', async () => {
    neonConfig.wsProxy = () => '127.0.0.1:1/v1';
    const pool = new Pool({ connectionString: 'postgres://app:x@db.invalid/app' });
    const database = neonDatabase(pool);
    try {
      const failedQuery = await database.query('SELECT 1').catch((caught: unknown) => caught);
      expect(isStrataError(failedQuery, 'UNAVAILABLE')).toBe(true);
      const failedTx = await database
        .transaction((tx) => tx.query('SELECT 1'))
        .catch((caught: unknown) => caught);
      expect(isStrataError(failedTx, 'UNAVAILABLE')).toBe(true);
    } finally {
      await pool.end().catch(() => undefined);
    }
  });

  it('pgliteDatabase: a closed PGlite throws UNAVAILABLE; a bad query its own error', async () => {
    const database = pgliteDatabase(pglite);
    const bad = await database.query('SELECT $1::int', ['x']).catch((caught: unknown) => caught);
    expect((bad as { code?: string }).code).toBe('22P02');
    await pglite.close();
    const closed = await pglite.query('SELECT 1').catch((caught: unknown) => caught);
    expect(String(closed)).toContain('PGlite is closed');
    expect(isConnectionLoss(closed)).toBe(true);
    expect(isConnectionLoss(new Error('append failed', { cause: closed }))).toBe(true);
    const query = await database.query('SELECT 1').catch((caught: unknown) => caught);
    expect(isStrataError(query, 'UNAVAILABLE')).toBe(true);
    const tx = await database
      .transaction((t) => t.query('SELECT 1'))
      .catch((caught: unknown) => caught);
    expect(isStrataError(tx, 'UNAVAILABLE')).toBe(true);
  });
});
