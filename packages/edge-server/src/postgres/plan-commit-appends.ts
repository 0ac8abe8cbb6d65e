import {
  DuplicateEventIdError,
  type ExpectedVersion,
  isStrataError,
  type NewEvent,
  planAppend,
  type StoredEvent,
  type StrataError,
  type StreamRef,
  streamKey,
} from '@strata/core';

/** One commit of a multi-commit append: its events, appended at an exact expected version. */
export interface CommitAppend {
  readonly stream: StreamRef;
  readonly events: readonly NewEvent[];
  readonly expectedVersion: ExpectedVersion;
}

/** What became of one commit of a multi-commit append. */
export type CommitPlan<TStored extends StoredEvent = StoredEvent> =
  /** Appended from `firstVersion`. */
  | { readonly kind: 'append'; readonly firstVersion: number }
  /** A retry: every event is stored already, where this commit puts it. */
  | { readonly kind: 'already-stored'; readonly events: readonly TStored[] }
  /** Refused with a typed error (a version conflict, an id stored elsewhere). */
  | { readonly kind: 'refused'; readonly error: StrataError }
  /** An earlier commit of the same aggregate was refused: this one was decided on top of it. */
  | { readonly kind: 'blocked' };

/**
 * Plans the commits of one append in order, as if each were appended on its own, one after
 * the other: each is checked (`planAppend`) against its aggregate's version after the commits
 * planned before it, so several commits of one aggregate chain. A refused commit blocks the
 * later commits of its aggregate and no other. An event id planned by an earlier commit is
 * refused (`DUPLICATE_EVENT_ID`): one statement cannot store it twice.
 *
 * `versionOf` gives an aggregate's stored version (read once for all); `findStored` the stored
 * event with an id, when the ids were looked up (otherwise the unique indexes catch reuse).
 * Pure: no I/O, so the rules are tested without a database.
 */
export function planCommitAppends<TStored extends StoredEvent>(
  commits: readonly CommitAppend[],
  versionOf: (stream: StreamRef) => number,
  findStored: (id: string) => TStored | undefined,
): CommitPlan<TStored>[] {
  return planCommitGroups([commits], versionOf, findStored)[0] as CommitPlan<TStored>[];
}

/**
 * `planCommitAppends` for several appends (pushes) stored in one transaction, as if they ran one
 * after the other in the given order: versions chain across them, a refusal blocks later
 * commits of its own group only.
 */
export function planCommitGroups<TStored extends StoredEvent>(
  groups: readonly (readonly CommitAppend[])[],
  versionOf: (stream: StreamRef) => number,
  findStored: (id: string) => TStored | undefined,
): CommitPlan<TStored>[][] {
  const versions = new Map<string, number>();
  const planned = new Set<string>();
  return groups.map((commits) => {
    const refused = new Set<string>();
    return commits.map((commit): CommitPlan<TStored> => {
      const key = streamKey(commit.stream);
      if (refused.has(key)) return { kind: 'blocked' };
      try {
        const again = commit.events.find((event) => planned.has(event.id));
        if (again !== undefined) {
          throw new DuplicateEventIdError(again.id, `Event id ${again.id} appears in two commits`);
        }
        const plan = planAppend({
          stream: commit.stream,
          events: commit.events,
          expectedVersion: commit.expectedVersion,
          currentVersion: versions.get(key) ?? versionOf(commit.stream),
          findStored,
        });
        if (plan.kind === 'already-stored') {
          return { kind: 'already-stored', events: plan.events as readonly TStored[] };
        }
        versions.set(key, plan.firstVersion + commit.events.length - 1);
        for (const event of commit.events) planned.add(event.id);
        return plan;
      } catch (error) {
        if (!isStrataError(error)) throw error;
        refused.add(key);
        return { kind: 'refused', error };
      }
    });
  });
}
