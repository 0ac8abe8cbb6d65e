import { describe, expect, expectTypeOf, it } from 'vitest';
import { z as classic } from 'zod';
import * as z from 'zod/mini';
import { createCommandHandler } from '../commands/command-handler.ts';
import { ValidationFailedError } from '../errors/errors.ts';
import { createInMemoryEventStore } from '../event-store/in-memory-event-store.ts';
import { defineEvent } from '../events/event-definition.ts';
import { defineScope } from '../scopes/scope-definition.ts';
import { snapshotFingerprint } from '../snapshots/snapshot-fingerprint.ts';
import { type CommandInput, defineAggregate } from './aggregate-definition.ts';
import { defineCommandInput } from './command-input.ts';

// An app may write its schemas with zod/mini (a smaller bundle) as well as with classic zod
// (example-todo): every definition takes either, infers the same types and validates alike.
const Added = defineEvent('Added', z.object({ title: z.string().check(z.minLength(1)) }));
const Renamed = defineEvent('Renamed', z.object({ text: z.string() })).nextVersion(
  z.object({ title: z.string() }),
  (v1) => ({ title: v1.text }),
);
const AddInput = defineCommandInput(z.object({ text: z.string() })).nextVersion(
  z.object({ title: z.string().check(z.minLength(1)), tags: z._default(z.array(z.string()), []) }),
  (v1) => ({ title: v1.text }),
);
const StateSchema = z.object({ titles: z.array(z.string()) });

const List = defineAggregate({
  type: 'List',
  events: [Added, Renamed],
  initialState: (): z.infer<typeof StateSchema> => ({ titles: [] }),
  evolve: (state, event) => ({ titles: [...state.titles, event.data.title] }),
  snapshots: { schema: StateSchema },
}).withCommands((command) => ({
  add: command(AddInput, (_state, input) => [{ type: 'Added', data: { title: input.title } }]),
  rename: command(z.object({ title: z.string() }), (_state, input) => [
    { type: 'Renamed', data: { title: input.title } },
  ]),
}));

describe('definitions with zod/mini schemas', () => {
  it('infers event data and command input types from them', () => {
    expectTypeOf(Renamed.parse).returns.toEqualTypeOf<{ title: string }>();
    expectTypeOf<CommandInput<typeof List, 'add'>>().toEqualTypeOf<{
      title: string;
      tags?: string[] | undefined;
    }>();
    expectTypeOf<CommandInput<typeof List, 'rename'>>().toEqualTypeOf<{ title: string }>();
  });

  it('validates and upcasts event data', () => {
    expect(Renamed.decode(1, { text: 'Milk' })).toEqual({ title: 'Milk' });
    expect(() => Added.parse({ title: '' })).toThrow(ValidationFailedError);
    expect(() => Added.parse({ title: 3 })).toThrow(
      expect.objectContaining({
        code: 'VALIDATION_FAILED',
        issues: [{ path: ['title'], message: 'Invalid input: expected string, received number' }],
      }),
    );
  });

  it('executes commands, upgrading old input and refusing bad input with VALIDATION_FAILED', async () => {
    const app = createCommandHandler({ store: createInMemoryEventStore() });
    const added = await app.execute(List, 'l1', 'add', { title: 'Milk' });
    expect(added.state).toEqual({ titles: ['Milk'] });
    expect(AddInput.upgrade(1, { text: 'Eggs' })).toEqual({ title: 'Eggs' });
    await expect(app.execute(List, 'l1', 'add', { title: '' })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      issues: [{ path: ['title'], message: 'Too small: expected string to have >=1 characters' }],
    });
  });

  it('fingerprints a snapshot schema as its classic zod twin', () => {
    expect(List.snapshots?.fingerprint).toBe(
      snapshotFingerprint('List', classic.object({ titles: classic.array(classic.string()) })),
    );
  });

  it('validates scope parameters, refusing bad ones with VALIDATION_FAILED', () => {
    const team = defineScope('team', z.object({ teamId: z.string().check(z.minLength(1)) }));
    expect(team({ teamId: 't1' }).key).toBe('team:{"teamId":"t1"}');
    expect(() => team({ teamId: '' })).toThrow(ValidationFailedError);
  });
});
