import 'fake-indexeddb/auto';
import { newKsuid } from '@strata/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { expectConverged, expectNothingLost } from '../../test/fixtures/convergence.ts';
import {
  eventually,
  startTestClient,
  startTestServer,
  type TestClient,
  type TestServer,
} from '../../test/fixtures/sync-harness.ts';

// Property: however clients interleave offline periods and commands on shared aggregates, once
// all are back online every client holds the server's history (no version missing or twice),
// the same state and projection, and every command a client accepted locally is in the server's
// log or in that client's rejected list. The server decides every command (authority `decide`):
// it makes its own event ids and times and refuses what its state refuses (a todo added by two
// clients, a rename of a removed one), so converging by event id means every device ended with
// the server's events, not its own prediction.

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
  server = await startTestServer({ authority: { Todo: 'decide' } });
});

afterAll(async () => {
  await server.stop();
});

async function run(steps: readonly Step[]) {
  const todoIds = Array.from({ length: TODOS }, () => newKsuid());
  const ours = new Set(todoIds);
  const clients: TestClient[] = [];
  for (let index = 0; index < CLIENTS; index++) {
    clients.push(await startTestClient(server.url, `p${index}`));
  }
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
        const title = `title ${titles++}`;
        await device.command(todoIds[current.todo] as string, current.command, { title });
      }
    }
    for (const device of clients) {
      device.network.setOnline(true);
      device.sync.syncNow();
    }

    await eventually(() => expectConverged(server, clients, ours));
    await expectNothingLost(server, clients, ours);
  } finally {
    await Promise.all(clients.map((device) => device.close()));
  }
}

describe('convergence (property)', () => {
  it('every client converges to the server history, and no command is lost', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 20, maxLength: 80, size: 'max' }), run),
      {
        numRuns: 15,
        endOnFailure: true,
      },
    );
  }, 240_000);
});
