import type { ExpectedVersion } from '../event-store/expected-version.ts';
import type { StreamRef } from '../event-store/stream-ref.ts';
import {
  type ErrorCode,
  isAnyStrataError,
  StrataError,
  type StrataErrorOptions,
} from './strata-error.ts';

/** Where and why a value failed validation; `path` points into the input. */
export interface ValidationIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/**
 * The stream's version is not what the writer expected. `actualVersion` is the version of the
 * stream's last event, 0 when the stream is empty.
 */
export class VersionConflictError extends StrataError<'VERSION_CONFLICT'> {
  readonly aggregateType: string;
  readonly aggregateId: string;
  readonly expectedVersion: ExpectedVersion;
  readonly actualVersion: number;

  constructor(
    stream: StreamRef,
    expectedVersion: ExpectedVersion,
    actualVersion: number,
    options?: StrataErrorOptions,
  ) {
    super(
      'VERSION_CONFLICT',
      `${stream.aggregateType}/${stream.aggregateId}: expected version ${String(expectedVersion)}, actual ${actualVersion}`,
      options,
    );
    this.aggregateType = stream.aggregateType;
    this.aggregateId = stream.aggregateId;
    this.expectedVersion = expectedVersion;
    this.actualVersion = actualVersion;
  }

  override details() {
    return {
      aggregateType: this.aggregateType,
      aggregateId: this.aggregateId,
      expectedVersion: this.expectedVersion,
      actualVersion: this.actualVersion,
    };
  }
}

/** Input, event data or a stored value does not match its schema. */
export class ValidationFailedError extends StrataError<'VALIDATION_FAILED'> {
  readonly issues: readonly ValidationIssue[];

  constructor(message: string, issues: readonly ValidationIssue[], options?: StrataErrorOptions) {
    super('VALIDATION_FAILED', message, options);
    this.issues = issues;
  }

  override details() {
    return { issues: this.issues };
  }
}

/** An event's type, or its schema version, is not registered. */
export class UnknownEventTypeError extends StrataError<'UNKNOWN_EVENT_TYPE'> {
  readonly eventType: string;
  readonly schemaVersion: number | undefined;

  constructor(eventType: string, schemaVersion?: number, options?: StrataErrorOptions) {
    super(
      'UNKNOWN_EVENT_TYPE',
      schemaVersion === undefined
        ? `Unknown event type "${eventType}"`
        : `Unknown schema version ${schemaVersion} of event type "${eventType}"`,
      options,
    );
    this.eventType = eventType;
    this.schemaVersion = schemaVersion;
  }

  override details() {
    return { eventType: this.eventType, schemaVersion: this.schemaVersion };
  }
}

/** Options of `UnknownCommandError` for a command known at other input versions (issue 17). */
export interface UnknownCommandOptions extends StrataErrorOptions {
  /** The input version asked for, newer than the ones this side knows. */
  readonly inputVersion?: number;
  /** The newest input version this side knows of the command. */
  readonly knownInputVersion?: number;
}

/**
 * The aggregate type has no command of that name (a typo the types missed, stale input, or a
 * command a newer app removed), or not at the input version asked for (`inputVersion`: a newer
 * app's command reached an older server; `knownInputVersion` is the newest it knows).
 */
export class UnknownCommandError extends StrataError<'UNKNOWN_COMMAND'> {
  readonly aggregateType: string;
  readonly command: string;
  readonly inputVersion: number | undefined;
  readonly knownInputVersion: number | undefined;

  constructor(aggregateType: string, command: string, options: UnknownCommandOptions = {}) {
    const { inputVersion, knownInputVersion, ...rest } = options;
    super(
      'UNKNOWN_COMMAND',
      inputVersion === undefined
        ? `Aggregate "${aggregateType}" has no command "${command}"`
        : `Aggregate "${aggregateType}" knows command "${command}" up to input version ${knownInputVersion ?? '?'}, not version ${inputVersion}`,
      rest,
    );
    this.aggregateType = aggregateType;
    this.command = command;
    this.inputVersion = inputVersion;
    this.knownInputVersion = knownInputVersion;
  }

  override details() {
    return {
      aggregateType: this.aggregateType,
      command: this.command,
      ...(this.inputVersion === undefined ? {} : { inputVersion: this.inputVersion }),
      ...(this.knownInputVersion === undefined
        ? {}
        : { knownInputVersion: this.knownInputVersion }),
    };
  }
}

