import { defineBenchmark } from '@strata/tooling/bench/harness';
import { createCommandHandler } from '../../src/commands/command-handler.ts';
import { NO_STREAM } from '../../src/event-store/expected-version.ts';
import { createInMemoryEventStore } from '../../src/event-store/in-memory-event-store.ts';
import { newKsuid } from '../../src/ids/ksuid.ts';
import { Counter } from '../fixtures/counter.ts';

// Command throughput: 5 commands on each of 1,000 aggregates, against a fresh store per run.
// The baseline appends the same number of ready-made events with exact expected versions,
// so the ratio is what loading, validating, deciding and evolving cost on top of storing.
const AGGREGATES = 1_000;
const COMMANDS_PER_AGGREGATE = 5;
const COMMANDS = AGGREGATES * COMMANDS_PER_AGGREGATE;

export default [
  defineBenchmark({
    name: 'command execution on the in-memory store',
    unit: 'commands',
    units: COMMANDS,
    baseline: {
      label: 'raw store.append of one prepared event',
      setup: () => createInMemoryEventStore(),
      run: async (store: ReturnType<typeof createInMemoryEventStore>) => {
        for (let round = 0; round < COMMANDS_PER_AGGREGATE; round++) {
          for (let i = 0; i < AGGREGATES; i++) {
            const event = {
              id: newKsuid(),
              type: 'Incremented',
              schemaVersion: 2,
              occurredAt: new Date().toISOString(),
              data: { by: 1, note: '' },
              metadata: {},
            };
            await store.append({ aggregateType: 'Counter', aggregateId: `c${i}` }, [event], {
              expectedVersion: round === 0 ? NO_STREAM : round,
            });
          }
        }
      },
    },
    subject: {
      label: 'execute (load, validate, decide, evolve, append)',
      setup: () => createCommandHandler({ store: createInMemoryEventStore() }),
      run: async (app: ReturnType<typeof createCommandHandler>) => {
        for (let round = 0; round < COMMANDS_PER_AGGREGATE; round++) {
          for (let i = 0; i < AGGREGATES; i++) {
            await app.execute(Counter, `c${i}`, 'increment', { by: 1 });
          }
        }
      },
    },
  }),
];
