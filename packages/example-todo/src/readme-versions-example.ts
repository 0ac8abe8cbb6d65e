import {
  createCommandHandler,
  createInMemoryEventStore,
  defineAggregate,
  defineCommandInput,
  defineEvent,
  upgradeCommandInput,
} from '@strata/core';
import { z } from 'zod';

const NoteWritten = defineEvent('NoteWritten', z.object({ title: z.string() }));

// Version 1 of `write` took `{ text }`; version 2 takes `{ title, pinned }`. Commands an older app
// left in a device's outbox (or still pushes) are upgraded by the function in between.
const WriteInput = defineCommandInput(z.object({ text: z.string() })).nextVersion(
  z.object({ title: z.string().min(1), pinned: z.boolean().default(false) }),
  (v1) => ({ title: v1.text }),
);

export const Note = defineAggregate({
  type: 'Note',
  events: [NoteWritten],
  initialState: () => ({ title: '' }),
  evolve: (_state, event) => ({ title: event.data.title }),
}).withCommands((command) => ({
  // `decide` and callers see version 2 only.
  write: command(WriteInput, (_state, input) => [
    { type: 'NoteWritten', data: { title: input.title } },
  ]),
}));

// What the server and the sync client do with a command of version 1:
console.log(upgradeCommandInput(Note, 'write', 1, { text: 'Milk' })); // { title: 'Milk' }

const app = createCommandHandler({ store: createInMemoryEventStore() });
const { state } = await app.execute(Note, 'note-1', 'write', { title: 'Eggs' });
console.log(state); // { title: 'Eggs' }
