import { type NewEvent, NO_STREAM, type StoredEvent, type StreamRef } from '@strata/core';
import { describe, expect, it } from 'vitest';
import { type CommitAppend, planCommitAppends, planCommitGroups } from './plan-commit-appends.ts';

const note = (id: string): StreamRef => ({ aggregateType: 'Note', aggregateId: id });
const event = (id: string): NewEvent => ({
  id,
  type: 'NoteAdded',
  schemaVersion: 1,
  data: { text: id },
  metadata: {},
  occurredAt: '2026-01-01T00:00:00.000Z',
});
const commit = (
  stream: StreamRef,
  expectedVersion: CommitAppend['expectedVersion'],
  ...ids: string[]
): CommitAppend => ({ stream, expectedVersion, events: ids.map(event) });
const none = () => undefined;

describe('planCommitAppends', () => {
  it('chains commits of one aggregate on the versions planned before them', () => {
    const plans = planCommitAppends(
      [
        commit(note('a'), NO_STREAM, 'e1'),
        commit(note('a'), 1, 'e2', 'e3'),
        commit(note('a'), 3, 'e4'),
      ],
      () => 0,
      none,
    );
    expect(plans).toEqual([
      { kind: 'append', firstVersion: 1 },
      { kind: 'append', firstVersion: 2 },
      { kind: 'append', firstVersion: 4 },
    ]);
  });

  it('refuses a conflicting commit, blocks the later ones of its aggregate, and no other', () => {
    const versions = new Map([
      ['a', 5],
      ['b', 2],
    ]);
    const plans = planCommitAppends(
      [
        commit(note('a'), 4, 'e1'), // a is at 5: conflict
        commit(note('b'), 2, 'e2'),
        commit(note('a'), 5, 'e3'), // would fit the stored version, but was decided on e1
        commit(note('b'), 3, 'e4'),
      ],
      (stream) => versions.get(stream.aggregateId) ?? 0,
      none,
    );
    expect(plans.map((plan) => plan.kind)).toEqual(['refused', 'append', 'blocked', 'append']);
    expect(plans[0]).toMatchObject({
      error: { code: 'VERSION_CONFLICT', expectedVersion: 4, actualVersion: 5 },
    });
    expect(plans[3]).toEqual({ kind: 'append', firstVersion: 4 });
  });

  it('reports a conflict at the version the earlier commits of the push left', () => {
    const plans = planCommitAppends(
      [commit(note('a'), NO_STREAM, 'e1'), commit(note('a'), NO_STREAM, 'e2')],
      () => 0,
      none,
    );
    expect(plans[1]).toMatchObject({ kind: 'refused', error: { actualVersion: 1 } });
  });

  it('confirms a re-pushed commit from the stored events and appends the new one after it', () => {
    const stored = new Map<string, StoredEvent>([
      [
        'e1',
        {
          ...event('e1'),
          ...note('a'),
          version: 1,
          position: '1',
          recordedAt: '2026-01-01T00:00:00.000Z',
        } as unknown as StoredEvent,
      ],
    ]);
    const plans = planCommitAppends(
      [commit(note('a'), NO_STREAM, 'e1'), commit(note('a'), 1, 'e2')],
      () => 1,
      (id) => stored.get(id),
    );
    expect(plans[0]).toMatchObject({ kind: 'already-stored', events: [{ id: 'e1' }] });
    expect(plans[1]).toEqual({ kind: 'append', firstVersion: 2 });
  });

  it('refuses an event id an earlier commit of the same call plans, on any aggregate', () => {
    const plans = planCommitAppends(
      [commit(note('a'), NO_STREAM, 'e1'), commit(note('b'), NO_STREAM, 'e1')],
      () => 0,
      none,
    );
    expect(plans[0]?.kind).toBe('append');
    expect(plans[1]).toMatchObject({ kind: 'refused', error: { code: 'DUPLICATE_EVENT_ID' } });
  });

  it('refuses an event id stored on another aggregate', () => {
    const elsewhere = { ...event('e1'), ...note('z'), version: 3 } as unknown as StoredEvent;
    const plans = planCommitAppends(
      [commit(note('a'), NO_STREAM, 'e1')],
      () => 0,
      (id) => (id === 'e1' ? elsewhere : undefined),
    );
    expect(plans[0]).toMatchObject({ kind: 'refused', error: { code: 'DUPLICATE_EVENT_ID' } });
  });

  it('lets errors that are not strata errors through', () => {
    expect(() =>
      planCommitAppends(
        [commit(note('a'), NO_STREAM, 'e1')],
        () => {
          throw new TypeError('broken');
        },
        none,
      ),
    ).toThrow(TypeError);
  });
});

describe('planCommitGroups', () => {
  it('chains versions across groups; a refusal blocks its own group only', () => {
    const plans = planCommitGroups(
      [
        [commit(note('a'), 4, 'e1'), commit(note('a'), 5, 'e2')], // a is at 3: refused, blocked
        [commit(note('a'), 3, 'e3'), commit(note('a'), 4, 'e4')], // another push: fits
        [commit(note('a'), 3, 'e5')], // decided before the second group stored: conflict
      ],
      () => 3,
      none,
    );
    expect(plans.map((group) => group.map((plan) => plan.kind))).toEqual([
      ['refused', 'blocked'],
      ['append', 'append'],
      ['refused'],
    ]);
    expect(plans[2]?.[0]).toMatchObject({ error: { actualVersion: 5 } });
  });
});
