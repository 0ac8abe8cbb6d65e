// Which scopes an aggregate is in, derived from its events as they are appended: a fold like
// `evolve`, over the scope list instead of the state. The server runs it in the append's
// transaction and indexes the result; the browser can run the same fold to know where a new
// aggregate will belong. Pure, so it is tested like any reducer.
import type { AnyAggregateDefinition, EventOf } from '../aggregates/aggregate-definition.ts';
import type { StoredEvent } from '../events/event.ts';
import type { ScopeRef } from './scope-definition.ts';

/** The scope fold of one aggregate type. */
export interface ScopeMembership<TEvent = StoredEvent> {
  readonly aggregate: AnyAggregateDefinition;
  readonly aggregateType: string;
  /** The aggregate's scopes after `event`, given its scopes before it (none before its first). */
  next(scopes: readonly ScopeRef[], event: TEvent): readonly ScopeRef[];
}

/**
 * Declares how an aggregate's events place it in scopes. `next` returns the aggregate's scopes
 * after an event (return `scopes` unchanged when the event does not move it); events are typed
 * by the aggregate. Duplicates are ignored.
 *
 * @example
 * const taskScopes = scopeMembership(Task, (scopes, event) => {
 *   if (event.type === 'TaskCreated') return [project({ projectId: event.data.projectId }), assignedTo({ userId: event.data.assignee })];
 *   if (event.type === 'TaskReassigned') return [...scopes.filter((s) => s.name !== 'assignedTo'), assignedTo({ userId: event.data.assignee })];
 *   return scopes;
 * });
 */
export function scopeMembership<TDefinition extends AnyAggregateDefinition>(
  aggregate: TDefinition,
  next: (scopes: readonly ScopeRef[], event: EventOf<TDefinition>) => readonly ScopeRef[],
): ScopeMembership {
  return {
    aggregate,
    aggregateType: aggregate.type,
    next: (scopes, event) =>
      next(
        scopes,
        aggregate.events.decode(event as StoredEvent) as unknown as EventOf<TDefinition>,
      ),
  };
}

/**
 * The scopes after each of `events`, starting from `scopes`: one list per event, duplicates
 * (by key) removed, in first-seen order.
 *
 * @example
 * scopesAfter(taskScopes, [], [created, reassigned]); // [[project, assignedTo(ann)], [project, assignedTo(bob)]]
 */
export function scopesAfter(
  membership: ScopeMembership,
  scopes: readonly ScopeRef[],
  events: readonly StoredEvent[],
): ScopeRef[][] {
  const lists: ScopeRef[][] = [];
  let current = scopes;
  for (const event of events) {
    const seen = new Set<string>();
    current = membership.next(current, event).filter((scope) => {
      if (seen.has(scope.key)) return false;
      seen.add(scope.key);
      return true;
    });
    lists.push([...current]);
  }
  return lists;
}
