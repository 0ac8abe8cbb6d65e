// A note in a folder, edited many times: the sample domain's aggregate for snapshot bootstrap.
// Its snapshots opt in (a device back-filling `folder(folderId)` starts a long-edited note from
// the server's snapshot instead of its whole history). `defineNote({ bootstrap: false })` is the
// same aggregate in an app that does not opt in.
import {
  defineAggregate,
  defineEvent,
  defineScope,
  everyNVersions,
  scopeMembership,
} from '@strata/core';
import { z } from 'zod';

/** A note was created in a folder. */
export const NoteCreated = defineEvent(
  'NoteCreated',
  z.object({ folderId: z.string(), text: z.string() }),
);
/** A note's text changed. */
export const NoteEdited = defineEvent('NoteEdited', z.object({ text: z.string() }));

export const NoteStateSchema = z.object({
  folderId: z.string().optional(),
  text: z.string(),
  edits: z.number().int(),
});
export type NoteState = z.infer<typeof NoteStateSchema>;

/** The server snapshots a note every `SNAPSHOT_EVERY` versions. */
export const SNAPSHOT_EVERY = 5;

/** The Note aggregate, with or without the snapshot-bootstrap opt-in. */
export function defineNote({ bootstrap }: { readonly bootstrap: boolean }) {
  return defineAggregate({
    type: 'Note',
    events: [NoteCreated, NoteEdited],
    initialState: (): NoteState => ({ text: '', edits: 0 }),
    evolve: (state, event): NoteState =>
      event.type === 'NoteCreated'
        ? { folderId: event.data.folderId, text: event.data.text, edits: 0 }
        : { ...state, text: event.data.text, edits: state.edits + 1 },
    snapshots: { schema: NoteStateSchema, policy: everyNVersions(SNAPSHOT_EVERY), bootstrap },
  }).withCommands((command) => ({
    create: command(z.object({ folderId: z.string(), text: z.string() }), (_state, input) => [
      { type: 'NoteCreated', data: input },
    ]),
    edit: command(z.object({ text: z.string() }), (_state, input) => [
      { type: 'NoteEdited', data: input },
    ]),
  }));
}

export const Note = defineNote({ bootstrap: true });

/** Every note of one folder. */
export const folder = defineScope('folder', z.object({ folderId: z.string().min(1) }));
export const noteScopes = scopeMembership(Note, (scopes, event) =>
  event.type === 'NoteCreated' ? [folder({ folderId: event.data.folderId })] : scopes,
);