/** The aggregate has no events. */
export class AggregateNotFoundError extends StrataError<'AGGREGATE_NOT_FOUND'> {
  readonly aggregateType: string;
  readonly aggregateId: string;

  constructor(stream: StreamRef, options?: StrataErrorOptions) {
    super(
      'AGGREGATE_NOT_FOUND',
      `${stream.aggregateType}/${stream.aggregateId} not found`,
      options,
    );
    this.aggregateType = stream.aggregateType;
    this.aggregateId = stream.aggregateId;
  }

  override details() {
    return { aggregateType: this.aggregateType, aggregateId: this.aggregateId };
  }
}

/**
 * The server's log no longer holds what this client read from it: the database was reset or
 * replaced by a restore of an older backup (another log id, an event this client confirmed is
 * gone or another one is in its place, or a cursor past the log's end). Retrying the same read
 * cannot succeed: the sync client re-bootstraps (keeps its pending commands, drops the rest,
 * catches up again and re-runs them).
 */
export class LogDivergedError extends StrataError<'LOG_DIVERGED'> {
  /** The server log's identity, when the server told it. */
  readonly logId: string | undefined;

  constructor(message: string, options: StrataErrorOptions & { readonly logId?: string } = {}) {
    super('LOG_DIVERGED', message, options);
    this.logId = options.logId;
  }

  override details() {
    return this.logId === undefined ? {} : { logId: this.logId };
  }
}

/** No such resource (e.g. an unknown HTTP route). */
export class NotFoundError extends StrataError<'NOT_FOUND'> {
  constructor(message = 'Not found', options?: StrataErrorOptions) {
    super('NOT_FOUND', message, options);
  }
}

/** An append carried no events: there is nothing to store and no version to move to. */
export class NoEventsError extends StrataError<'NO_EVENTS'> {
  constructor(message = 'An append needs at least one event', options?: StrataErrorOptions) {
    super('NO_EVENTS', message, options);
  }
}

/** An event id is already stored somewhere else than where this append would put it. */
export class DuplicateEventIdError extends StrataError<'DUPLICATE_EVENT_ID'> {
  readonly eventId: string;

  constructor(eventId: string, message?: string, options?: StrataErrorOptions) {
    super(
      'DUPLICATE_EVENT_ID',
      message ?? `Event id ${eventId} is already stored elsewhere`,
      options,
    );
    this.eventId = eventId;
  }

  override details() {
    return { eventId: this.eventId };
  }
}

/** A cursor that this store did not hand out. */
export class InvalidCursorError extends StrataError<'INVALID_CURSOR'> {
  readonly cursor: string;

  constructor(cursor: string, options?: StrataErrorOptions) {
    super('INVALID_CURSOR', `Invalid cursor "${cursor.slice(0, 100)}"`, options);
    this.cursor = cursor;
  }

  override details() {
    return { cursor: this.cursor.slice(0, 200) };
  }
}

/**
 * A command's `decide` refused: the app's own rule, named by `reason` (e.g. `TODO_REMOVED`).
 *
 * @example
 * if (state.removed) throw new DomainRuleViolatedError('TODO_REMOVED', 'This todo was removed');
 */
export class DomainRuleViolatedError extends StrataError<'DOMAIN_RULE_VIOLATED'> {
  readonly reason: string;

  constructor(reason: string, message: string, options?: StrataErrorOptions) {
    super('DOMAIN_RULE_VIOLATED', message, options);
    this.reason = reason;
  }

  override details() {
    return { reason: this.reason };
  }
}

/**
 * A server-side sync reactor threw inside the append's transaction, so the commit was not
 * stored. `reactor` names it; the thrown error is the `cause` and its message is in `message`.
 */
export class ReactorRejectedError extends StrataError<'REACTOR_REJECTED'> {
  readonly reactor: string;

  constructor(reactor: string, message: string, options?: StrataErrorOptions) {
    super('REACTOR_REJECTED', message, options);
    this.reactor = reactor;
  }

  override details() {
    return { reactor: this.reactor };
  }
}

/**
 * A commit came without the command that produced it, for an aggregate whose commands the server
 * decides (authority `decide` or `verify`): the client speaks protocol v1 and must be updated.
 */
export class CommandRequiredError extends StrataError<'COMMAND_REQUIRED'> {
  readonly aggregateType: string;

