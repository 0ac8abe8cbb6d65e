import { isStrataError, newKsuid } from '@strata/core';
import { Todo } from '@strata/example-todo';
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { freshTodoStrata } from '../../test/fixtures/open-todo-strata.ts';
import { countRowsRead } from '../../test/fixtures/rows-read.ts';
import type { EventRow, RejectedCommandRow } from '../database/strata-database.ts';
import type { LiveSubscribable } from '../runtime/live-state.ts';
import { startSync } from '../sync/start-sync.ts';
import { inspectStrata } from './inspect-strata.ts';

const open = freshTodoStrata('devtools-inspect');

const subscriptions: { unsubscribe(): void }[] = [];
afterEach(() => {
  for (const subscription of subscriptions.splice(0)) subscription.unsubscribe();
});

/** The first value of a live subscribable (and stays subscribed to it until the test ends). */
function first<T>(source: LiveSubscribable<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    subscriptions.push(source.subscribe({ next: resolve, error: reject }));
  });
}

/** Follows a live subscribable; `until` resolves with the first value `check` accepts. */
function follow<T>(source: LiveSubscribable<T>) {
  const values: T[] = [];
  const waiting = new Set<() => void>();
  subscriptions.push(
    source.subscribe((value) => {
      values.push(value);
      for (const wake of waiting) wake();
    }),
  );
  return {
    values,
    until: (check: (value: T) => boolean, timeoutMs = 5000) =>
      new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('timed out')), timeoutMs);
        const test = () => {
          const found = values.find(check);
          if (found === undefined) return;
          clearTimeout(timer);
          waiting.delete(test);
          resolve(found);
        };
        waiting.add(test);
        test();
      }),
  };
}

/** Raw event rows as the server would have sent them (bulk-written, no command). */
function rows(aggregateType: string, aggregateId: string, count: number, from = 1): EventRow[] {
  return Array.from({ length: count }, (_, index) => ({
    id: newKsuid(),
    type: 'TodoRenamed',
    schemaVersion: 1,
    aggregateType,
    aggregateId,
    version: from + index,
    occurredAt: '2026-12-03T12:00:00.000Z',
    recordedAt: '2026-12-03T12:00:00.000Z',
    data: { title: `v${from + index}` },
    metadata: {},
    pending: 0,
  })) as unknown as EventRow[];
}

const validationFailed = (error: unknown) => isStrataError(error, 'VALIDATION_FAILED');

