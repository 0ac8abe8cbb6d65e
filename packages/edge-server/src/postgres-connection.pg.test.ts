import type { Client, Pool, TestDatabase } from '@strata/tooling/postgres/neon';
import { createTestDatabase } from '@strata/tooling/postgres/neon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Each pg test file gets its own fresh database, dropped when the file ends.
let db: TestDatabase;
let pool: Pool;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = db.createPool();
  await pool.query('CREATE TABLE items (id int PRIMARY KEY, label text NOT NULL)');
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

describe('Postgres through the Neon driver', () => {
  it('runs a query on a Pool', async () => {
    const { rows } = await pool.query<{ answer: number; db: string }>(
      'SELECT 40 + $1::int AS answer, current_database() AS db',
      [2],
    );
    expect(rows).toEqual([{ answer: 42, db: db.name }]);
  });

  it('commits and rolls back transactions', async () => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`INSERT INTO items VALUES (1, 'kept')`);
      await client.query('COMMIT');

      await client.query('BEGIN');
      await client.query(`INSERT INTO items VALUES (2, 'dropped')`);
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    const { rows } = await pool.query('SELECT id, label FROM items ORDER BY id');
    expect(rows).toEqual([{ id: 1, label: 'kept' }]);
  });

  it('reads pg_current_xact_id() inside a transaction', async () => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const first = await client.query<{ xid: string }>('SELECT pg_current_xact_id()::text AS xid');
      const again = await client.query<{ xid: string }>('SELECT pg_current_xact_id()::text AS xid');
      await client.query('COMMIT');
      expect(first.rows[0]?.xid).toMatch(/^\d+$/);
      expect(again.rows[0]?.xid).toBe(first.rows[0]?.xid);
    } finally {
      client.release();
    }
  });

  it('delivers LISTEN/NOTIFY to a Neon Client', async () => {
    const listener: Client = db.createClient();
    await listener.connect();
    try {
      const received = new Promise<{ channel: string; payload: string | undefined }>((resolve) => {
        listener.on('notification', (message) => {
          resolve({ channel: message.channel, payload: message.payload });
        });
      });
      await listener.query('LISTEN strata_events');
      await pool.query(`SELECT pg_notify('strata_events', 'appended:1')`);
      await expect(received).resolves.toEqual({ channel: 'strata_events', payload: 'appended:1' });
    } finally {
      await listener.end();
    }
  });
});