  constructor(aggregateType: string, message?: string, options?: StrataErrorOptions) {
    super(
      'COMMAND_REQUIRED',
      message ??
        `The server decides ${aggregateType} commands: push the command with its events (protocol v2)`,
      options,
    );
    this.aggregateType = aggregateType;
  }

  override details() {
    return { aggregateType: this.aggregateType };
  }
}

/**
 * Authority `verify`: the server decided the command again and got other events than the client
 * pushed, so it stored nothing. `index` is the first event that differs.
 */
export class PredictionMismatchError extends StrataError<'PREDICTION_MISMATCH'> {
  readonly index: number;

  constructor(index: number, message: string, options?: StrataErrorOptions) {
    super('PREDICTION_MISMATCH', message, options);
    this.index = index;
  }

  override details() {
    return { index: this.index };
  }
}

/** No valid credentials were presented. */
export class UnauthorizedError extends StrataError<'UNAUTHORIZED'> {
  constructor(message = 'Authentication required', options?: StrataErrorOptions) {
    super('UNAUTHORIZED', message, options);
  }
}

/** The principal may not do this. `scopes`: the scopes of a scoped read it may not hold. */
export class ForbiddenError extends StrataError<'FORBIDDEN'> {
  readonly scopes: readonly string[] | undefined;

  constructor(
    message = 'Forbidden',
    options?: StrataErrorOptions & { readonly scopes?: readonly string[] },
  ) {
    super('FORBIDDEN', message, options);
    this.scopes = options?.scopes;
  }

  override details() {
    return this.scopes === undefined ? {} : { scopes: [...this.scopes] };
  }
}

/** A body, a push or an event is larger than the configured limit. */
export class PayloadTooLargeError extends StrataError<'PAYLOAD_TOO_LARGE'> {
  readonly limit: number;

  constructor(message: string, limit: number, options?: StrataErrorOptions) {
    super('PAYLOAD_TOO_LARGE', message, options);
    this.limit = limit;
  }

  override details() {
    return { limit: this.limit };
  }
}

/**
 * The request's body is not in a format the server reads (e.g. not `application/json`): 415. A
 * browser sends `text/plain`, form and multipart bodies cross-site without asking first, so the
 * server refuses them instead of parsing them as JSON.
 */
export class UnsupportedMediaTypeError extends StrataError<'UNSUPPORTED_MEDIA_TYPE'> {
  /** The media types the server accepts here, e.g. `['application/json']`. */
  readonly accepted: readonly string[];

  constructor(message: string, accepted: readonly string[], options?: StrataErrorOptions) {
    super('UNSUPPORTED_MEDIA_TYPE', message, options);
    this.accepted = accepted;
  }

  override details() {
    return { accepted: [...this.accepted] };
  }
}

/**
 * The request speaks a sync protocol version this server does not (issue 17): an app newer or
 * older than the server. The server names the versions it speaks (`minProtocol` to
 * `maxProtocol`); retrying the same request cannot succeed until one side is updated.
 */
export class UnsupportedProtocolError extends StrataError<'UNSUPPORTED_PROTOCOL'> {
  /** The version the request named; undefined when it named none. */
  readonly protocol: number | undefined;
  readonly minProtocol: number;
  readonly maxProtocol: number;

  constructor(
    protocol: number | undefined,
    supported: { readonly minProtocol: number; readonly maxProtocol: number },
    options?: StrataErrorOptions,
  ) {
    const speaks =
      supported.minProtocol === supported.maxProtocol
        ? `protocol ${supported.minProtocol}`
        : `protocols ${supported.minProtocol} to ${supported.maxProtocol}`;
    super(
      'UNSUPPORTED_PROTOCOL',
      `The sync server speaks ${speaks}; this request ${protocol === undefined ? 'names no protocol' : `speaks protocol ${protocol}`}: update the ${protocol !== undefined && protocol > supported.maxProtocol ? 'server' : 'app'}`,
      options,
    );
    this.protocol = protocol;
    this.minProtocol = supported.minProtocol;
    this.maxProtocol = supported.maxProtocol;
  }

  override details() {
    return {
      ...(this.protocol === undefined ? {} : { protocol: this.protocol }),
      minProtocol: this.minProtocol,
      maxProtocol: this.maxProtocol,
    };
  }
}

/** Why storage failed, as far as the backend can tell. */
export type StorageFailureReason =
  | 'QUOTA_EXCEEDED'
  | 'UNAVAILABLE'
  | 'UPGRADE_BLOCKED'
  | 'ABORTED'
  | 'UNKNOWN';

