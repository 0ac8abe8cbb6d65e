import type { EventEnvelope } from '../events/event.ts';

/**
 * What a reader gets instead of an event's data once the key that encrypted it was deleted
 * (crypto-shredding): the data is gone for good, but the event (type, ids, version, metadata)
 * still counts, so replays and versions stay intact.
 *
 * @example
 * const marker: ForgottenPayload = { $forgotten: true, kid: 'k1', forgottenAt: '2026-01-01T00:00:00.000Z' };
 */
export interface ForgottenPayload {
  readonly $forgotten: true;
  /** The deleted key. */
  readonly kid: string;
  /** ISO 8601 time of the deletion, when the key store recorded one. */
  readonly forgottenAt?: string;
}

/**
 * The marker for data encrypted with the deleted key `kid`.
 *
 * @example
 * forgottenPayload('k1', '2026-01-01T00:00:00.000Z');
 */
export function forgottenPayload(kid: string, forgottenAt?: string): ForgottenPayload {
  return forgottenAt === undefined
    ? { $forgotten: true, kid }
    : { $forgotten: true, kid, forgottenAt };
}

/**
 * Whether event data is the forgotten marker.
 *
 * @example
 * if (isForgotten(event.data)) return state; // nothing left to apply
 */
export function isForgotten(data: unknown): data is ForgottenPayload {
  if (typeof data !== 'object' || data === null) return false;
  const marker = data as Partial<Record<keyof ForgottenPayload, unknown>>;
  return (
    marker.$forgotten === true &&
    typeof marker.kid === 'string' &&
    (marker.forgottenAt === undefined || typeof marker.forgottenAt === 'string')
  );
}

/**
 * An event whose data was forgotten: the envelope of `TEvent` (distributed over a union, so
 * `type` still narrows) with the marker as data.
 *
 * @example
 * const forget = (state: TodoState, event: ForgottenEvent<EventOf<typeof Todo>>) =>
 *   event.type === 'TodoAdded' ? { ...state, title: '(forgotten)' } : state;
 */
export type ForgottenEvent<TEvent extends EventEnvelope = EventEnvelope> = TEvent extends unknown
  ? Omit<TEvent, 'data'> & { readonly data: ForgottenPayload }
  : never;

/**
 * Narrows an event (a decoded union included) to a forgotten one.
 *
 * @example
 * const event = Todo.events.decode(stored);
 * if (isForgottenEvent(event)) return;
 * event.data.title; // typed
 */
export function isForgottenEvent<TEvent extends EventEnvelope>(
  event: TEvent,
): event is ForgottenOf<TEvent> {
  return isForgotten(event.data);
}

/** The forgotten members of an event union; for an event with untyped data, that event with the marker. */
type ForgottenOf<TEvent> = [Extract<TEvent, { readonly data: ForgottenPayload }>] extends [never]
  ? TEvent & { readonly data: ForgottenPayload }
  : Extract<TEvent, { readonly data: ForgottenPayload }>;
