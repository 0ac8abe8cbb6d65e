// Protocol v2 of `POST /push`: each commit carries the command that produced it, so the server
// can decide it again with the shared aggregates (authority `decide` or `verify`). The client's
// events are its prediction; the answer carries the events the server stored.
import * as z from 'zod/mini';
import { EventEnvelopeSchema, NameSchema, StoredEventSchema } from './event-schemas.ts';
import { JsonValueSchema } from './json-schema.ts';
import {
  checkCommitEvents,
  checkEnvelopeCommitIds,
  ENVELOPE_SHAPE,
  RejectedCommitSchema,
} from './push.ts';
import { TimestampSchema } from './safe-text.ts';
import { ScopeKeySchema } from './scoped-sync.ts';

/** The protocol version of command pushes; both sides check it (`protocol` in body and answer). */
export const COMMAND_PROTOCOL_VERSION = 2;

/**
 * The version of a command's input schema (`defineCommandInput`, issue 17), bounded as event
 * schema versions are. Absent means 1: clients send it only past 1, so a server from before input
 * versions still takes every command it can decide.
 */
export const InputVersionSchema = z.number().check(z.int(), z.minimum(1), z.maximum(10_000));

/** A command as the device executed it: enough for the server to run it again. */
export const WireCommandSchema = z.strictObject({
  aggregateType: NameSchema,
  aggregateId: NameSchema,
  /** The command's name in the aggregate's `withCommands`. */
  name: NameSchema,
  /** The input as the caller gave it (before parsing): the server parses it with the same schema. */
  input: JsonValueSchema,
  /**
   * The input's version when past 1: a newer server upgrades it with the command's declared
   * upgraders; one that knows only older versions refuses it with `UNKNOWN_COMMAND`.
   */
  inputVersion: z.optional(InputVersionSchema),
  /** When the user issued it (the device's clock); the server decides at its own time. */
  issuedAt: TimestampSchema,
});

/**
 * One command and the events the device predicted for it (none when it predicted no change).
 * `commitId` is the command's id: a re-push of the same command is answered with what was
 * stored the first time, never decided twice.
 */
export const CommandCommitSchema = z
  .strictObject({
    commitId: NameSchema,
    command: WireCommandSchema,
    events: z.array(EventEnvelopeSchema).check(z.maxLength(1000)),
  })
  .check((ctx) => checkCommitEvents(ctx, ctx.value.events, ctx.value.command));

/**
 * The shape of a v2 push the server answers per commit: the envelope is checked here, each
 * commit on its own with `CommandCommitSchema` (one bad commit is a rejection, not a failed push).
 */
export const CommandPushEnvelopeSchema = z
  .strictObject({ protocol: z.literal(COMMAND_PROTOCOL_VERSION), ...ENVELOPE_SHAPE })
  .check(checkEnvelopeCommitIds);

/** A whole v2 push body, as a client builds it. */
export const CommandPushRequestSchema = z.strictObject({
  protocol: z.literal(COMMAND_PROTOCOL_VERSION),
  clientId: NameSchema,
  commits: z.array(CommandCommitSchema).check(z.minLength(1), z.maxLength(1000)),
});

/**
 * A command the server stored: the events it stored for it (its own decision under authority
 * `decide`; none when it decided nothing), which replace the device's prediction.
 */
export const AcceptedCommandSchema = z.strictObject({
  commitId: NameSchema,
  status: z.literal('accepted'),
  events: z.array(StoredEventSchema),
  /**
   * On a server that declares scopes: the aggregate's scopes once the push's commits are stored
   * (every answer of one aggregate names the same). A scoped device that holds none of them
   * drops the aggregate (it wrote outside what it replicates, e.g. a task created for another
   * team); one that holds some knows where the aggregate belongs.
   */
  scopes: z.optional(z.array(ScopeKeySchema)),
});

/** A command the server refused: the code, a message, and the aggregate's current version (as v1). */
export const RejectedCommandSchema = RejectedCommitSchema;

/** The answer to a v2 push: one result per commit, in request order. */
export const CommandPushResponseSchema = z.strictObject({
  protocol: z.literal(COMMAND_PROTOCOL_VERSION),
  results: z.array(z.discriminatedUnion('status', [AcceptedCommandSchema, RejectedCommandSchema])),
});

/** `POST /v2/commands`: one command for the server to run (a client without a local store). */
export const CommandRequestSchema = z.strictObject({
  /** Optional: the same id again returns what the first run stored (a safe retry). */
  commandId: z.optional(NameSchema),
  aggregateType: NameSchema,
  aggregateId: NameSchema,
  name: NameSchema,
  input: JsonValueSchema,
  /** The input's version, as in a push (absent: 1). */
  inputVersion: z.optional(InputVersionSchema),
});

/** The answer to `POST /v2/commands`: the events the server stored (none: nothing changed). */
export const CommandAnswerSchema = z.strictObject({ events: z.array(StoredEventSchema) });

export type CommandRequest = z.infer<typeof CommandRequestSchema>;
export type CommandAnswer = z.infer<typeof CommandAnswerSchema>;
export type WireCommand = z.infer<typeof WireCommandSchema>;
export type CommandCommit = z.infer<typeof CommandCommitSchema>;
export type CommandPushEnvelope = z.infer<typeof CommandPushEnvelopeSchema>;
export type CommandPushRequest = z.infer<typeof CommandPushRequestSchema>;
export type AcceptedCommand = z.infer<typeof AcceptedCommandSchema>;
export type RejectedCommand = z.infer<typeof RejectedCommandSchema>;
export type CommandPushResponse = z.infer<typeof CommandPushResponseSchema>;
