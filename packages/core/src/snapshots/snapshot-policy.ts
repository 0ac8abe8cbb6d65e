/** What a snapshot policy decides on, after an append. */
export interface SnapshotPolicyInput {
  /** The aggregate's version after the append. */
  readonly version: number;
  /** The version of the valid snapshot the state was loaded from, 0 when there was none. */
  readonly snapshotVersion: number;
  /** How many events the append added. */
  readonly appended: number;
}

/**
 * Decides, after an append, whether to save a snapshot of the new state. Pure: no I/O, no clock.
 *
 * @example
 * const policy: SnapshotPolicy = ({ version }) => version % 50 === 0;
 */
export type SnapshotPolicy = (input: SnapshotPolicyInput) => boolean;

/**
 * Snapshot once at least `every` versions lie between the last valid snapshot and the new state,
 * so loading never replays more than `every - 1` + one append's events.
 *
 * @example
 * const policy = everyNVersions(100);
 * policy({ version: 100, snapshotVersion: 0, appended: 1 });   // true
 * policy({ version: 150, snapshotVersion: 100, appended: 1 }); // false
 */
export function everyNVersions(every: number): SnapshotPolicy {
  if (!Number.isSafeInteger(every) || every < 1) {
    throw new RangeError(`everyNVersions needs a positive integer, got ${every}`);
  }
  return ({ version, snapshotVersion }) => version - snapshotVersion >= every;
}

/** Never snapshot. */
export const neverSnapshot: SnapshotPolicy = () => false;