describe('inspectStrata: the local log', () => {
  it('pages the whole log newest first; the pages together are the log, once each', async () => {
    const strata = await open();
    const inspect = inspectStrata(strata, { aggregates: [Todo] });
    for (let i = 0; i < 7; i++)
      await strata.execute(Todo, `t${i % 3}`, 'add', { title: `${i}` }).catch(() => undefined);
    for (let i = 0; i < 3; i++) await strata.execute(Todo, `t${i}`, 'rename', { title: `r${i}` });
    const all = await strata.db.events.orderBy(':id').reverse().toArray();
    expect(all).toHaveLength(6);

    const seen: number[] = [];
    let after: string | undefined;
    do {
      const page = await first(inspect.log({ limit: 4, after }));
      expect(page.total).toBe(6);
      seen.push(...page.entries.map((entry) => entry.position));
      after = page.next;
    } while (after !== undefined);
    expect(seen).toEqual(all.map((row) => row.position));
    const newest = (await first(inspect.log({ limit: 1 }))).entries[0];
    // Nothing synced: every event is pending, and the entry carries the stored event.
    expect(newest).toMatchObject({
      type: 'TodoRenamed',
      aggregateId: 't2',
      version: 2,
      status: 'pending',
    });
    expect(newest?.data).toEqual({ title: 'r2' });
  });

  it('searches by aggregate type and id prefix through the stream index, newest version first', async () => {
    const strata = await open();
    await strata.db.events.bulkAdd([
      ...rows('Todo', 'alpha', 3),
      ...rows('Todo', 'alps', 2),
      ...rows('Todo', 'beta', 4),
      ...rows('Note', 'alpha', 5),
    ]);
    const inspect = inspectStrata(strata);
    const page = await first(inspect.log({ aggregateType: 'Todo', aggregateId: 'alp', limit: 3 }));
    expect(page.total).toBe(5);
    expect(page.entries.map((entry) => `${entry.aggregateId}@${entry.version}`)).toEqual([
      'alps@2',
      'alps@1',
      'alpha@3',
    ]);
    expect(page.entries.every((entry) => entry.status === 'confirmed')).toBe(true);
    const rest = await first(
      inspect.log({ aggregateType: 'Todo', aggregateId: 'alp', limit: 3, after: page.next }),
    );
    expect(rest.entries.map((entry) => `${entry.aggregateId}@${entry.version}`)).toEqual([
      'alpha@2',
      'alpha@1',
    ]);
    expect(rest.next).toBeUndefined();
    // An exact id, a type alone, and a type the log does not hold.
    const exact = await first(inspect.log({ aggregateType: 'Note', aggregateId: 'alpha' }));
    expect(exact.entries.map((entry) => entry.version)).toEqual([5, 4, 3, 2, 1]);
    expect((await first(inspect.log({ aggregateType: 'Todo' }))).total).toBe(9);
    expect(await first(inspect.log({ aggregateType: 'Cart' }))).toEqual({ entries: [], total: 0 });
    expect(await first(inspect.aggregateTypes())).toEqual(['Note', 'Todo']);
  });

  it('refuses a bad page size, a cursor of another query and an id without a type, with typed errors', async () => {
    const strata = await open();
    await strata.db.events.bulkAdd(rows('Todo', 'a', 3));
    const inspect = inspectStrata(strata);
    const page = await first(inspect.log({ limit: 1 }));
    const refusals = [
      first(inspect.log({ limit: 0 })),
      first(inspect.log({ limit: 501 })),
      first(inspect.log({ limit: 1.5 })),
      first(inspect.log({ aggregateId: 'a' })),
      // A whole-log cursor given to an aggregate query, and the other way round.
      first(inspect.log({ aggregateType: 'Todo', after: page.next })),
      first(inspect.log({ after: 'k["Todo","a",2]' })),
      first(inspect.log({ aggregateType: 'Note', after: 'k["Todo","a",2]' })),
      first(inspect.log({ after: 'p1e400' })),
      first(inspect.log({ aggregateType: 'Todo', after: 'k{"__proto__":1}' })),
    ];
    for (const refusal of refusals) await expect(refusal).rejects.toSatisfy(validationFailed);
    expect(await strata.db.events.count()).toBe(3);
  });

  it('reads a page and a count of a 20k-event log, not the log', async () => {
    const strata = await open();
    const all: EventRow[] = [];
    for (let i = 0; i < 200; i++) all.push(...rows('Todo', `t${i}`, 100));
    await strata.db.events.bulkAdd(all);
    const inspect = inspectStrata(strata);
    const counter = countRowsRead();
    try {
      const whole = await first(inspect.log({ limit: 50 }));
      expect(whole.total).toBe(20_000);
      expect(whole.entries).toHaveLength(50);
      const wholeRows = counter.rows;
      counter.reset();
      const one = await first(inspect.log({ aggregateType: 'Todo', aggregateId: 't150' }));
      expect(one.total).toBe(100);
      const oneRows = counter.rows;
      counter.reset();
      expect(await first(inspect.aggregateTypes())).toEqual(['Todo']);
      // A page and the one row past it; the skip through types reads one row per type.
      expect([wholeRows, oneRows, counter.rows]).toEqual([51, 51, 1]);
    } finally {
      counter.restore();
    }
  });

  it('updates live: a new command shows up on the first page and in the total', async () => {
    const strata = await open();
    const inspect = inspectStrata(strata);
    const log = follow(inspect.log({ limit: 10 }));
    await log.until((page) => page.total === 0);
    await strata.execute(Todo, 'live', 'add', { title: 'appears' });
    const page = await log.until((value) => value.total === 1);
    expect(page.entries[0]).toMatchObject({ aggregateId: 'live', type: 'TodoAdded' });
  });
});

