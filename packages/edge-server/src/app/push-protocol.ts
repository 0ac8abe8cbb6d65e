import { COMMAND_PROTOCOL_VERSION, UnsupportedProtocolError } from '@strata/core';

/** The push protocols `POST /v2/push` speaks (the body's `protocol`). */
export const PUSH_PROTOCOLS = {
  minProtocol: COMMAND_PROTOCOL_VERSION,
  maxProtocol: COMMAND_PROTOCOL_VERSION,
} as const;

/**
 * Refuses a push body that names another protocol version than the server speaks, or none, with
 * `UNSUPPORTED_PROTOCOL` naming the versions it does (issue 17): the client shows it as its last
 * error and waits long between attempts, where a `VALIDATION_FAILED` of the whole body would have
 * it halve the batch down to single commits and reject them one by one. A `protocol` that is no
 * version at all (a string, a fraction) is left to the schema: a malformed body.
 *
 * @example
 * const body = await readJson(c.req.raw);
 * checkPushProtocol(body);
 * const push = parseOrThrow(CommandPushEnvelopeSchema, body, 'push request');
 */
export function checkPushProtocol(body: unknown): void {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return;
  const { protocol } = body as { protocol?: unknown };
  if (protocol === COMMAND_PROTOCOL_VERSION) return;
  const isVersion =
    typeof protocol === 'number' && Number.isInteger(protocol) && protocol >= 1 && protocol <= 1000;
  if (protocol === undefined || isVersion) {
    throw new UnsupportedProtocolError(protocol as number | undefined, PUSH_PROTOCOLS);
  }
}
