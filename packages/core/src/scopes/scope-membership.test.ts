import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineAggregate } from '../aggregates/aggregate-definition.ts';
import type { StoredEvent } from '../events/event.ts';
import { defineEvent } from '../events/event-definition.ts';
import { defineScope, tenantScope } from './scope-definition.ts';
import { scopeMembership, scopesAfter } from './scope-membership.ts';

const team = defineScope('team', z.object({ teamId: z.string().min(1) }));
const Joined = defineEvent('Joined', z.object({ teamId: z.string() }));
const Renamed = defineEvent('Renamed', z.object({ name: z.string() }));
const Member = defineAggregate({
  type: 'Member',
  events: [Joined, Renamed],
  initialState: () => ({}),
  evolve: (state) => state,
});
const memberScopes = scopeMembership(Member, (scopes, event) =>
  event.type === 'Joined' ? [...scopes, team({ teamId: event.data.teamId })] : scopes,
);

let version = 0;
const stored = (type: string, data: unknown): StoredEvent => ({
  id: `e${++version}`,
  type,
  schemaVersion: 1,
  aggregateType: 'Member',
  aggregateId: 'm1',
  version,
  occurredAt: '2026-12-02T10:00:00.000Z',
  data,
  metadata: {},
  position: version,
  recordedAt: '2026-12-02T10:00:00.000Z',
});

describe('scope definitions', () => {
  it('make refs with a canonical key, validating the parameters', () => {
    expect(team({ teamId: 't1' })).toEqual({
      name: 'team',
      params: { teamId: 't1' },
      key: 'team:{"teamId":"t1"}',
    });
    expect(() => team({ teamId: '' })).toThrow();
    expect(team.scopeName).toBe('team');
    expect(tenantScope.key).toBe('tenant');
  });
});

describe('scope membership', () => {
  it('folds an aggregate’s events into its scopes after each one, typed and deduplicated', () => {
    const lists = scopesAfter(
      memberScopes,
      [],
      [
        stored('Joined', { teamId: 'a' }),
        stored('Renamed', { name: 'x' }),
        stored('Joined', { teamId: 'b' }),
        stored('Joined', { teamId: 'a' }),
      ],
    );
    expect(lists.map((list) => list.map((scope) => scope.key))).toEqual([
      ['team:{"teamId":"a"}'],
      ['team:{"teamId":"a"}'],
      ['team:{"teamId":"a"}', 'team:{"teamId":"b"}'],
      ['team:{"teamId":"a"}', 'team:{"teamId":"b"}'],
    ]);
  });

  it('decodes events with the aggregate’s definitions: invalid stored data is an error, not a scope', () => {
    expect(() => scopesAfter(memberScopes, [], [stored('Joined', { teamId: 42 })])).toThrow();
    expect(memberScopes.aggregateType).toBe('Member');
  });
});
