import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineAggregate } from '../aggregates/aggregate-definition.ts';
import type { CommandPrincipal } from '../aggregates/command-principal.ts';
import { isStrataError } from '../errors/errors.ts';
import { createInMemoryEventStore } from '../event-store/in-memory-event-store.ts';
import { defineEvent } from '../events/event-definition.ts';
import { createCommandHandler } from './command-handler.ts';
import { prepareCommand } from './prepare-command.ts';

// A note only its author may edit: the rule sees principal, state and parsed input.
const Written = defineEvent(
  'Written',
  z.object({ text: z.string(), by: z.string(), at: z.string(), ref: z.string() }),
);
const Note = defineAggregate({
  type: 'Note',
  events: [Written],
  initialState: () => ({ author: undefined as string | undefined, text: '' }),
  evolve: (state, event) => ({ author: state.author ?? event.data.by, text: event.data.text }),
}).withCommands((command) => ({
  write: command(
    z.object({ text: z.string().trim() }),
    (_state, { text }, { principal, now, newId }) => [
      {
        type: 'Written',
        data: { text, by: principal?.userId ?? '?', at: now.toISOString(), ref: newId() },
      },
    ],
    {
      allow: ({ principal, state, input }) =>
        principal !== undefined &&
        (state.author === undefined || state.author === principal.userId) &&
        input.text !== 'forbidden word',
    },
  ),
}));

const ann: CommandPrincipal = { userId: 'ann', tenant: 'acme', claims: { role: 'editor' } };
const bob: CommandPrincipal = { userId: 'bob', tenant: 'acme', claims: {} };

describe('command rules and the decide context', () => {
  it('decide sees the principal, the time and the id source of the call', async () => {
    let ids = 0;
    const handler = createCommandHandler({
      store: createInMemoryEventStore(),
      newId: () => `id-${++ids}`,
      clock: () => new Date('2026-01-01T00:00:00Z'),
    });
    const now = new Date('2026-12-02T10:00:00Z');
    const { events } = await handler.execute(
      Note,
      'n1',
      'write',
      { text: 'hi' },
      { principal: ann, now },
    );
    expect(events[0]?.data).toEqual({
      text: 'hi',
      by: 'ann',
      at: now.toISOString(),
      ref: expect.stringMatching(/^id-/),
    });
    expect(events[0]?.occurredAt).toBe(now.toISOString());
  });

  it('a rule that refuses is FORBIDDEN before decide runs, and nothing is stored', async () => {
    const store = createInMemoryEventStore();
    const handler = createCommandHandler({ store, principal: ann });
    await handler.execute(Note, 'n1', 'write', { text: 'mine' });
    // Another user, on a note ann wrote: refused with the rule's code.
    const refused = await handler
      .execute(Note, 'n1', 'write', { text: 'theirs' }, { principal: bob })
      .catch((error: unknown) => error);
    expect(isStrataError(refused, 'FORBIDDEN')).toBe(true);
    expect((refused as Error).message).toBe('User bob may not run Note.write on n1');
    // Nobody signed in, and a refused input (the rule sees it parsed: trimmed).
    const anonymous = createCommandHandler({ store });
    await expect(anonymous.execute(Note, 'n2', 'write', { text: 'x' })).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: 'Nobody signed in may not run Note.write on n2',
    });
    await expect(
      handler.execute(Note, 'n1', 'write', { text: '  forbidden word ' }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect((await store.readAll({ limit: 100 })).events.map((e) => e.data)).toEqual([
      expect.objectContaining({ text: 'mine', by: 'ann' }),
    ]);
  });

  it('the handler principal is the default; a call names another', async () => {
    const handler = createCommandHandler({ store: createInMemoryEventStore(), principal: bob });
    const { events } = await handler.execute(
      Note,
      'n3',
      'write',
      { text: 'x' },
      { principal: ann },
    );
    expect(events[0]?.data).toMatchObject({ by: 'ann' });
    await expect(handler.execute(Note, 'n3', 'write', { text: 'y' })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
  });

  it('prepareCommand checks the rule on the state it decides on (a rebase, the server)', () => {
    const write = prepareCommand(Note, 'write', { text: 'x' });
    const on = {
      aggregateId: 'n4',
      version: 1,
      now: new Date(),
      metadata: { commandId: 'c', correlationId: 'c', causationId: 'c' },
      newId: () => 'id',
    };
    const state = { author: 'ann', text: 'old' };
    expect(write.decide({ ...on, state, principal: ann }).events).toHaveLength(1);
    expect(() => write.decide({ ...on, state, principal: bob })).toThrow(/may not run/);
    expect(() => write.decide({ ...on, state })).toThrow(/Nobody signed in/);
  });
});
