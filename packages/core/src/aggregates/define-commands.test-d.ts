import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { defineEvent } from '../events/event-definition.ts';
import {
  type CommandContext,
  type CommandInput,
  type CommandName,
  defineAggregate,
  type EventOf,
  type StateOf,
} from './aggregate-definition.ts';
import { defineCommandInput } from './command-input.ts';

// What a user writes to define an aggregate and its commands, and what the compiler makes of it.
const TaskAdded = defineEvent(
  'TaskAdded',
  z.object({ title: z.string(), tags: z.array(z.string()) }),
);
const TaskDone = defineEvent('TaskDone', z.object({}));
type Board = { readonly titles: readonly string[]; readonly done: number };

const Tasks = defineAggregate({
  type: 'Tasks',
  events: [TaskAdded, TaskDone],
  initialState: (): Board => ({ titles: [], done: 0 }),
  evolve: (state, event) =>
    event.type === 'TaskAdded'
      ? { ...state, titles: [...state.titles, event.data.title] }
      : { ...state, done: state.done + 1 },
}).withCommands((command) => ({
  add: command(
    z.object({
      title: z.string().trim().min(1),
      tags: z.array(z.string()).default([]),
      due: z.iso
        .datetime()
        .transform((text) => new Date(text))
        .optional(),
    }),
    (state, input, context) => {
      expectTypeOf(state).toEqualTypeOf<Board>();
      // decide gets the schema's output: defaults filled in, transforms applied.
      expectTypeOf(input).toEqualTypeOf<{
        title: string;
        tags: string[];
        due?: Date | undefined;
      }>();
      expectTypeOf(context).toEqualTypeOf<CommandContext>();
      return [{ type: 'TaskAdded', data: { title: input.title, tags: input.tags } }];
    },
  ),
  finish: command(z.object({}), () => [{ type: 'TaskDone', data: {} }]),
}));

describe('defining commands', () => {
  it("a command's input is its schema's input: defaulted and optional fields may be left out", () => {
    expectTypeOf<CommandName<typeof Tasks>>().toEqualTypeOf<'add' | 'finish'>();
    expectTypeOf<CommandInput<typeof Tasks, 'add'>>().toEqualTypeOf<{
      title: string;
      tags?: string[] | undefined;
      due?: string | undefined;
    }>();
    expectTypeOf<CommandInput<typeof Tasks, 'finish'>>().toEqualTypeOf<Record<string, never>>();
  });

  it('state and events are inferred from initialState and the event definitions', () => {
    expectTypeOf<StateOf<typeof Tasks>>().toEqualTypeOf<Board>();
    expectTypeOf<EventOf<typeof Tasks>['type']>().toEqualTypeOf<'TaskAdded' | 'TaskDone'>();
  });

  it('decide may only return events the aggregate declares, with their data', () => {
    defineAggregate({
      type: 'Tasks',
      events: [TaskAdded, TaskDone],
      initialState: (): Board => ({ titles: [], done: 0 }),
      evolve: (state) => state,
    }).withCommands((command) => ({
      // @ts-expect-error: TaskRemoved is not one of the aggregate's events
      remove: command(z.object({}), () => [{ type: 'TaskRemoved', data: {} }]),
      // @ts-expect-error: TaskAdded's title is a string
      add: command(z.object({}), () => [{ type: 'TaskAdded', data: { title: 1, tags: [] } }]),
      // @ts-expect-error: TaskAdded needs its tags
      addBare: command(z.object({}), () => [{ type: 'TaskAdded', data: { title: 'x' } }]),
    }));
  });

  it("decide's input is the parsed input, not the raw one", () => {
    defineAggregate({
      type: 'Tasks',
      events: [TaskAdded],
      initialState: (): Board => ({ titles: [], done: 0 }),
      evolve: (state) => state,
    }).withCommands((command) => ({
      add: command(z.object({ count: z.string().transform(Number) }), (_state, input) => {
        expectTypeOf(input.count).toEqualTypeOf<number>();
        // @ts-expect-error: after the transform, count is a number
        input.count.toUpperCase();
        return [];
      }),
    }));
  });

  it('evolve sees the declared events only and must return the state', () => {
    defineAggregate({
      type: 'Tasks',
      events: [TaskAdded, TaskDone],
      initialState: (): Board => ({ titles: [], done: 0 }),
      evolve: (state, event) => {
        // @ts-expect-error: no such event type in this aggregate
        if (event.type === 'TaskRemoved') return state;
        if (event.type === 'TaskAdded') expectTypeOf(event.data.tags).toEqualTypeOf<string[]>();
        return state;
      },
    });
    defineAggregate({
      type: 'Tasks',
      events: [TaskAdded],
      initialState: (): Board => ({ titles: [], done: 0 }),
      // @ts-expect-error: evolve must return a Board
      evolve: () => ({ titles: 'none' }),
    });
  });

  it("an event's next version upcasts from the previous version's data", () => {
    const Renamed = defineEvent('Renamed', z.object({ text: z.string() })).nextVersion(
      z.object({ title: z.string() }),
      (v1) => {
        expectTypeOf(v1).toEqualTypeOf<{ text: string }>();
        return { title: v1.text };
      },
    );
    expectTypeOf(Renamed.parse).returns.toEqualTypeOf<{ title: string }>();
    defineEvent('Renamed', z.object({ text: z.string() })).nextVersion(
      z.object({ title: z.string() }),
      // @ts-expect-error: the upcast must produce the next version's data
      (v1) => ({ text: v1.text }),
    );
  });
});

describe('versioned command inputs (issue 17)', () => {
  it('decide gets the current version; callers give the current input; upgraders are typed', () => {
    const RenameInput = defineCommandInput(z.object({ text: z.string() })).nextVersion(
      z.object({ title: z.string(), tags: z.array(z.string()).default([]) }),
      (v1) => {
        expectTypeOf(v1).toEqualTypeOf<{ text: string }>();
        return { title: v1.text };
      },
    );
    const Renamable = defineAggregate({
      type: 'Tasks',
      events: [TaskAdded],
      initialState: (): Board => ({ titles: [], done: 0 }),
      evolve: (state) => state,
    }).withCommands((command) => ({
      rename: command(RenameInput, (_state, input) => {
        expectTypeOf(input).toEqualTypeOf<{ title: string; tags: string[] }>();
        return [{ type: 'TaskAdded', data: input }];
      }),
    }));
    expectTypeOf<CommandInput<typeof Renamable, 'rename'>>().toEqualTypeOf<{
      title: string;
      tags?: string[] | undefined;
    }>();
    expectTypeOf(RenameInput.upgrade).returns.toEqualTypeOf<{
      title: string;
      tags?: string[] | undefined;
    }>();
    defineCommandInput(z.object({ text: z.string() })).nextVersion(
      z.object({ title: z.string() }),
      // @ts-expect-error: the upgrader must produce the next version's input
      (v1) => ({ text: v1.text }),
    );
  });
});
