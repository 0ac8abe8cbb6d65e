/** How far ahead of the server's clock a `verify` prediction's time may be. */
export const VERIFY_CLOCK_SKEW_MS = 30_000;

/**
 * Authority `verify` decides at the device's time (the prediction's `occurredAt`), so values the
 * command took from `now` verify. The device's clock is trusted only so far: not ahead of the
 * server's (30 s of skew), not before the aggregate's last event (`lastOccurredAt`, none at
 * version 0). Rules that must hold at the server's time belong to aggregates under `decide`.
 * Pure.
 *
 * @example
 * predictionTimeFits(new Date(first.occurredAt), new Date(), last?.occurredAt); // true or false
 */
export function predictionTimeFits(
  claimed: Date,
  serverNow: Date,
  lastOccurredAt: string | undefined,
): boolean {
  const earliest =
    lastOccurredAt === undefined ? Number.NEGATIVE_INFINITY : Date.parse(lastOccurredAt);
  return (
    claimed.getTime() <= serverNow.getTime() + VERIFY_CLOCK_SKEW_MS && claimed.getTime() >= earliest
  );
}
