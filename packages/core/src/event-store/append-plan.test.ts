import { describe, expect, it } from 'vitest';
import { isStrataError } from '../errors/errors.ts';
import type { NewEvent, StoredEvent } from '../events/event.ts';
import { newKsuid } from '../ids/ksuid.ts';
import { type AppendPlanInput, planAppend } from './append-plan.ts';
import { ANY, type ExpectedVersion, NO_STREAM, STREAM_EXISTS } from './expected-version.ts';
import type { StreamRef } from './stream-ref.ts';

const TODO: StreamRef = { aggregateType: 'Todo', aggregateId: 'todo-1' };
const OTHER: StreamRef = { aggregateType: 'Todo', aggregateId: 'todo-2' };

function newEvent(id = newKsuid()): NewEvent {
  return {
    id,
    type: 'TodoAdded',
    schemaVersion: 1,
    occurredAt: '2024-02-29T12:34:56.000Z',
    data: { title: 'Milk' },
    metadata: {},
  };
}

let position = 0;
function stored(event: NewEvent, stream: StreamRef, version: number): StoredEvent {
  position += 1;
  return { ...event, ...stream, version, position, recordedAt: '2024-02-29T12:34:57.000Z' };
}

/** A store that holds `events` and answers `findStored` for them. */
function storeOf(...events: StoredEvent[]): (id: string) => StoredEvent | undefined {
  const byId = new Map(events.map((event) => [event.id, event]));
  return (id) => byId.get(id);
}

