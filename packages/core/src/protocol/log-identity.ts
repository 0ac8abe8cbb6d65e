/**
 * A server's log has an identity (issue 17): a random id made when its database was created,
 * sent with every pull answer (`GET /v1/pull`, `POST /v2/pull`) in this header. A client that
 * finds another id than the one it synced with is talking to a reset or replaced database, and
 * re-bootstraps instead of reading after a cursor that means nothing there.
 */
export const LOG_ID_HEADER = 'strata-log-id';

/**
 * The request header by which a pull (`GET /v1/pull`, `POST /v2/pull`) names the last event the
 * client received (`<position>:<id>`, its tenant position): the server answers `LOG_DIVERGED`
 * (409) unless its log still holds that event at that position.
 * A database restored from an older backup keeps its log id, and its new events reuse positions
 * the client has read past, so only this check tells such a log from the one the client read.
 */
export const LOG_ANCHOR_HEADER = 'strata-anchor';

/** The last event a client received from a log, as `LOG_ANCHOR_HEADER` carries it. */
export interface LogAnchor {
  readonly position: number;
  readonly eventId: string;
}

/**
 * `<position>:<id>` for the header; `parseLogAnchor` reads it back (undefined for anything else:
 * a malformed anchor is ignored, as from a client that sent none).
 *
 * @example
 * headers.set(LOG_ANCHOR_HEADER, formatLogAnchor({ position: 42, eventId: '2a...' }));
 */
export function formatLogAnchor(anchor: LogAnchor): string {
  return `${anchor.position}:${anchor.eventId}`;
}

/** Reads a `LOG_ANCHOR_HEADER` value (see `formatLogAnchor`). */
export function parseLogAnchor(value: string | undefined | null): LogAnchor | undefined {
  if (value === undefined || value === null || value.length > 200) return undefined;
  const match = /^([1-9][0-9]{0,15}):([0-9A-Za-z]{27})$/.exec(value);
  if (match === null) return undefined;
  return { position: Number(match[1]), eventId: match[2] as string };
}