describe('inspectStrata: aggregates', () => {
  it('shows a history page and the current state, live, and pages older versions', async () => {
    const strata = await open();
    const inspect = inspectStrata(strata, { aggregates: [Todo] });
    await strata.execute(Todo, 'a1', 'add', { title: 'one' });
    for (let i = 2; i <= 5; i++) await strata.execute(Todo, 'a1', 'rename', { title: `v${i}` });
    const view = follow(inspect.aggregate('Todo', 'a1', { limit: 3 }));
    const shown = await view.until((value) => value.version === 5);
    expect(shown).toMatchObject({ known: true, version: 5, nextBeforeVersion: 3 });
    expect(shown.state).toMatchObject({ title: 'v5' });
    expect(shown.entries.map((entry) => entry.version)).toEqual([5, 4, 3]);
    const older = await first(inspect.aggregate('Todo', 'a1', { limit: 3, beforeVersion: 3 }));
    expect(older.entries.map((entry) => entry.version)).toEqual([2, 1]);
    expect(older.nextBeforeVersion).toBeUndefined();

    await strata.execute(Todo, 'a1', 'complete', {});
    const completed = await view.until((value) => value.version === 6);
    expect(completed.state).toMatchObject({ status: 'completed' });
    expect(completed.entries[0]?.type).toBe('TodoCompleted');
  });

  it('shows an event this version cannot decode as such, and the state as not loadable', async () => {
    const strata = await open();
    const [added] = rows('Todo', 'skewed', 1);
    const [starred] = rows('Todo', 'skewed', 1, 2);
    await strata.db.events.bulkAdd([
      { ...(added as EventRow), type: 'TodoAdded', schemaVersion: 2, data: { title: 'ok' } },
      { ...(starred as EventRow), type: 'TodoStarred', data: { stars: 3 } },
    ] as EventRow[]);
    const view = await first(
      inspectStrata(strata, { aggregates: [Todo] }).aggregate('Todo', 'skewed'),
    );
    expect(view.entries.map((entry) => [entry.type, entry.decodeError !== undefined])).toEqual([
      ['TodoStarred', true],
      ['TodoAdded', false],
    ]);
    expect(view.stateError).toMatch(/TodoStarred/);
    expect(view.state).toBeUndefined();
    // Without the definition: the history as stored, no state.
    const raw = await first(inspectStrata(strata).aggregate('Todo', 'skewed'));
    expect(raw).toMatchObject({ known: false, version: 2 });
    expect(raw.entries.every((entry) => entry.decodeError === undefined)).toBe(true);
    await expect(
      first(inspectStrata(strata).aggregate('Todo', 'skewed', { beforeVersion: 0 })),
    ).rejects.toSatisfy(validationFailed);
  });
});