function plan(overrides: Partial<AppendPlanInput> & Pick<AppendPlanInput, 'events'>) {
  return planAppend({
    stream: TODO,
    expectedVersion: ANY,
    currentVersion: 0,
    findStored: () => undefined,
    ...overrides,
  });
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('planAppend: new events', () => {
  it.each([
    [NO_STREAM, 0, 1],
    [ANY, 0, 1],
    [ANY, 4, 5],
    [STREAM_EXISTS, 2, 3],
    [3, 3, 4],
    [1, 1, 2],
  ] as [ExpectedVersion, number, number][])(
    'expected %j on a stream at %i appends from version %i',
    (expectedVersion, currentVersion, firstVersion) => {
      const result = plan({ events: [newEvent(), newEvent()], expectedVersion, currentVersion });
      expect(result).toEqual({ kind: 'append', firstVersion });
    },
  );

  it.each([
    [NO_STREAM, 2],
    [STREAM_EXISTS, 0],
    [3, 2],
    [3, 4],
    [1, 0],
  ] as [ExpectedVersion, number][])(
    'expected %j on a stream at %i is a VERSION_CONFLICT',
    (expectedVersion, currentVersion) => {
      const error = thrown(() => plan({ events: [newEvent()], expectedVersion, currentVersion }));
      if (!isStrataError(error, 'VERSION_CONFLICT')) throw error;
      expect(error.expectedVersion).toBe(expectedVersion);
      expect(error.actualVersion).toBe(currentVersion);
      expect(error.aggregateId).toBe('todo-1');
    },
  );

  it('asks the store about every event id', () => {
    const asked: string[] = [];
    const events = [newEvent(), newEvent(), newEvent()];
    plan({
      events,
      findStored: (id) => {
        asked.push(id);
        return undefined;
      },
    });
    expect(asked).toEqual(events.map((event) => event.id));
  });
});

describe('planAppend: invalid appends', () => {
  it('rejects an empty append with NO_EVENTS', () => {
    expect(
      isStrataError(
        thrown(() => plan({ events: [] })),
        'NO_EVENTS',
      ),
    ).toBe(true);
  });

  it.each([0, -1, 1.5, Number.NaN])(
    'rejects expected version %d with VALIDATION_FAILED',
    (expectedVersion) => {
      const error = thrown(() => plan({ events: [newEvent()], expectedVersion }));
      expect(isStrataError(error, 'VALIDATION_FAILED')).toBe(true);
    },
  );

  it('rejects expected version 0 even when the events are stored at version 1', () => {
    const event = newEvent();
    const error = thrown(() =>
      plan({
        events: [event],
        expectedVersion: 0,
        currentVersion: 1,
        findStored: storeOf(stored(event, TODO, 1)),
      }),
    );
    expect(isStrataError(error, 'VALIDATION_FAILED')).toBe(true);
  });

  it('rejects an id that appears twice in one append with DUPLICATE_EVENT_ID', () => {
    const id = newKsuid();
    const error = thrown(() => plan({ events: [newEvent(), newEvent(id), newEvent(id)] }));
    if (!isStrataError(error, 'DUPLICATE_EVENT_ID')) throw error;
    expect(error.eventId).toBe(id);
    expect(error.message).toMatch(/twice/);
  });
});

describe('planAppend: retries', () => {
  function storedRun(stream: StreamRef, fromVersion: number, count: number) {
    const events = Array.from({ length: count }, () => newEvent());
    const storedEvents = events.map((event, index) => stored(event, stream, fromVersion + index));
    return { events, storedEvents, findStored: storeOf(...storedEvents) };
  }

  it.each([
    [NO_STREAM, 1, 2],
    [ANY, 1, 3],
    [ANY, 4, 1],
    [STREAM_EXISTS, 2, 2],
    [STREAM_EXISTS, 7, 1],
    [3, 4, 2],
  ] as [ExpectedVersion, number, number][])(
    'expected %j with all events stored from version %i (%i events) here is already-stored',
    (expectedVersion, fromVersion, count) => {
      const { events, storedEvents, findStored } = storedRun(TODO, fromVersion, count);
      // The stream may have moved on since: a lost acknowledgement is always safe to retry.
      for (const currentVersion of [fromVersion + count - 1, fromVersion + count + 5]) {
        const result = plan({ events, expectedVersion, currentVersion, findStored });
        expect(result).toEqual({ kind: 'already-stored', events: storedEvents });
      }
    },
  );

  it('answers with the stored events, not the new ones', () => {
    const { events, storedEvents, findStored } = storedRun(TODO, 1, 2);
    const result = plan({ events, expectedVersion: NO_STREAM, currentVersion: 2, findStored });
    if (result.kind !== 'already-stored') throw new Error('expected already-stored');
    expect(result.events[0]).toBe(storedEvents[0]);
    expect(result.events.map((event) => event.position)).toEqual(
      storedEvents.map((event) => event.position),
    );
  });

  function expectDuplicate(input: Parameters<typeof plan>[0], id?: string) {
    const error = thrown(() => plan(input));
    if (!isStrataError(error, 'DUPLICATE_EVENT_ID')) throw error;
    if (id !== undefined) expect(error.eventId).toBe(id);
    return error;
  }

  it('rejects events stored in another stream', () => {
    const { events, storedEvents, findStored } = storedRun(OTHER, 1, 2);
    const error = expectDuplicate(
      { events, expectedVersion: NO_STREAM, currentVersion: 0, findStored },
      storedEvents[0]?.id,
    );
    expect(error.message).toContain('Todo/todo-2');
  });

  it('rejects events stored under another aggregate type with the same id', () => {
    const { events, findStored } = storedRun(
      { aggregateType: 'List', aggregateId: 'todo-1' },
      1,
      1,
    );
    expectDuplicate({ events, expectedVersion: NO_STREAM, currentVersion: 0, findStored });
  });

  it.each([
    ['the first', [true, false, false]],
    ['the last', [false, false, true]],
    ['all but one', [true, true, false]],
  ])('rejects a partial retry where only %s event is stored', (_, which) => {
    const events = which.map(() => newEvent());
    const storedEvents = events.flatMap((event, index) =>
      which[index] ? [stored(event, TODO, index + 1)] : [],
    );
    expectDuplicate(
      {
        events,
        expectedVersion: NO_STREAM,
        currentVersion: 3,
        findStored: storeOf(...storedEvents),
      },
      storedEvents[0]?.id,
    );
  });

  it('rejects stored events in another order', () => {
    const [a, b] = [newEvent(), newEvent()];
    const findStored = storeOf(stored(a, TODO, 2), stored(b, TODO, 1));
    expectDuplicate({ events: [a, b], expectedVersion: NO_STREAM, currentVersion: 2, findStored });
  });

  it('rejects stored events that are not contiguous', () => {
    const [a, b] = [newEvent(), newEvent()];
    const findStored = storeOf(stored(a, TODO, 1), stored(b, TODO, 3));
    expectDuplicate({ events: [a, b], expectedVersion: ANY, currentVersion: 3, findStored });
  });

  it('rejects stored events split across streams', () => {
    const [a, b] = [newEvent(), newEvent()];
    const findStored = storeOf(stored(a, TODO, 1), stored(b, OTHER, 2));
    expectDuplicate({ events: [a, b], expectedVersion: NO_STREAM, currentVersion: 1, findStored });
  });

  it.each([
    ['NO_STREAM but stored from version 2', NO_STREAM, 2],
    ['STREAM_EXISTS but stored from version 1', STREAM_EXISTS, 1],
    ['exact 3 but stored from version 3', 3, 3],
    ['exact 3 but stored from version 5', 3, 5],
    ['exact 1 but stored from version 1', 1, 1],
  ] as [string, ExpectedVersion, number][])(
    'rejects events stored in the wrong place for the expected version: %s',
    (_, expectedVersion, fromVersion) => {
      const { events, findStored } = storedRun(TODO, fromVersion, 2);
      expectDuplicate({ events, expectedVersion, currentVersion: fromVersion + 1, findStored });
    },
  );

  it('rejects events stored in a different stream whose streamKey collides', () => {
    const event = newEvent();
    const findStored = storeOf(stored(event, { aggregateType: 'Todo', aggregateId: 'list/1' }, 1));
    expectDuplicate({
      stream: { aggregateType: 'Todo/list', aggregateId: '1' },
      events: [event],
      expectedVersion: NO_STREAM,
      currentVersion: 0,
      findStored,
    });
  });
});
