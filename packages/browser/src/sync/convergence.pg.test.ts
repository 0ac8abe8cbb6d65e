import 'fake-indexeddb/auto';
import { isStrataError, newKsuid } from '@strata/core';
import { Todo, type TodoState } from '@strata/example-todo';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  startTestClient,
  startTestServer,
  type TestClient,
  type TestServer,
} from './fixtures/sync-harness.ts';

// Property: however clients interleave offline periods and commands on shared aggregates, once
// all are back online every client holds the server's history (no version missing or twice),
// the same state and projection, and every command a client accepted locally is in the server's
// log or in that client's rejected list.

const CLIENTS = 3;
const TODOS = 3;
type Command = 'add' | 'rename' | 'remove';
// Adds race (two clients adding one todo: one is rejected), renames are the common edit, and
// removes are rare since a removed todo refuses everything after.
const COMMAND_MIX: readonly Command[] = [
  'add',
  'add',
  'rename',
  'rename',
  'rename',
  'rename',
  'remove',
];

type Step =
  | {
      readonly kind: 'command';
      readonly client: number;
      readonly todo: number;
      readonly command: 'add' | 'rename' | 'remove';
    }
  | { readonly kind: 'offline' | 'online'; readonly client: number }
  | { readonly kind: 'pause'; readonly ms: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('command' as const),
      client: fc.nat(CLIENTS - 1),
      todo: fc.nat(TODOS - 1),
      // Each of these always decides an event when it validates (renames get unique titles),
      // so a command is either stored or rejected, never absorbed as a no-op.
      command: fc.constantFrom<Command>(...COMMAND_MIX),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constantFrom('offline' as const, 'online' as const),
      client: fc.nat(CLIENTS - 1),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('pause' as const),
      ms: fc.integer({ min: 1, max: 40 }),
    }),
  },
);

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await server.stop();
});

/** The server's state of each todo, folded from its events. */
function fold(events: Awaited<ReturnType<TestServer['events']>>): Map<string, TodoState> {
  const states = new Map<string, TodoState>();
  for (const event of events) {
    const state = states.get(event.aggregateId) ?? Todo.initialState();
    states.set(event.aggregateId, Todo.evolve(state, Todo.events.decode(event)));
  }
  return states;
}

async function run(steps: readonly Step[]) {
  const todoIds = Array.from({ length: TODOS }, () => newKsuid());
  const ours = new Set(todoIds);
  const clients: TestClient[] = [];
  for (let index = 0; index < CLIENTS; index++) {
    clients.push(await startTestClient(server.url, `p${index}`));
  }
  const accepted = clients.map(() => new Set<string>());
  let titles = 0;
  try {
    for (const current of steps) {
      if (current.kind === 'pause') {
        await new Promise((resolve) => setTimeout(resolve, current.ms));
        continue;
      }
      const device = clients[current.client] as TestClient;
      if (current.kind === 'offline') device.network.setOnline(false);
      else if (current.kind === 'online') {
        device.network.setOnline(true);
        device.sync.syncNow();
      } else if (current.kind === 'command') {
        const id = todoIds[current.todo] as string;
        const input = current.command === 'remove' ? {} : { title: `title ${titles++}` };
        try {
          const result = await device.strata.execute(Todo, id, current.command, input);
          const commandId = result.events[0]?.metadata.commandId;
          if (typeof commandId === 'string') accepted[current.client]?.add(commandId);
        } catch (error) {
          // Refused locally (e.g. renaming a removed todo): nothing was stored, nothing to sync.
          if (!isStrataError(error, 'DOMAIN_RULE_VIOLATED')) throw error;
        }
      }
    }
    for (const device of clients) {
      device.network.setOnline(true);
      device.sync.syncNow();
    }

    await eventually(async () => {
      const upstream = (await server.events()).filter((event) => ours.has(event.aggregateId));
      const expected = fold(upstream);
      for (const device of clients) {
        const local = (await device.strata.db.events.toArray()).filter((row) =>
          ours.has(row.aggregateId),
        );
        expect(local.filter((row) => row.pending === 1)).toEqual([]);
        expect(local.map((row) => `${row.aggregateId}/${row.version}/${row.id}`).sort()).toEqual(
          upstream.map((event) => `${event.aggregateId}/${event.version}/${event.id}`).sort(),
        );
        // The server is shared by all runs: compare only this run's todos.
        const todos = [...(await device.todos())].filter(([id]) => ours.has(id));
        expect(new Map(todos)).toEqual(expected);
        const rows = await device.todoRows();
        for (const [id, state] of expected) {
          const live = state.status === 'active' || state.status === 'completed';
          expect(rows.get(id)).toEqual(
            live ? { id, title: state.title, status: state.status } : undefined,
          );
        }
      }
    });

    const upstream = (await server.events()).filter((event) => ours.has(event.aggregateId));
    for (const id of ours) {
      const versions = upstream.filter((e) => e.aggregateId === id).map((e) => e.version);
      expect(versions).toEqual(versions.map((_, index) => index + 1));
    }
    const stored = new Set(upstream.map((event) => event.metadata.commandId));
    clients.forEach((device, index) => {
      const rejected = new Set(device.rejected.map((row) => row.commandId));
      for (const commandId of accepted[index] ?? []) {
        expect(stored.has(commandId) || rejected.has(commandId), commandId).toBe(true);
        expect(stored.has(commandId) && rejected.has(commandId), commandId).toBe(false);
      }
    });
  } finally {
    await Promise.all(clients.map((device) => device.close()));
  }
}

describe('convergence (property)', () => {
  it('every client converges to the server history, and no command is lost', async () => {
    await fc.assert(fc.asyncProperty(fc.array(step, { minLength: 20, maxLength: 80, size: 'max' }), run), {
      numRuns: 15,
      endOnFailure: true,
    });
  }, 240_000);
});