describe('inspectStrata: outbox, rejected, unreadable, sync', () => {
  it('pages the outbox in push order and follows it live', async () => {
    const strata = await open();
    const inspect = inspectStrata(strata);
    const outbox = follow(inspect.outbox({ limit: 2 }));
    await outbox.until((page) => page.total === 0);
    for (let i = 0; i < 5; i++) await strata.execute(Todo, `o${i}`, 'add', { title: `${i}` });
    const page = await outbox.until((value) => value.total === 5);
    expect(page.rows.map((row) => row.aggregateId)).toEqual(['o0', 'o1']);
    const next = await first(inspect.outbox({ limit: 2, after: page.next }));
    expect(next.rows.map((row) => row.aggregateId)).toEqual(['o2', 'o3']);
    await expect(first(inspect.outbox({ after: Number.NaN }))).rejects.toSatisfy(validationFailed);
  });

  it('shows rejected commands as they are kept and dismissed', async () => {
    const strata = await open();
    const rejected = follow(inspectStrata(strata).rejected());
    await rejected.until((page) => page.total === 0);
    const row: RejectedCommandRow = {
      commandId: newKsuid(),
      aggregateType: 'Todo',
      aggregateId: 'r1',
      command: 'rename',
      input: { title: 'late' },
      metadata: {},
      eventIds: [],
      executedAt: '2026-12-03T12:00:00.000Z',
      code: 'AGGREGATE_NOT_FOUND',
      reason: 'Todo r1 was removed',
      rejectedAt: '2026-12-03T12:00:01.000Z',
    };
    const seq = await strata.db.rejected.add(row);
    const shown = await rejected.until((page) => page.total === 1);
    expect(shown.rows[0]).toMatchObject({
      code: 'AGGREGATE_NOT_FOUND',
      reason: 'Todo r1 was removed',
    });
    await strata.db.rejected.delete(seq);
    await rejected.until((page) => page.total === 0);
  });

  it('pages kept-unreadable events by aggregate, with the version-skew summary', async () => {
    const strata = await open();
    const inspect = inspectStrata(strata);
    const unreadable = follow(inspect.unreadable({ limit: 2 }));
    await unreadable.until((page) => page.summary === undefined && page.rows.length === 0);
    const kept = ['b', 'a', 'c'].map((aggregateId, index) => ({
      id: newKsuid(),
      aggregateType: 'Todo',
      aggregateId,
      version: 2,
      type: 'TodoStarred',
      schemaVersion: 1,
      code: 'UNKNOWN_EVENT_TYPE',
      reason: 'Unknown event type "TodoStarred"',
      serverPosition: 10 + index,
      keptAt: '2026-12-03T12:00:00.000Z',
    }));
    await strata.db.unreadable.bulkAdd(kept);
    const page = await unreadable.until((value) => value.summary?.count === 3);
    expect(page.summary).toEqual({
      count: 3,
      heldAggregates: 3,
      types: [{ type: 'TodoStarred', schemaVersion: 1, code: 'UNKNOWN_EVENT_TYPE', count: 3 }],
    });
    expect(page.rows.map((row) => row.aggregateId)).toEqual(['a', 'b']);
    const rest = await first(inspect.unreadable({ limit: 2, after: page.next }));
    expect(rest.rows.map((row) => row.aggregateId)).toEqual(['c']);
    expect(rest.next).toBeUndefined();
    await expect(first(inspect.unreadable({ after: '["Todo"]' }))).rejects.toSatisfy(
      validationFailed,
    );
  });

  it('gives the sync client’s status and timeline, and none without a sync client', async () => {
    const strata = await open();
    expect(inspectStrata(strata)).toMatchObject({ status: undefined, timeline: undefined });
    // A server that is not there: the client keeps trying, and says so.
    const sync = startSync(strata, {
      url: 'http://127.0.0.1:9/',
      aggregates: [Todo],
      locks: null,
      fetch: async () => {
        throw new TypeError('fetch failed');
      },
    });
    try {
      const inspect = inspectStrata(strata, { sync });
      expect(inspect.status).toBe(sync.status);
      const timeline = follow(inspect.timeline as NonNullable<typeof inspect.timeline>);
      const entries = await timeline.until((value) =>
        value.some((entry) => entry.kind === 'error'),
      );
      expect(entries[0]?.kind).toBe('leader');
      expect(entries.find((entry) => entry.kind === 'error')?.detail).toMatch(
        /pull failed: .*fetch failed/,
      );
      const status = await first(inspect.status as NonNullable<typeof inspect.status>);
      expect(status.leader).toBe(true);
    } finally {
      await sync.stop();
    }
  });
});
