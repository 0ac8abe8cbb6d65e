/** Request limits; answered with `PAYLOAD_TOO_LARGE`, never a crash. */
export interface SyncLimits {
  /** Largest request body, in bytes. Defaults to 1 MiB. */
  readonly maxBodyBytes: number;
  /** Most events in one push, over all its commits. Defaults to 1000. */
  readonly maxEventsPerPush: number;
  /** Largest single event, as JSON, in bytes. Defaults to 64 KiB. */
  readonly maxEventBytes: number;
}

export const DEFAULT_LIMITS: SyncLimits = {
  maxBodyBytes: 1024 * 1024,
  maxEventsPerPush: 1000,
  maxEventBytes: 64 * 1024,
};
