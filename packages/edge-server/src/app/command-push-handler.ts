import {
  COMMAND_PROTOCOL_VERSION,
  type CommandCommit,
  CommandCommitSchema,
  type CommandPushEnvelope,
  type CommandPushResponse,
  type EventEnvelope,
  type EventMetadata,
  isStrataError,
  NameSchema,
  type StreamRef,
  safeParseSchema,
  streamKey,
  toValidationIssues,
  ValidationFailedError,
} from '@strata/core';
import type { Authority } from '../authority/authority.ts';
import type { CommandAuthority } from '../authority/command-authority.ts';
import type { DecidedCommand } from '../authority/decide-batch.ts';
import type { ServerCommand } from '../authority/server-command.ts';
import type { CommitAppend } from '../postgres/append-commits.ts';
import type { PostgresEventStore } from '../postgres/postgres-event-store.ts';
import type { Principal } from './auth.ts';
import {
  type EventsCommitOptions,
  invalidCommitMessage,
  prepareEventsCommit,
} from './push-handler.ts';
import { blockedByEarlierRejection, createPushLedger } from './push-ledger.ts';
import { toWireEvent } from './wire-event.ts';

type CommandResult = CommandPushResponse['results'][number];
type AcceptedResult = CommandResult & { status: 'accepted' };

/** What a v2 push is decided with. */
export interface CommandPushContext {
  readonly principal: Principal;
  readonly store: PostgresEventStore;
  readonly authority: CommandAuthority;
  /** The authority of an aggregate type (`events` for every type when none are registered). */
  readonly authorityOf: (aggregateType: string) => Authority;
  /** How `events` commits are checked (schemas, `evolve`, the write rule). */
  readonly events: Omit<EventsCommitOptions, 'clientId' | 'principal'>;
  /**
   * A server with scopes: the current scope keys of aggregates (by stream key), named in each
   * accepted answer so a scoped device drops what it wrote outside the scopes it holds. Asked
   * once per push, for every aggregate it stored events on.
   */
  readonly scopesOf?: (streams: readonly StreamRef[]) => Promise<ReadonlyMap<string, string[]>>;
  /** The version a rejection reports (`PushOptions.versionOf`); defaults to the stored one. */
  readonly versionOf?: (stream: StreamRef) => Promise<number>;
}

/**
 * Applies a v2 push, commit by commit, in order. Each commit is decided as its aggregate's
 * authority says: `decide` stores the server's own decision (a refused commit never blocks a later
 * command on the same aggregate: each is decided on the server's state), `verify` and `events`
 * store the client's events (a refused commit rejects the later ones on its aggregate, which
 * were decided on top of it, as in v1). A re-pushed command is answered with what it stored.
 * Consecutive `events` commits are stored together (`store.appendCommits`, push-ledger.ts);
 * so are consecutive `decide` or `verify` commits (authority.decideMany and verifyMany,
 * decide-batch.ts), which first let the commits before them settle, since they decide on the
 * stored state.
 * Errors that are not about a commit (`UNAVAILABLE`, non-strata errors) are thrown.
 *
 * @example
 * const envelope = parseOrThrow(CommandPushEnvelopeSchema, body, 'push request');
 * const answer = await applyCommandPush(envelope, { principal, store, authority, authorityOf, events });
 */
