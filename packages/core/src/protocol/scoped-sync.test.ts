import { describe, expect, it } from 'vitest';
import { ForbiddenError, isStrataError } from '../errors/errors.ts';
import { newKsuid } from '../ids/ksuid.ts';
import { fromProblemDetails, toProblemDetails } from './problem-details.ts';
import {
  ScopedPullRequestSchema,
  ScopedPullResponseSchema,
  ScopedSubscribeQuerySchema,
  ScopedSubscriptionMessageSchema,
} from './scoped-sync.ts';

const project = 'project:{"projectId":"p1"}';
const event = {
  id: newKsuid(),
  type: 'TaskCreated',
  schemaVersion: 1,
  aggregateType: 'Task',
  aggregateId: 't1',
  version: 1,
  occurredAt: '2026-12-02T10:00:00.000Z',
  data: {},
  metadata: {},
  position: 3,
  recordedAt: '2026-12-02T10:00:00.000Z',
};

describe('scoped sync on the wire', () => {
  it('a pull names scopes, each with its own cursor, and defaults the limit', () => {
    expect(
      ScopedPullRequestSchema.parse({
        scopes: [{ scope: project, after: 's3.3' }, { scope: 'tenant' }],
      }),
    ).toEqual({ scopes: [{ scope: project, after: 's3.3' }, { scope: 'tenant' }], limit: 100 });
  });

  it.each([
    [{ scopes: [] }, 'no scope'],
    [{ scopes: [{ scope: project }, { scope: project }] }, 'a scope twice'],
    [{ scopes: [{ scope: 'project:{"b":1,"a":1}' }] }, 'a key not in canonical form'],
    [{ scopes: [{ scope: 'tenant', after: 'bad cursor!' }] }, 'a bad cursor'],
    [{ scopes: [{ scope: 'tenant' }], limit: 1001 }, 'a limit over the maximum'],
    [{ scopes: [{ scope: 'tenant' }], extra: 1 }, 'an unknown key'],
    [{ scopes: Array.from({ length: 101 }, (_, i) => ({ scope: `s${i}` })) }, 'over 100 scopes'],
  ])('a pull body %j is refused (%s)', (body, _why) => {
    expect(ScopedPullRequestSchema.safeParse(body).success).toBe(false);
  });

  it('an answer lists items in order: events with their scopes, left aggregates, snapshots', () => {
    const answer = {
      items: [
        { kind: 'event', cursor: 's3.3', event, scopes: [project] },
        { kind: 'left', cursor: 's4.4', scope: project, aggregateType: 'Task', aggregateId: 't1' },
        {
          kind: 'snapshot',
          cursor: 's5.2',
          scopes: [project],
          aggregateType: 'Task',
          aggregateId: 't2',
          version: 2,
          state: { title: 'x' },
          fingerprint: 'f1',
          takenAt: '2026-12-02T10:00:00.000Z',
        },
      ],
      cursors: { [project]: 's5.5' },
      hasMore: false,
    };
    expect(ScopedPullResponseSchema.parse(answer)).toEqual(answer);
    expect(
      ScopedPullResponseSchema.safeParse({
        ...answer,
        items: [{ kind: 'event', cursor: 's1.1', event, scopes: [] }],
      }).success,
    ).toBe(false);
  });

  it('a subscription takes one scope or several, and says why it closes', () => {
    expect(ScopedSubscribeQuerySchema.parse({ scope: project })).toEqual({ scope: project });
    expect(ScopedSubscribeQuerySchema.parse({ scope: [project, 'tenant'], after: 's9.9' })).toEqual(
      {
        scope: [project, 'tenant'],
        after: 's9.9',
      },
    );
    expect(ScopedSubscribeQuerySchema.safeParse({}).success).toBe(false);
    expect(
      ScopedSubscriptionMessageSchema.parse({
        kind: 'closing',
        reason: 'access-changed',
        resumeAfter: 's9.9',
      }),
    ).toEqual({ kind: 'closing', reason: 'access-changed', resumeAfter: 's9.9' });
  });

  it('a refused scope travels in problem+json and comes back as a typed FORBIDDEN', () => {
    const problem = toProblemDetails(new ForbiddenError('Not yours', { scopes: [project] }));
    expect(problem).toMatchObject({ status: 403, code: 'FORBIDDEN', scopes: [project] });
    const error = fromProblemDetails(JSON.parse(JSON.stringify(problem)));
    expect(isStrataError(error, 'FORBIDDEN') && error.scopes).toEqual([project]);
    expect(
      (fromProblemDetails(toProblemDetails(new ForbiddenError())) as ForbiddenError).scopes,
    ).toBeUndefined();
  });
});
