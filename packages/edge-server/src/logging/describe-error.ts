/**
 * One safe line per error for strata's default loggers (issue 12, item 3). Driver errors carry
 * secrets and data: a pool error holds its client and the client config with the connection
 * string, a PGlite error the query and all its parameters, a DatabaseError `detail` the values of
 * a violated key, and messages quote offending input. So a log line is built from the name, the
 * code (SQLSTATE, errno or strata code) and the message with every literal scrubbed, never from
 * the object, its fields or its cause's fields.
 *
 * Format: `<name> [<code>]: <scrubbed message> (cause: <same, one level>)`, e.g.
 * `UnavailableError [UNAVAILABLE]: The database is unavailable; retry later (cause: DatabaseError
 * [57P01]: terminating connection due to administrator command)`.
 */

/** The longest message kept in a line; the rest is cut (a message may embed a whole query). */
const MAX_MESSAGE_CHARS = 300;

/**
 * A one-line description of `error` that holds no connection string, token, password, payload or
 * parameter: safe for any log.
 *
 * @example
 * pool.on('error', (error) => console.error(`[strata] database error: ${describeError(error)}`));
 */
export function describeError(error: unknown): string {
  const line = describeOne(error);
  const cause = typeof error === 'object' && error !== null ? causeOf(error) : undefined;
  return cause === undefined ? line : `${line} (cause: ${describeOne(cause)})`;
}

/**
 * A reporter for `onError` options that logs `label: describeError(error)` with console.error:
 * strata's default everywhere it reports errors on its own.
 *
 * @example
 * createSyncApp({ database, authenticate, onError: safeErrorReporter('[my-app] request failed') });
 */
export function safeErrorReporter(label: string): (error: unknown) => void {
  return (error) => console.error(`${label}: ${describeError(error)}`);
}

/**
 * `text` without what may be secret or data: URLs (connection strings), bearer tokens and JWTs,
 * `password=...`-style pairs, quoted literals, parenthesised key values (`Key (id)=(...)`).
 *
 * @example
 * scrubMessage('invalid input syntax for type integer: "4111 1111"'); // '... integer: "…"'
 */
export function scrubMessage(text: string): string {
  const scrubbed = text
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, '<url>')
    .replace(/\bbearer\s+\S+/gi, 'Bearer <token>')
    .replace(/\beyJ[\w-]*\.[\w-]*\.?[\w-]*/g, '<token>')
    .replace(/\b(password|passwd|pwd|secret|token|api[_-]?key)\b\s*[=:]\s*\S+/gi, '$1=<redacted>')
    .replace(/"(?:[^"\\]|\\.)*"/g, '"…"')
    .replace(/'(?:[^'\\]|\\.)*'/g, "'…'")
    .replace(/`[^`]*`/g, '`…`')
    .replace(/=\([^)]*\)/g, '=(…)')
    // An unmatched quote would leave the literal after it: cut the line there.
    .replace(/["'`][^"'`]*$/, '"…');
  return scrubbed.length > MAX_MESSAGE_CHARS
    ? `${scrubbed.slice(0, MAX_MESSAGE_CHARS)}…`
    : scrubbed;
}

function describeOne(error: unknown): string {
  if (typeof error !== 'object' || error === null) return `a thrown ${typeof error}`;
  const { name, code, message } = error as { name?: unknown; code?: unknown; message?: unknown };
  const label = safeName(name, error);
  const codePart = typeof code === 'string' && /^[A-Z0-9_]{2,40}$/i.test(code) ? ` [${code}]` : '';
  const text =
    typeof message === 'string' && message !== '' ? scrubMessage(message) : '(no message)';
  return `${label}${codePart}: ${text}`;
}

/** pg's DatabaseError is named "error"; minified classes have short names: all made readable. */
function safeName(name: unknown, error: object): string {
  const candidate =
    typeof name === 'string' && name !== '' && name !== 'error' ? name : error.constructor?.name;
  return typeof candidate === 'string' && /^[\w$.]{1,60}$/.test(candidate) ? candidate : 'Error';
}

/** `Error.cause`, or the socket error a WebSocket `ErrorEvent` wraps. */
function causeOf(error: object): unknown {
  const { cause, error: wrapped } = error as { cause?: unknown; error?: unknown };
  return cause ?? wrapped;
}