export async function applyCommandPush(
  push: CommandPushEnvelope,
  context: CommandPushContext,
): Promise<CommandPushResponse> {
  const { store } = context;
  const versionOf = context.versionOf ?? ((stream: StreamRef) => store.streamVersion(stream));
  const ledger = createPushLedger({
    store,
    versionOf,
    accepted: (commitId, stored): AcceptedResult => ({
      commitId,
      status: 'accepted',
      events: stored.map(toWireEvent),
    }),
  });
  const blocks = (stream: StreamRef | undefined) =>
    context.authorityOf(stream?.aggregateType ?? '') !== 'decide';
  // Consecutive `decide` (or `verify`) commits are decided together (authority.decideMany,
  // verifyMany), once the commits before them are stored; any other commit first lets them be
  // answered, to keep the order.
  let run: { mode: 'decide' | 'verify'; commits: CommandCommit[] } | undefined;
  const decideTogether = async () => {
    if (run === undefined) return;
    const { mode, commits } = run;
    run = undefined;
    await ledger.settle();
    const writer = { principal: context.principal, clientId: push.clientId };
    const batch = { versionOf };
    const answers =
      mode === 'decide'
        ? await context.authority.decideMany(writer, commits.map(serverCommandOf), batch)
        : await context.authority.verifyMany(
            writer,
            commits.map((commit) => ({
              command: serverCommandOf(commit),
              predicted: commit.events as readonly EventEnvelope[],
            })),
            batch,
          );
    for (const [index, commit] of commits.entries()) {
      const answer = answers[index] as DecidedCommand;
      const stream = commit.command;
      if (answer.status === 'stored') {
        ledger.answer(
          { commitId: commit.commitId, status: 'accepted', events: answer.events.map(toWireEvent) },
          stream,
        );
      } else if (answer.status === 'refused') {
        await ledger.reject(commit.commitId, stream, answer.error, {
          blocks: blocks(stream),
          currentVersion: answer.currentVersion,
        });
      } else {
        const blockedAt = ledger.rejectedAt(stream) as number;
        ledger.answer(blockedByEarlierRejection(commit.commitId, blockedAt), stream);
      }
    }
  };
  for (const raw of push.commits) {
    const parsed = safeParseSchema(CommandCommitSchema, raw);
    const mode = parsed.success ? context.authorityOf(parsed.data.command.aggregateType) : 'events';
    if (
      parsed.success &&
      mode !== 'events' &&
      ledger.rejectedAt(parsed.data.command) === undefined
    ) {
      if (run !== undefined && run.mode !== mode) await decideTogether();
      run ??= { mode, commits: [] };
      run.commits.push(parsed.data);
      continue;
    }
    await decideTogether();
    if (!parsed.success) {
      const stream = namedStream(raw);
      const issues = toValidationIssues(parsed.error);
      const error = new ValidationFailedError(invalidCommitMessage(issues), issues, {
        cause: parsed.error,
      });
      await ledger.reject(raw.commitId, stream, error, {
        blocks: blocks(stream),
        afterRejection: 'keep',
      });
      continue;
    }
    const commit = parsed.data;
    const stream = commit.command;
    const blockedAt = ledger.rejectedAt(stream);
    if (blockedAt !== undefined) {
      ledger.answer(blockedByEarlierRejection(commit.commitId, blockedAt), stream);
      continue;
    }
    try {
      ledger.queue(commit.commitId, await prepareCommit(commit, push.clientId, context, ledger));
    } catch (error) {
      // A lost database is the server's problem, not the commit's: the client must retry it.
      if (!isStrataError(error) || isStrataError(error, 'UNAVAILABLE')) throw error;
      await ledger.reject(commit.commitId, stream, error, { blocks: blocks(stream) });
    }
  }
  await decideTogether();
  const entries = await ledger.finish();
  const results = entries.map(({ answer }) => answer as CommandResult);
  const accepted = entries.flatMap(({ answer, stream }, index) =>
    answer.status === 'accepted' && stream !== undefined ? [{ index, stream }] : [],
  );
  if (context.scopesOf !== undefined && accepted.length > 0) {
    // Read once the push's commits are stored: an aggregate's answers all name its scopes
    // after the push (a device goes by its last answer anyway).
    const scopes = await context.scopesOf(accepted.map(({ stream }) => stream));
    for (const { index, stream } of accepted) {
      const result = results[index] as AcceptedResult;
      results[index] = { ...result, scopes: scopes.get(streamKey(stream)) ?? [] };
    }
  }
  return { protocol: COMMAND_PROTOCOL_VERSION, results };
}

/** An `events` commit checked and made ready to be stored with the push's others. */
function prepareCommit(
  commit: CommandCommit,
  clientId: string,
  context: CommandPushContext,
  ledger: ReturnType<typeof createPushLedger>,
): Promise<CommitAppend> {
  const { events } = commit;
  if (events.length === 0) {
    throw new ValidationFailedError(
      'Invalid commit: events: a commit of this aggregate carries its events',
      [{ path: ['events'], message: 'at least one event' }],
    );
  }
  return prepareEventsCommit(context.store, events as readonly EventEnvelope[], {
    ...context.events,
    principal: context.principal,
    clientId,
    settle: (held) => (ledger.holds(held) ? ledger.settle() : undefined),
  });
}

/** The command of a commit, as the authority decides it. */
function serverCommandOf(commit: CommandCommit): ServerCommand {
  const { command, events } = commit;
  return {
    commandId: commit.commitId,
    aggregateType: command.aggregateType,
    aggregateId: command.aggregateId,
    name: command.name,
    input: command.input,
    // Absent on the wire is version 1: clients from before input versions send none.
    inputVersion: command.inputVersion ?? 1,
    metadata: appKeys(events[0]?.metadata),
  };
}

/** The client's metadata without the keys the server sets itself. */
function appKeys(metadata: EventMetadata | undefined): EventMetadata {
  if (metadata === undefined) return {};
  const {
    userId: _user,
    tenant: _tenant,
    clientId: _client,
    commandId: _command,
    ...rest
  } = metadata;
  return rest;
}

/** The aggregate an invalid commit's command names, if both names are valid. */
function namedStream(raw: unknown): StreamRef | undefined {
  const command = (raw as { command?: unknown }).command as
    | Record<string, unknown>
    | null
    | undefined;
  if (command === null || typeof command !== 'object') return undefined;
  const type = NameSchema.safeParse(command.aggregateType);
  const id = NameSchema.safeParse(command.aggregateId);
  return type.success && id.success
    ? { aggregateType: type.data, aggregateId: id.data }
    : undefined;
}
