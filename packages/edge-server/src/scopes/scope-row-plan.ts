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
 * result, one list per event, in version order). For each event at position p:
 * - in a scope it was in before: its own row, (S, p, p);
 * - in a scope it was not in (a join): its whole history up to and including it at eff p;
 * - out of a scope it was in (a leave): a `left` row at p; the event itself is not in S.
 * `tenant` is dropped from the lists: the whole-tenant scope is read from strata_events itself.
 * Pure: the hook does the reading and writing.
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
  const spans: ScopeRowSpan[] = [];
  const leaves: ScopeLeave[] = [];
  let before = new Set(held);
  events.forEach((event, index) => {
    const after = new Set(
      (scopesAfterEach[index] ?? []).filter((key) => key !== TENANT_SCOPE_NAME),
    );
    for (const scope of after) {
      spans.push({
        scope,
        eff: event.tenantPosition,
        fromVersion: before.has(scope) ? event.version : 1,
        toVersion: event.version,
      });
    }
    for (const scope of before) {
      if (!after.has(scope)) leaves.push({ scope, eff: event.tenantPosition });
    }
    before = after;
  });
  return { spans, leaves, after: [...before] };
}
