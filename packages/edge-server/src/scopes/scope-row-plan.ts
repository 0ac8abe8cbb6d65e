import { TENANT_SCOPE_NAME } from '@strata/core';

/** Where one appended event sits: its version in the aggregate and position in the tenant. */
export interface PlannedEvent {
  readonly version: number;
  readonly tenantPosition: number;
}

/**
 * Event rows of one scope at one `eff`: the aggregate's events of versions `fromVersion` to
 * `toVersion`. A plain event is a span of itself; a join spans versions 1 to the joining event
 * (the whole history, read from `strata_events` in SQL, never shipped through the client).
 */
export interface ScopeRowSpan {
  readonly scope: string;
  readonly eff: number;
  readonly fromVersion: number;
  readonly toVersion: number;
}

/** The aggregate left `scope` at tenant position `eff`. */
export interface ScopeLeave {
  readonly scope: string;
  readonly eff: number;
}

export interface ScopeRowPlan {
  readonly spans: ScopeRowSpan[];
  readonly leaves: ScopeLeave[];
  /** The aggregate's scope keys after the last event (what the membership row becomes). */
  readonly after: string[];
}

/**
 * The scope rows of one append to one aggregate, from its scope keys before the append (`held`:
 * the scopes whose logs already have its rows) and after each event (the membership fold's
 * result, one list per event, in version order).
 *
 * The rows of one append commit together, so no reader sees a state inside it: only its net
 * effect per scope is written, whatever the aggregate did in between (a push of one create and a
 * hundred moves writes rows in proportion to its events, never a history per move).
 * - Held before and after (even if it left and came back in between): each appended event's own
 *   row (S, p, p); the reader has the earlier history already.
 * - Not held before, in it after (a join): its whole history up to the event that joined it last,
 *   at that event's position j (eff j), then the own rows of the events after j.
 * - Held before, not after (a leave): one `left` row at the event that left it last. None of the
 *   appended events: the reader drops the aggregate anyway.
 * - Neither (joined and left inside the append): nothing.
 * So a scope's reader ends holding the aggregate whole in each scope it is in after the append,
 * and gets a `left` for each scope it was in before and is not in after. Every position with a
 * row of S has S's row (S, p, p) (the live feed probes those). `tenant` is dropped from the lists:
 * the whole-tenant scope is read from strata_events itself. Pure: the hook does the reading and
 * writing.
 *
 * @example
 * planScopeRows([], [{ version: 1, tenantPosition: 7 }], [['project:{"projectId":"p1"}']]);
 * // spans: [{ scope: 'project:{"projectId":"p1"}', eff: 7, fromVersion: 1, toVersion: 1 }], leaves: []
 */
export function planScopeRows(
  held: readonly string[],
  events: readonly PlannedEvent[],
  scopesAfterEach: readonly (readonly string[])[],
): ScopeRowPlan {
  if (events.length !== scopesAfterEach.length) {
    throw new RangeError(`${events.length} events but ${scopesAfterEach.length} scope lists`);
  }
  const heldBefore = new Set(held);
  const lists = scopesAfterEach.map(
    (list) => new Set(list.filter((key) => key !== TENANT_SCOPE_NAME)),
  );
  const heldAfter = lists.at(-1) ?? heldBefore;
  // Per scope, the index of the event that joined it last and of the one that left it last.
  const lastJoin = new Map<string, number>();
  const lastLeave = new Map<string, number>();
  let before: ReadonlySet<string> = heldBefore;
  lists.forEach((after, index) => {
    for (const scope of after) if (!before.has(scope)) lastJoin.set(scope, index);
    for (const scope of before) if (!after.has(scope)) lastLeave.set(scope, index);
    before = after;
  });

  const spans: ScopeRowSpan[] = [];
  const leaves: ScopeLeave[] = [];
  const kept = [...heldBefore].filter((scope) => heldAfter.has(scope));
  events.forEach((event, index) => {
    const own = (scope: string) =>
      spans.push({
        scope,
        eff: event.tenantPosition,
        fromVersion: event.version,
        toVersion: event.version,
      });
    // In the event's own scope order, then the kept scopes it is outside of for a moment.
    for (const scope of lists[index] ?? []) {
      if (heldBefore.has(scope)) {
        if (heldAfter.has(scope)) own(scope);
        continue;
      }
      if (!heldAfter.has(scope)) continue;
      const join = lastJoin.get(scope) ?? 0;
      if (index === join) {
        spans.push({ scope, eff: event.tenantPosition, fromVersion: 1, toVersion: event.version });
      } else if (index > join) own(scope);
    }
    for (const scope of kept) if (!lists[index]?.has(scope)) own(scope);
    for (const [scope, leave] of lastLeave) {
      if (leave === index && heldBefore.has(scope) && !heldAfter.has(scope)) {
        leaves.push({ scope, eff: event.tenantPosition });
      }
    }
  });
  return { spans, leaves, after: [...heldAfter] };
}
