import { describe, expect, it } from 'vitest';
import type { PostgresStoredEvent } from '../postgres/postgres-stored-event.ts';
import { createWritingPrincipals } from './writing-principals.ts';

const stamped = (metadata: Record<string, unknown>) =>
  [{ metadata } as unknown as PostgresStoredEvent] as const;

describe('createWritingPrincipals', () => {
  it('names the principal of a command only while its decision runs', async () => {
    const writing = createWritingPrincipals();
    const ann = { tenant: 'acme', subject: 'ann', claims: { projects: ['p1'] } };
    const events = stamped({ commandId: 'c1', userId: 'ann', tenant: 'acme' });
    expect(writing.writerOf(events)).toBeUndefined();
    const seen = await writing.during('c1', ann, async () => writing.writerOf(events));
    expect(seen).toBe(ann);
    expect(writing.writerOf(events)).toBeUndefined();
  });

  it('tells apart two users deciding one command id at once, and answers none for a stranger', async () => {
    const writing = createWritingPrincipals();
    const ann = { tenant: 'acme', subject: 'ann' };
    const bob = { tenant: 'acme', subject: 'bob' };
    let release: (value?: unknown) => void = () => undefined;
    const blocked = new Promise((resolve) => {
      release = resolve;
    });
    const both = Promise.all([
      writing.during('c1', ann, () => blocked),
      writing.during('c1', bob, () => blocked),
    ]);
    expect(writing.writerOf(stamped({ commandId: 'c1', userId: 'bob', tenant: 'acme' }))).toBe(bob);
    expect(writing.writerOf(stamped({ commandId: 'c1', userId: 'ann', tenant: 'acme' }))).toBe(ann);
    expect(writing.writerOf(stamped({ commandId: 'c1', userId: 'eve', tenant: 'acme' }))).toBe(
      undefined,
    );
    expect(writing.writerOf(stamped({ commandId: 'c1', userId: 'ann', tenant: 'other' }))).toBe(
      undefined,
    );
    expect(writing.writerOf(stamped({ userId: 'ann', tenant: 'acme' }))).toBeUndefined();
    release();
    await both;
    expect(writing.writerOf(stamped({ commandId: 'c1', userId: 'ann', tenant: 'acme' }))).toBe(
      undefined,
    );
  });

  it('unregisters after a refusal too', async () => {
    const writing = createWritingPrincipals();
    const ann = { tenant: 'acme', subject: 'ann' };
    await expect(
      writing.during('c1', ann, async () => {
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect(writing.writerOf(stamped({ commandId: 'c1', userId: 'ann', tenant: 'acme' }))).toBe(
      undefined,
    );
  });
});
