import { newKsuid } from '@strata/core';
import { describe, expect, it } from 'vitest';
import type { PostgresStoredEvent } from '../postgres/postgres-stored-event.ts';
import type { ScopeReadItem } from '../scopes/read-scopes.ts';
import { toScopedItems } from './scoped-item.ts';

const SCOPE = 'project:{"projectId":"p1"}';
const AT = '2024-05-01T10:00:00.000Z';

const eventItem = (aggregateId: string, version: number, position: number): ScopeReadItem => {
  const event: PostgresStoredEvent = {
    id: newKsuid(),
    type: 'TaskRenamed',
    schemaVersion: 1,
    aggregateType: 'Task',
    aggregateId,
    version,
    occurredAt: AT,
    data: { title: `v${version}` },
    metadata: {},
    position: position + 1000,
    recordedAt: AT,
    cursor: `g${position + 1000}`,
    tenant: 'acme',
    tenantPosition: position,
    tenantCursor: `t${position}`,
  };
  return { kind: 'event', cursor: `s${position}.${position}`, event, scopes: [SCOPE] };
};
const snapshotItem = (aggregateId: string, version: number, position: number): ScopeReadItem => ({
  kind: 'snapshot',
  cursor: `s${position}.${position}`,
  scopes: [SCOPE],
  aggregateType: 'Task',
  aggregateId,
  version,
  state: { title: `v${version}` },
  fingerprint: 'f1',
  takenAt: AT,
});
const left: ScopeReadItem = {
  kind: 'left',
  cursor: 's9.9',
  scope: SCOPE,
  aggregateType: 'Task',
  aggregateId: 'c',
};

/** What the items say: `kind id v` for events and snapshots, `left id` for the others. */
const short = (items: ReturnType<typeof toScopedItems>) =>
  items.map((item) =>
    item.kind === 'event'
      ? `event ${item.event.aggregateId} v${item.event.version} at ${item.event.position}`
      : item.kind === 'snapshot'
        ? `snapshot ${item.aggregateId} v${item.version}`
        : `left ${item.aggregateId}`,
  );

describe('toScopedItems', () => {
  const page = [eventItem('b', 1, 1), snapshotItem('a', 3, 2), eventItem('a', 3, 2), left];

  it('sends a snapshot with the event after it, events in their wire form', () => {
    const items = toScopedItems(page, undefined);
    expect(short(items)).toEqual(['event b v1 at 1', 'snapshot a v3', 'event a v3 at 2', 'left c']);
    expect(items[1]).toEqual(page[1]);
    expect(items[2]).not.toHaveProperty('event.tenant');
  });

  it('drops a snapshot whose event canRead hides', () => {
    const hidesA = (event: PostgresStoredEvent) => event.aggregateId !== 'a';
    expect(short(toScopedItems(page, hidesA))).toEqual(['event b v1 at 1', 'left c']);
    const hidesB = (event: PostgresStoredEvent) => event.aggregateId !== 'b';
    expect(short(toScopedItems(page, hidesB))).toEqual([
      'snapshot a v3',
      'event a v3 at 2',
      'left c',
    ]);
  });

  it('never sends a snapshot without its event after it', () => {
    expect(short(toScopedItems([snapshotItem('a', 3, 2)], undefined))).toEqual([]);
    expect(short(toScopedItems([snapshotItem('a', 3, 9), left], undefined))).toEqual(['left c']);
  });
});
