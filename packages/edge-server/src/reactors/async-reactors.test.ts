import type { AsyncReactor, StoredEvent } from '@strata/core';
import { Todo } from '@strata/example-todo';
import { describe, expect, it } from 'vitest';
import { useMigratedPglite } from '../../test/fixtures/migrated-pglite.ts';
import { appendEvents } from '../../test/fixtures/outbox/append-events.ts';
import { createOutboxRelay } from '../outbox/outbox-relay.ts';
import { outboxWriter } from '../outbox/outbox-writer.ts';
import { pgliteDatabase } from '../postgres/pglite-database.ts';
import { createPostgresEventStore } from '../postgres/postgres-event-store.ts';
import { asyncReactorOutbox } from './async-reactors.ts';

const pglite = useMigratedPglite();

describe('asyncReactorOutbox', () => {
  it('runs each reactor after commit through the outbox, on the events it receives', async () => {
    const seen: Record<string, string[]> = { 'todo-mailer': [], 'audit-all': [] };
    let mailerFailures = 1;
    const reactors: AsyncReactor[] = [
      {
        name: 'todo-mailer',
        aggregate: Todo,
        react(event: StoredEvent) {
          if (mailerFailures-- > 0) throw new Error('mail server down');
          seen['todo-mailer']?.push(event.type);
        },
      },
      { name: 'audit-all', react: (event) => void seen['audit-all']?.push(event.type) },
    ];
    const outbox = asyncReactorOutbox(reactors);
    const db = pgliteDatabase(pglite());
    const store = createPostgresEventStore(db, {
      tenant: 'reactors',
      appendHooks: [outboxWriter(outbox.routes)],
    });
    await appendEvents(store, { aggregateType: 'Todo', aggregateId: 'todo-1' }, ['TodoAdded']);
    await appendEvents(store, { aggregateType: 'Note', aggregateId: 'note-1' }, ['Noted']);

    // Committed, not yet reacted to: reactors run only when the relay delivers.
    expect(seen).toEqual({ 'todo-mailer': [], 'audit-all': [] });
    const { rows } = await db.query<{ destination: string }>(
      `SELECT destination FROM strata_outbox WHERE tenant = 'reactors' ORDER BY id`,
    );
    expect(rows.map((row) => row.destination)).toEqual(['todo-mailer', 'audit-all', 'audit-all']);

    const relay = createOutboxRelay({
      database: db,
      sinks: outbox.sinks,
      backoff: { initialDelayMs: 0 },
      onError: () => undefined,
    });
    expect(await relay.runOnce()).toMatchObject({ claimed: 3, delivered: 2, retrying: 1 });
    expect(await relay.runOnce()).toMatchObject({ claimed: 1, delivered: 1 });
    expect(seen).toEqual({ 'todo-mailer': ['TodoAdded'], 'audit-all': ['TodoAdded', 'Noted'] });
  });

  it('refuses two reactors of one name', () => {
    const reactor: AsyncReactor = { name: 'twice', react: () => undefined };
    expect(() => asyncReactorOutbox([reactor, reactor])).toThrow(/named "twice"/);
  });
});
