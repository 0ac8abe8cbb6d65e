/**
 * An aggregate's state after `version`, saved so loading can skip replaying the events up to it.
 * `fingerprint` identifies the snapshot schema it was written with: a snapshot whose fingerprint
 * differs from the aggregate definition's is ignored.
 */
export interface Snapshot<TState = unknown> {
  readonly aggregateType: string;
  readonly aggregateId: string;
  readonly version: number;
  readonly state: TState;
  readonly fingerprint: string;
  /** ISO 8601 time at which the snapshot was taken. */
  readonly takenAt: string;
}
