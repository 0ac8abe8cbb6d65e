// Scoped sync: what a push answer's `scopes` (the aggregate's scopes after an accepted command,
// from a server with scopes) tells a device. Upstream brings every aggregate that is, or comes,
// into a held scope, and a `left` when it goes; what it can never say is "this aggregate was
// never in your scopes" — e.g. a task this device created for another team. The answer says it.
import { type StreamRef, streamKey, TENANT_SCOPE_NAME } from '@strata/core';
import type { ScopeMemberRow } from '../database/strata-database.ts';
import { LEAVING, membershipsOf } from './scope-members.ts';
import { readScopeStates } from './scope-set.ts';
import type { SyncContext } from './sync-context.ts';

/** An accepted command's aggregate and the scopes the server named for it. */
export interface AnsweredScopes {
  readonly stream: StreamRef;
  readonly scopes: readonly string[];
}

/** What the device does with one aggregate's answered scopes. */
export type AnsweredScopesAction =
  /** Nothing: upstream knows better (or the device holds the whole tenant). */
  | { readonly kind: 'keep' }
  /** Record it in these held scopes (upstream has not brought it yet). */
  | { readonly kind: 'join'; readonly scopes: readonly string[] }
  /** No held scope holds it: let it go once no command on it is pending (`LEAVING`). */
  | { readonly kind: 'leave' };

/**
 * The policy, for one aggregate. `members` are the held scopes that hold it on the device
 * (upstream's word), `leaving` whether it is marked `LEAVING` (upstream took it out).
 *
 * The answer's scopes were read after the command committed, so they can be older than what
 * upstream already brought (a later move in or out): where upstream said anything about the
 * aggregate, upstream decides (a newer answer is followed by its `left`/join items anyway). Only
 * an aggregate upstream never placed in a held scope follows the answer: joined where it names
 * held scopes, else let go. Letting go of one a later event brings back is safe: a join brings
 * the aggregate's whole history.
 */
export function answeredScopesAction(
  answered: readonly string[],
  held: ReadonlySet<string>,
  members: readonly string[],
  leaving: boolean,
): AnsweredScopesAction {
  if (held.has(TENANT_SCOPE_NAME)) return { kind: 'keep' };
  if (members.length > 0) return { kind: 'keep' };
  const inHeld = [...new Set(answered)].filter((scope) => held.has(scope));
  if (inHeld.length === 0) return { kind: 'leave' };
  return leaving ? { kind: 'keep' } : { kind: 'join', scopes: inHeld };
}

/**
 * Applies the answered scopes of a push, inside the caller's read-write transaction: joins are
 * written as scope rows, aggregates to let go are marked `LEAVING` (then `sweepLeaving` drops
 * those without pending commands). The last answer of an aggregate counts.
 */
export async function applyAnsweredScopes(
  context: SyncContext,
  answers: readonly AnsweredScopes[],
): Promise<void> {
  const { db } = context.strata;
  if (answers.length === 0) return;
  const held = new Set(
    (await readScopeStates(db))
      .filter((state) => state.refusedAt === undefined)
      .map((state) => state.key),
  );
  const last = new Map(answers.map((answer) => [streamKey(answer.stream), answer]));
  const memberships = await membershipsOf(
    db,
    [...last.values()].map((answer) => answer.stream),
  );
  const added: ScopeMemberRow[] = [];
  for (const [key, { stream, scopes }] of last) {
    const { aggregateType, aggregateId } = stream;
    const membership = memberships.get(key);
    const leaving = membership?.leaving ?? false;
    const action = answeredScopesAction(scopes, held, membership?.scopes ?? [], leaving);
    if (action.kind === 'join') {
      for (const scope of action.scopes) added.push({ scope, aggregateType, aggregateId });
    } else if (action.kind === 'leave' && !leaving) {
      added.push({ scope: LEAVING, aggregateType, aggregateId });
    }
  }
  await db.scopeMembers.bulkPut(added);
}
