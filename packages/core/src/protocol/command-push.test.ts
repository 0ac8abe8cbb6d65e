import { describe, expect, it } from 'vitest';
import { newKsuid } from '../ids/ksuid.ts';
import {
  CommandCommitSchema,
  CommandPushEnvelopeSchema,
  CommandPushResponseSchema,
} from './command-push.ts';

const command = {
  aggregateType: 'Cart',
  aggregateId: 'c1',
  name: 'addItem',
  input: { sku: 'apple' },
  issuedAt: '2026-12-02T10:00:00.000Z',
};
const event = (version: number, aggregateId = 'c1') => ({
  id: newKsuid(),
  type: 'ItemAdded',
  schemaVersion: 1,
  aggregateType: 'Cart',
  aggregateId,
  version,
  occurredAt: '2026-12-02T10:00:00.000Z',
  data: { sku: 'apple', addedAt: '2026-12-02T10:00:00.000Z' },
  metadata: { commandId: 'cmd-1' },
});

describe('command pushes (protocol v2)', () => {
  it('a commit is a command and its predicted events (none is a prediction too)', () => {
    expect(
      CommandCommitSchema.safeParse({ commitId: 'cmd-1', command, events: [event(2), event(3)] })
        .success,
    ).toBe(true);
    expect(CommandCommitSchema.safeParse({ commitId: 'cmd-1', command, events: [] }).success).toBe(
      true,
    );
  });

  it('refuses a commit without its command, or whose events are of another aggregate', () => {
    expect(CommandCommitSchema.safeParse({ commitId: 'cmd-1', events: [event(1)] }).success).toBe(
      false,
    );
    const mismatch = CommandCommitSchema.safeParse({
      commitId: 'cmd-1',
      command,
      events: [event(1, 'c2')],
    });
    expect(mismatch.error?.issues.map((issue) => [issue.path.join('.'), issue.message])).toEqual([
      ['events.0.aggregateId', 'every event of a commit must belong to the same aggregate'],
    ]);
    const gap = CommandCommitSchema.safeParse({
      commitId: 'cmd-1',
      command,
      events: [event(1), event(3)],
    });
    expect(gap.error?.issues[0]?.path).toEqual(['events', 1, 'version']);
    const badInput = CommandCommitSchema.safeParse({
      commitId: 'cmd-1',
      command: { ...command, input: () => 1 },
      events: [],
    });
    expect(badInput.success).toBe(false);
  });

  it('the envelope names the protocol; a v1 body or a repeated commit id is refused', () => {
    const commits = [{ commitId: 'a' }, { commitId: 'b' }];
    expect(
      CommandPushEnvelopeSchema.safeParse({ protocol: 2, clientId: 'd1', commits }).success,
    ).toBe(true);
    expect(CommandPushEnvelopeSchema.safeParse({ clientId: 'd1', commits }).success).toBe(false);
    expect(
      CommandPushEnvelopeSchema.safeParse({ protocol: 1, clientId: 'd1', commits }).success,
    ).toBe(false);
    const twice = CommandPushEnvelopeSchema.safeParse({
      protocol: 2,
      clientId: 'd1',
      commits: [{ commitId: 'a' }, { commitId: 'a' }],
    });
    expect(twice.error?.issues[0]?.message).toBe('commitId appears twice in the push');
  });

  it('an answer carries the stored events of each accepted command', () => {
    const stored = { ...event(2), position: 7, recordedAt: '2026-12-02T10:00:01.000Z' };
    const answer = {
      protocol: 2,
      results: [
        { commitId: 'a', status: 'accepted', events: [stored] },
        {
          commitId: 'b',
          status: 'rejected',
          code: 'DOMAIN_RULE_VIOLATED',
          message: 'full',
          currentVersion: 11,
        },
      ],
    };
    expect(CommandPushResponseSchema.parse(answer)).toEqual(answer);
    expect(CommandPushResponseSchema.safeParse({ ...answer, protocol: 1 }).success).toBe(false);
  });
  it('an accepted command may name the aggregate’s scopes (a server with scopes), as keys', () => {
    const accepted = {
      commitId: 'c1',
      status: 'accepted',
      events: [],
      scopes: ['project:{"projectId":"p1"}'],
    };
    expect(
      CommandPushResponseSchema.parse({ protocol: 2, results: [accepted] }).results[0],
    ).toEqual(accepted);
    expect(
      CommandPushResponseSchema.safeParse({
        protocol: 2,
        results: [{ ...accepted, scopes: ['not a key!'] }],
      }).success,
    ).toBe(false);
  });
});
