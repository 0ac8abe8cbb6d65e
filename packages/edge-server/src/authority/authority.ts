// Who has the last word on an aggregate's events, chosen per aggregate type on the server.

/**
 * - `decide`: the server runs the pushed command on its own state and stores the events it
 *   decides; the client's events are a prediction (the default for registered aggregates).
 * - `verify`: the client's events are stored only when deciding the command again, on the same
 *   version and at the client's time, yields the same events (`PREDICTION_MISMATCH` otherwise).
 * - `events`: the client's events are stored as pushed, checked against the event schemas only:
 *   for payloads the server cannot read (client-side encryption).
 */
export type Authority = 'decide' | 'verify' | 'events';

/** Authority by aggregate type; types it does not name are `decide`. */
export type AuthorityOption = Readonly<Record<string, Authority>>;

/** The authority of `aggregateType`. */
export function authorityOf(option: AuthorityOption | undefined, aggregateType: string): Authority {
  return (
    (option !== undefined && Object.hasOwn(option, aggregateType)
      ? option[aggregateType]
      : undefined) ?? 'decide'
  );
}
