import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Counter } from '../../test/fixtures/counter.ts';
import { defineAggregate } from '../aggregates/aggregate-definition.ts';
import { createCommandHandler } from '../commands/command-handler.ts';
import { loadAggregate } from '../commands/load-aggregate.ts';
import { NO_STREAM } from '../event-store/expected-version.ts';
import { createInMemoryEventStore } from '../event-store/in-memory-event-store.ts';
import { defineEvent } from '../events/event-definition.ts';
import { newKsuid } from '../ids/ksuid.ts';
import { forgottenPayload, isForgottenEvent } from './forgotten.ts';

const marker = forgottenPayload('k1', '2026-03-01T00:00:00.000Z');
const raw = (type: string, schemaVersion: number, data: unknown) => ({
  id: newKsuid(),
  type,
  schemaVersion,
  occurredAt: '2026-01-01T00:00:00.000Z',
  data,
  metadata: {},
});

const NameSet = defineEvent('NameSet', z.object({ name: z.string() }));
const Profile = defineAggregate({
  type: 'Profile',
  events: [NameSet],
  initialState: () => ({ name: '', changes: 0 }),
  evolve: (state, event) => ({ name: event.data.name, changes: state.changes + 1 }),
  forget: (state, event) =>
    event.type === 'NameSet' ? { name: '(forgotten)', changes: state.changes + 1 } : state,
}).withCommands((command) => ({
  rename: command(z.object({ name: z.string() }), (_state, { name }) => [
    { type: 'NameSet', data: { name } },
  ]),
}));

describe('forgotten events', () => {
  it('decode to the marker instead of failing validation', () => {
    const stored = {
      ...raw('Incremented', 1, marker),
      aggregateType: 'Counter',
      aggregateId: 'c1',
      version: 1,
    };
    const event = Counter.events.decode(stored);
    expect(isForgottenEvent(event)).toBe(true);
    expect(event.data).toEqual(marker);
    // It keeps its stored schema version: there is no data left to upcast.
    expect(event.schemaVersion).toBe(1);
  });

  it('still need a known event type', () => {
    const stored = {
      ...raw('Vanished', 1, marker),
      aggregateType: 'Counter',
      aggregateId: 'c1',
      version: 1,
    };
    expect(() => Counter.events.decode(stored)).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_EVENT_TYPE' }),
    );
  });

  it('leave the state unchanged by default while the version advances', async () => {
    const store = createInMemoryEventStore();
    await store.append(
      { aggregateType: 'Counter', aggregateId: 'c1' },
      [
        raw('Incremented', 2, { by: 2, note: '' }),
        raw('Incremented', 2, marker),
        raw('Incremented', 2, { by: 5, note: '' }),
      ],
      { expectedVersion: NO_STREAM },
    );
    const loaded = await loadAggregate(store, Counter, 'c1');
    expect(loaded.state).toEqual({ count: 7, resets: 0 });
    expect(loaded.version).toBe(3);
  });

  it("go through the aggregate's forget rule, and commands keep working on top", async () => {
    const store = createInMemoryEventStore();
    await store.append(
      { aggregateType: 'Profile', aggregateId: 'p1' },
      [raw('NameSet', 1, { name: 'Ada' }), raw('NameSet', 1, marker)],
      { expectedVersion: NO_STREAM },
    );
    expect((await loadAggregate(store, Profile, 'p1')).state).toEqual({
      name: '(forgotten)',
      changes: 2,
    });
    const handler = createCommandHandler({ store });
    const result = await handler.execute(Profile, 'p1', 'rename', { name: 'Grace' });
    expect(result.state).toEqual({ name: 'Grace', changes: 3 });
    expect(result.events[0]?.version).toBe(3);
  });
});
