// The anchor of a scoped device (issue 17), in Node on fake-indexeddb: scoped batches keep the
// latest event received as the anchor, though scoped items do not come in the log's order, and
// a scoped catch-up sends it on its first page. Against the real server:
// scoped-server-restore.pg.test.ts.
import 'fake-indexeddb/auto';
import {
  type LogAnchor,
  newKsuid,
  type ScopedItem,
  type ScopedPullRequest,
  type ScopedPullResponse,
} from '@strata/core';
import { Todo } from '@strata/example-todo';
import { afterEach, describe, expect, it } from 'vitest';
import { todoList, todoTables } from '../../test/fixtures/todo-list.ts';
import { createStrata, type Strata } from '../runtime/create-strata.ts';
import { applyScopedItems } from './apply-scoped.ts';
import { ANCHOR_KEY } from './apply-upstream.ts';
import { writeScopeStates } from './scope-set.ts';
import { pullScopesToEnd } from './scoped-catch-up.ts';
import { syncContext, type UpstreamEvent } from './sync-context.ts';

const SCOPE = 'todos:ann';
const opened: Strata[] = [];
afterEach(() => {
  for (const strata of opened.splice(0)) strata.close();
});

const added = (aggregateId: string, position: number, version = 1): UpstreamEvent =>
  ({
    id: newKsuid(),
    type: version === 1 ? 'TodoAdded' : 'TodoRenamed',
    schemaVersion: version === 1 ? 2 : 1,
    aggregateType: 'Todo',
    aggregateId,
    version,
    occurredAt: '2026-12-03T10:00:00.000Z',
    recordedAt: '2026-12-03T10:00:00.000Z',
    data: { title: `${aggregateId} v${version}` },
    metadata: {},
    position,
  }) as UpstreamEvent;
const item = (event: UpstreamEvent, cursor: string): ScopedItem => ({
  kind: 'event',
  cursor,
  event: event as never,
  scopes: [SCOPE],
});

describe('the anchor of a scoped device', () => {
  it('is the latest event received by position; older history arriving later leaves it', async () => {
    const strata = await createStrata({
      name: `scoped-anchor-${crypto.randomUUID()}`,
      tables: todoTables,
      projections: [todoList],
    });
    opened.push(strata);
    const context = syncContext(strata, [Todo], () => newKsuid());
    await writeScopeStates(strata.db, [{ key: SCOPE, complete: false }]);
    const anchor = async () =>
      (await strata.db.syncState.get(ANCHOR_KEY))?.value as LogAnchor | undefined;

    const first = added('t1', 3);
    const second = added('t2', 7);
    await applyScopedItems(context, {
      items: [item(first, 's3.3'), item(second, 's7.7')],
      cursors: { [SCOPE]: 's7.7' },
    });
    expect(await anchor()).toEqual({ position: 7, eventId: second.id });

    // t3 joins the scope at 9 and brings its history from 2: the anchor is the one at 9.
    const joined = [added('t3', 2), added('t3', 5, 2), added('t3', 9, 3)];
    await applyScopedItems(context, {
      items: [item(joined[0] as UpstreamEvent, 's9.2'), item(joined[1] as UpstreamEvent, 's9.5')],
      cursors: { [SCOPE]: 's9.5' },
    });
    expect(await anchor()).toEqual({ position: 7, eventId: second.id });
    await applyScopedItems(context, {
      items: [item(joined[2] as UpstreamEvent, 's9.9')],
      cursors: { [SCOPE]: 's9.9' },
    });
    expect(await anchor()).toEqual({ position: 9, eventId: joined[2]?.id });
    // A batch with no event (a cursor moved) changes nothing.
    await applyScopedItems(context, { items: [], cursors: { [SCOPE]: 's12.12' } });
    expect(await anchor()).toEqual({ position: 9, eventId: joined[2]?.id });
  });

  it('is sent by a scoped catch-up on its first page only', async () => {
    const sent: (LogAnchor | undefined)[] = [];
    const pages: ScopedPullResponse[] = [
      { items: [], cursors: { [SCOPE]: 's4.4' }, hasMore: true },
      { items: [], cursors: { [SCOPE]: 's9.9' }, hasMore: false },
    ];
    const anchor = { position: 3, eventId: newKsuid() };
    await pullScopesToEnd([{ key: SCOPE, cursor: 's3.3', complete: true }], {
      transport: {
        async pullScopes(_request: ScopedPullRequest, options) {
          sent.push(options?.anchor);
          return pages.shift() as ScopedPullResponse;
        },
      },
      apply: async () => undefined,
      pullLimit: 100,
      log: { read: async () => ({ anchor }), remember: async () => undefined },
      signal: new AbortController().signal,
    });
    expect(sent).toEqual([anchor, undefined]);
  });
});
