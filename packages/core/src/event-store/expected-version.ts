/** Append whatever the stream's version is. */
export const ANY = 'any';
/** Append only if the stream has no events yet. */
export const NO_STREAM = 'no_stream';
/** Append only if the stream already has at least one event. */
export const STREAM_EXISTS = 'stream_exists';

/**
 * What an append expects of the stream. An exact number is the version of the stream's last
 * event, so it is at least 1; an empty stream is `NO_STREAM`, never 0.
 *
 * @example
 * await store.append(ref, events, { expectedVersion: NO_STREAM }); // create
 * await store.append(ref, events, { expectedVersion: 3 });         // last seen version was 3
 */
export type ExpectedVersion = typeof ANY | typeof NO_STREAM | typeof STREAM_EXISTS | number;