/**
 * The storage backend failed: quota exceeded, database unavailable (e.g. private mode), an
 * upgrade blocked by another tab, an aborted transaction. Nothing of the failed write is stored.
 */
export class StorageFailedError extends StrataError<'STORAGE_FAILED'> {
  readonly reason: StorageFailureReason;

  constructor(
    message: string,
    options: StrataErrorOptions & { reason?: StorageFailureReason } = {},
  ) {
    super('STORAGE_FAILED', message, options);
    this.reason = options.reason ?? 'UNKNOWN';
  }

  override details() {
    return { reason: this.reason };
  }
}

/** Options of errors that say when to try again. */
export interface RetryAfterOptions extends StrataErrorOptions {
  /** Seconds a client should wait before retrying (sent as `Retry-After`). */
  retryAfterSeconds?: number;
}

/**
 * The server could not be reached or answered that it cannot serve now (network down, 502-504,
 * its database unreachable): worth retrying later, unlike the other codes.
 */
export class UnavailableError extends StrataError<'UNAVAILABLE'> {
  /** When the server suggests a retry, in seconds; undefined when it did not say. */
  readonly retryAfterSeconds: number | undefined;

  constructor(message = 'The server is unavailable', options: RetryAfterOptions = {}) {
    super('UNAVAILABLE', message, options);
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  override details() {
    return this.retryAfterSeconds === undefined
      ? {}
      : { retryAfterSeconds: this.retryAfterSeconds };
  }
}

/** Too many requests (per principal, per address, or too many open subscriptions): retry later. */
export class RateLimitedError extends StrataError<'RATE_LIMITED'> {
  readonly retryAfterSeconds: number;

  constructor(message: string, retryAfterSeconds: number, options?: StrataErrorOptions) {
    super('RATE_LIMITED', message, options);
    this.retryAfterSeconds = retryAfterSeconds;
  }

  override details() {
    return { retryAfterSeconds: this.retryAfterSeconds };
  }
}

/** A bug or an unexpected failure; the message is safe to show, the cause holds the detail. */
export class InternalError extends StrataError<'INTERNAL'> {
  constructor(message = 'Internal error', options?: StrataErrorOptions) {
    super('INTERNAL', message, options);
  }
}

/** The error class that carries each code, for narrowing in `isStrataError`. */
export interface ErrorsByCode {
  VERSION_CONFLICT: VersionConflictError;
  VALIDATION_FAILED: ValidationFailedError;
  UNKNOWN_EVENT_TYPE: UnknownEventTypeError;
  UNKNOWN_COMMAND: UnknownCommandError;
  AGGREGATE_NOT_FOUND: AggregateNotFoundError;
  NOT_FOUND: NotFoundError;
  NO_EVENTS: NoEventsError;
  DUPLICATE_EVENT_ID: DuplicateEventIdError;
  INVALID_CURSOR: InvalidCursorError;
  LOG_DIVERGED: LogDivergedError;
  DOMAIN_RULE_VIOLATED: DomainRuleViolatedError;
  REACTOR_REJECTED: ReactorRejectedError;
  COMMAND_REQUIRED: CommandRequiredError;
  PREDICTION_MISMATCH: PredictionMismatchError;
  UNAUTHORIZED: UnauthorizedError;
  FORBIDDEN: ForbiddenError;
  PAYLOAD_TOO_LARGE: PayloadTooLargeError;
  UNSUPPORTED_MEDIA_TYPE: UnsupportedMediaTypeError;
  UNSUPPORTED_PROTOCOL: UnsupportedProtocolError;
  RATE_LIMITED: RateLimitedError;
  STORAGE_FAILED: StorageFailedError;
  UNAVAILABLE: UnavailableError;
  INTERNAL: InternalError;
}

/**
 * Narrows `value` to the strata error of `code` (or any strata error without a code). Keyed on
 * the code, so it also recognises errors rebuilt from the wire or thrown by another bundle.
 *
 * @example
 * if (isStrataError(error, 'VERSION_CONFLICT')) console.log(error.actualVersion);
 */
export function isStrataError<C extends ErrorCode>(
  value: unknown,
  code: C,
): value is ErrorsByCode[C];
export function isStrataError(value: unknown): value is StrataError;
export function isStrataError(value: unknown, code?: ErrorCode): boolean {
  return isAnyStrataError(value) && (code === undefined || value.code === code);
}
