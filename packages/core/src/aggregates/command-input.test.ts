import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { prepareCommand } from '../commands/prepare-command.ts';
import { commandInputVersion, upgradeCommandInput } from '../commands/upgrade-command-input.ts';
import { isStrataError } from '../errors/errors.ts';
import { defineEvent } from '../events/event-definition.ts';
import { CommandCommitSchema, CommandRequestSchema } from '../protocol/command-push.ts';
import { fromProblemDetails, toProblemDetails } from '../protocol/problem-details.ts';
import { defineAggregate } from './aggregate-definition.ts';
import { defineCommandInput } from './command-input.ts';

// Issue 17: an input schema that changed twice while commands of each version may be waiting.
const NoteInput = defineCommandInput(z.object({ text: z.string() }))
  .nextVersion(z.object({ title: z.string().min(1) }), (v1) => ({ title: v1.text }))
  .nextVersion(z.object({ title: z.string().min(1), pinned: z.boolean().default(false) }), (v2) => {
    if (v2.title === 'explode') throw new TypeError('cannot upgrade this one');
    return { title: v2.title.trim() };
  });

const NoteWritten = defineEvent(
  'NoteWritten',
  z.object({ title: z.string(), pinned: z.boolean() }),
);
const Note = defineAggregate({
  type: 'Note',
  events: [NoteWritten],
  initialState: () => ({ title: '' }),
  evolve: (_state, event) => ({ title: event.data.title }),
}).withCommands((command) => ({
  write: command(NoteInput, (_state, input) => [{ type: 'NoteWritten', data: input }]),
  clear: command(z.object({}), () => []),
}));

const decideOn = {
  aggregateId: 'n1',
  state: { title: '' },
  version: 0,
  now: new Date('2026-12-03T10:00:00.000Z'),
  metadata: { commandId: 'c1', correlationId: 'c1', causationId: 'c1' },
  newId: () => 'e1',
};

const codeOf = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    return isStrataError(error) ? error.code : `not a strata error: ${String(error)}`;
  }
  return 'no error';
};

describe('command input versions', () => {
  it('upgrades input of each older version to the current one, validating on the way', () => {
    expect(NoteInput.inputVersion).toBe(3);
    expect(NoteInput.upgrade(1, { text: ' Milk ' })).toEqual({ title: 'Milk' });
    expect(NoteInput.upgrade(2, { title: 'Eggs' })).toEqual({ title: 'Eggs' });
    // The current version comes back as given: the command parses it.
    const current = { title: 'Tea', pinned: true };
    expect(NoteInput.upgrade(3, current)).toBe(current);
    expect(codeOf(() => NoteInput.upgrade(1, { title: 'v2 shape at v1' }))).toBe(
      'VALIDATION_FAILED',
    );
    // An upgrader that throws, or one that makes invalid input, refuses that input only.
    expect(codeOf(() => NoteInput.upgrade(2, { title: 'explode' }))).toBe('VALIDATION_FAILED');
    expect(codeOf(() => NoteInput.upgrade(1, { text: '' }))).toBe('VALIDATION_FAILED');
    expect(() => NoteInput.upgrade(4, {})).toThrow(RangeError);
  });

  it('a command runs input of any version it knows; no version means the current one', () => {
    expect(commandInputVersion(Note, 'write')).toBe(3);
    expect(commandInputVersion(Note, 'clear')).toBe(1);
    const fromV1 = prepareCommand(Note, 'write', { text: 'Milk' }, { inputVersion: 1 });
    expect(fromV1.decide(decideOn).events.map((event) => event.data)).toEqual([
      { title: 'Milk', pinned: false },
    ]);
    const current = prepareCommand(Note, 'write', { title: 'Milk', pinned: true });
    expect(current.decide(decideOn).events.map((event) => event.data)).toEqual([
      { title: 'Milk', pinned: true },
    ]);
    expect(upgradeCommandInput(Note, 'clear', 1, {})).toEqual({});
  });

  it('refuses a version newer than it knows, a removed command and forged versions, typed', () => {
    let newer: unknown;
    try {
      prepareCommand(Note, 'write', { title: 'x' }, { inputVersion: 4 });
    } catch (error) {
      newer = error;
    }
    expect(isStrataError(newer, 'UNKNOWN_COMMAND')).toBe(true);
    const known = newer as { inputVersion: number; knownInputVersion: number; message: string };
    expect([known.inputVersion, known.knownInputVersion]).toEqual([4, 3]);
    expect(known.message).toContain('up to input version 3, not version 4');
    // Across the wire it stays the same error, with its versions.
    const back = fromProblemDetails(toProblemDetails(newer));
    expect(back).toMatchObject({ code: 'UNKNOWN_COMMAND', inputVersion: 4, knownInputVersion: 3 });
    expect(codeOf(() => prepareCommand(Note, 'erase', {}, { inputVersion: 1 }))).toBe(
      'UNKNOWN_COMMAND',
    );
    for (const forged of [0, -1, 1.5, Number.NaN]) {
      expect(codeOf(() => upgradeCommandInput(Note, 'write', forged, { text: 'x' }))).toBe(
        'VALIDATION_FAILED',
      );
    }
  });

  it('the wire carries the version past 1 only, bounded as schema versions are', () => {
    const commit = (inputVersion?: unknown) => ({
      commitId: 'c1',
      command: {
        aggregateType: 'Note',
        aggregateId: 'n1',
        name: 'write',
        input: { text: 'Milk' },
        issuedAt: '2026-12-03T10:00:00.000Z',
        ...(inputVersion === undefined ? {} : { inputVersion }),
      },
      events: [],
    });
    expect(CommandCommitSchema.safeParse(commit()).success).toBe(true);
    expect(CommandCommitSchema.safeParse(commit(2)).success).toBe(true);
    for (const forged of [0, -1, 1e9, '2', 1.5, null]) {
      expect(CommandCommitSchema.safeParse(commit(forged)).success, String(forged)).toBe(false);
    }
    const request = { aggregateType: 'Note', aggregateId: 'n1', name: 'write', input: {} };
    expect(CommandRequestSchema.safeParse({ ...request, inputVersion: 2 }).success).toBe(true);
    expect(CommandRequestSchema.safeParse({ ...request, inputVersion: 0 }).success).toBe(false);
  });
});
