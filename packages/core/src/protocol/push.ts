import * as z from 'zod/mini';
import { ERROR_CODES } from '../errors/strata-error.ts';
import { EventEnvelopeSchema, NameSchema } from './event-schemas.ts';

type EventEnvelope = z.infer<typeof EventEnvelopeSchema>;

/**
 * The events one command produced: one aggregate, contiguous versions, distinct ids. The server
 * accepts or rejects a commit as a whole.
 */
export const CommitSchema = z
  .strictObject({
    commitId: NameSchema,
    events: z.array(EventEnvelopeSchema).check(z.minLength(1), z.maxLength(1000)),
  })
  .check((ctx) => {
    const [first] = ctx.value.events;
    if (first !== undefined) checkCommitEvents(ctx, ctx.value.events, first);
  });

/**
 * The rules of a commit's events (both push protocols): all of `aggregate`, contiguous versions
 * from the first, distinct ids. Issues are reported at `events.<index>`.
 */
export function checkCommitEvents(
  ctx: { issues: z.core.$ZodRawIssue[] },
  events: readonly EventEnvelope[],
  aggregate: { readonly aggregateType: string; readonly aggregateId: string },
): void {
  const [first] = events;
  if (first === undefined) return;
  const ids = new Set<string>();
  events.forEach((event, index) => {
    const issue = (message: string, key: string) =>
      ctx.issues.push({ code: 'custom', message, path: ['events', index, key], input: event });
    if (
      event.aggregateType !== aggregate.aggregateType ||
      event.aggregateId !== aggregate.aggregateId
    ) {
      issue('every event of a commit must belong to the same aggregate', 'aggregateId');
    }
    if (event.version !== first.version + index) {
      issue(
        `version must be ${first.version + index}: versions in a commit are contiguous`,
        'version',
      );
    }
    if (ids.has(event.id)) issue('event id appears twice in the commit', 'id');
    ids.add(event.id);
  });
}

/** Reports a commitId seen earlier in the same push (every push schema checks it). */
export function checkCommitIdOnce(
  ctx: { issues: z.core.$ZodRawIssue[] },
  seen: Set<string>,
  commitId: string,
  index: number,
): void {
  if (seen.has(commitId)) {
    ctx.issues.push({
      code: 'custom',
      message: 'commitId appears twice in the push',
      path: ['commits', index, 'commitId'],
      input: commitId,
    });
  }
  seen.add(commitId);
}

/** What every push envelope holds (both protocols): the device's id and commits named by id. */
export const ENVELOPE_SHAPE = {
  clientId: NameSchema,
  commits: z
    .array(z.looseObject({ commitId: NameSchema }))
    .check(z.minLength(1), z.maxLength(1000)),
};

/** An envelope's commit ids are distinct (each push envelope schema checks it). */
export function checkEnvelopeCommitIds(ctx: {
  value: { readonly commits: readonly { readonly commitId: string }[] };
  issues: z.core.$ZodRawIssue[];
}): void {
  const commitIds = new Set<string>();
  ctx.value.commits.forEach((commit, index) => {
    checkCommitIdOnce(ctx, commitIds, commit.commitId, index);
  });
}

/** `POST /v1/push` body. */
export const PushRequestSchema = z
  .strictObject({
    clientId: NameSchema,
    commits: z.array(CommitSchema).check(z.minLength(1), z.maxLength(1000)),
  })
  .check((ctx) => {
    const commitIds = new Set<string>();
    const eventIds = new Set<string>();
    ctx.value.commits.forEach((commit, index) => {
      checkCommitIdOnce(ctx, commitIds, commit.commitId, index);
      commit.events.forEach((event, eventIndex) => {
        if (eventIds.has(event.id)) {
          ctx.issues.push({
            code: 'custom',
            message: 'event id appears in two commits',
            path: ['commits', index, 'events', eventIndex, 'id'],
            input: event.id,
          });
        }
        eventIds.add(event.id);
      });
    });
  });

/**
 * The shape of a `POST /v1/push` body the server answers per commit: `clientId` and the commit
 * ids are checked here (distinct, safe names), each commit's content is checked on its own with
 * `CommitSchema`, so one bad commit is answered `rejected` instead of failing the whole push and
 * blocking the client's queue (issue 12, item 2).
 *
 * @example
 * const envelope = parseOrThrow(PushEnvelopeSchema, body, 'push request');
 * for (const raw of envelope.commits) safeParseSchema(CommitSchema, raw);
 */
export const PushEnvelopeSchema = z.strictObject(ENVELOPE_SHAPE).check(checkEnvelopeCommitIds);

/** A commit the server stored (or found already stored): the positions of its events. */
export const AcceptedCommitSchema = z.strictObject({
  commitId: NameSchema,
  status: z.literal('accepted'),
  positions: z.array(z.number().check(z.int(), z.minimum(1))),
});

/**
 * A commit the server refused, with the error code and the aggregate's current version, so the
 * client can rebase on top of it.
 */
export const RejectedCommitSchema = z.strictObject({
  commitId: NameSchema,
  status: z.literal('rejected'),
  code: z.enum(ERROR_CODES),
  message: z.string(),
  currentVersion: z.number().check(z.int(), z.minimum(0)),
});

/** `POST /v1/push` response: one result per commit, in request order. */
export const PushResponseSchema = z.strictObject({
  results: z.array(z.discriminatedUnion('status', [AcceptedCommitSchema, RejectedCommitSchema])),
});

export type Commit = z.infer<typeof CommitSchema>;
export type PushRequest = z.infer<typeof PushRequestSchema>;
export type PushEnvelope = z.infer<typeof PushEnvelopeSchema>;
export type AcceptedCommit = z.infer<typeof AcceptedCommitSchema>;
export type RejectedCommit = z.infer<typeof RejectedCommitSchema>;
export type PushResponse = z.infer<typeof PushResponseSchema>;
