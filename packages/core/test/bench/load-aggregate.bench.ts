import { defineBenchmark } from '@strata/tooling/bench/harness';
import { loadAggregate } from '../../src/commands/load-aggregate.ts';
import { NO_STREAM } from '../../src/event-store/expected-version.ts';
import { createInMemoryEventStore } from '../../src/event-store/in-memory-event-store.ts';
import type { StoredEvent } from '../../src/events/event.ts';
import { newKsuid } from '../../src/ids/ksuid.ts';
import { Counter } from '../fixtures/counter.ts';

// Replay: 100k stored events folded to state. The baseline folds the same stored objects with
// the same `evolve` but skips what loading adds: paging through the store, and validating and
// upcasting every event with its zod schema.
const EVENTS = 100_000;
const store = createInMemoryEventStore();
const stream = { aggregateType: Counter.type, aggregateId: 'replayed' };
for (let offset = 0; offset < EVENTS; offset += 10_000) {
  await store.append(
    stream,
    Array.from({ length: 10_000 }, (_, i) => ({
      id: newKsuid(),
      type: 'Incremented',
      // Every tenth event is at schema version 1, so a share of the replay is upcast.
      schemaVersion: i % 10 === 0 ? 1 : 2,
      occurredAt: '2026-01-01T00:00:00.000Z',
      data: i % 10 === 0 ? { by: 1 } : { by: 1, note: 'n' },
      metadata: {},
    })),
    { expectedVersion: offset === 0 ? NO_STREAM : offset },
  );
}
const stored: readonly StoredEvent[] = await store.readStream(stream);

export default [
  defineBenchmark({
    name: 'replay 100k in-memory events to state',
    unit: 'events',
    units: EVENTS,
    baseline: {
      label: 'raw fold of stored events (no decode)',
      run: () =>
        stored.reduce(
          (state, event) => Counter.evolve(state, event as never),
          Counter.initialState(),
        ),
    },
    subject: {
      label: 'loadAggregate (paged read, zod decode, upcast)',
      run: async () => {
        const { state } = await loadAggregate(store, Counter, 'replayed');
        if (state.count !== EVENTS) throw new Error(`replayed to ${state.count}`);
      },
    },
  }),
];
