import * as z from 'zod/mini';
import {
  AggregateNotFoundError,
  CommandRequiredError,
  DomainRuleViolatedError,
  DuplicateEventIdError,
  ForbiddenError,
  InternalError,
  InvalidCursorError,
  LogDivergedError,
  NoEventsError,
  NotFoundError,
  PayloadTooLargeError,
  PredictionMismatchError,
  RateLimitedError,
  ReactorRejectedError,
  StorageFailedError,
  type StorageFailureReason,
  UnauthorizedError,
  UnavailableError,
  UnknownCommandError,
  UnknownEventTypeError,
  UnsupportedMediaTypeError,
  UnsupportedProtocolError,
  ValidationFailedError,
  type ValidationIssue,
  VersionConflictError,
} from '../errors/errors.ts';
import {
  ERROR_CODES,
  type ErrorCode,
  isAnyStrataError,
  StrataError,
} from '../errors/strata-error.ts';
import { safeParseSchema } from '../errors/validation-issues.ts';
import type { ExpectedVersion } from '../event-store/expected-version.ts';

/** The media type of error bodies (RFC 9457). */
export const PROBLEM_JSON = 'application/problem+json';

/** The HTTP status each error code is answered with. */
export const HTTP_STATUS_BY_CODE: Readonly<Record<ErrorCode, number>> = {
  VERSION_CONFLICT: 409,
  VALIDATION_FAILED: 400,
  UNKNOWN_EVENT_TYPE: 400,
  UNKNOWN_COMMAND: 400,
  AGGREGATE_NOT_FOUND: 404,
  NOT_FOUND: 404,
  NO_EVENTS: 400,
  DUPLICATE_EVENT_ID: 409,
  INVALID_CURSOR: 400,
  LOG_DIVERGED: 409,
  DOMAIN_RULE_VIOLATED: 422,
  REACTOR_REJECTED: 422,
  COMMAND_REQUIRED: 400,
  PREDICTION_MISMATCH: 409,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNSUPPORTED_PROTOCOL: 400,
  RATE_LIMITED: 429,
  STORAGE_FAILED: 503,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

/** An `application/problem+json` body carrying a strata error code and its details. */
export const ProblemDetailsSchema = z.looseObject({
  type: z.string(),
  title: z.string(),
  status: z.number().check(z.int(), z.minimum(400), z.maximum(599)),
  detail: z.optional(z.string()),
  instance: z.optional(z.string()),
  code: z.enum(ERROR_CODES),
});

export type ProblemDetails = z.infer<typeof ProblemDetailsSchema> & Record<string, unknown>;

/**
 * The problem details body for any thrown value. Errors that are not strata errors become
 * `INTERNAL` with a generic message: internals never leak to clients.
 *
 * @example
 * const problem = toProblemDetails(error);
 * return new Response(JSON.stringify(problem), {
 *   status: problem.status, headers: { 'content-type': PROBLEM_JSON },
 * });
 */
export function toProblemDetails(error: unknown, instance?: string): ProblemDetails {
  const known = isAnyStrataError(error) ? error : new InternalError();
  // Duck-typed, so errors from another copy of this package keep their details.
  const details =
    typeof (known as Partial<StrataError>).details === 'function' ? known.details() : {};
  return {
    ...details,
    type: `urn:strata:problem:${known.code.toLowerCase().replaceAll('_', '-')}`,
    title: titleOf(known.code),
    status: HTTP_STATUS_BY_CODE[known.code],
    detail: known.message,
    ...(instance === undefined ? {} : { instance }),
    code: known.code,
  };
}

/**
 * The typed strata error a problem details body describes, so clients branch on the same
 * classes and codes as server code.
 *
 * @example
 * const error = fromProblemDetails(await response.json());
 * if (isStrataError(error, 'VERSION_CONFLICT')) rebase(error.actualVersion);
 */
export function fromProblemDetails(body: unknown): StrataError {
  const parsed = safeParseSchema(ProblemDetailsSchema, body);
  if (!parsed.success) {
    return new InternalError('The server answered with an unreadable error', { cause: body });
  }
  const problem = parsed.data as ProblemDetails;
  const message = problem.detail ?? problem.title;
  const text = (key: string) => (typeof problem[key] === 'string' ? (problem[key] as string) : '');
  const count = (key: string) => (typeof problem[key] === 'number' ? (problem[key] as number) : 0);
  const stream = { aggregateType: text('aggregateType'), aggregateId: text('aggregateId') };
  switch (problem.code) {
    case 'VERSION_CONFLICT':
      return new VersionConflictError(
        stream,
        (problem.expectedVersion ?? 'any') as ExpectedVersion,
        count('actualVersion'),
      );
    case 'VALIDATION_FAILED':
      return new ValidationFailedError(
        message,
        Array.isArray(problem.issues) ? (problem.issues as ValidationIssue[]) : [],
      );
    case 'UNKNOWN_EVENT_TYPE':
      return new UnknownEventTypeError(
        text('eventType'),
        typeof problem.schemaVersion === 'number' ? problem.schemaVersion : undefined,
      );
    case 'UNKNOWN_COMMAND':
      return new UnknownCommandError(text('aggregateType'), text('command'), {
        ...(typeof problem.inputVersion === 'number' ? { inputVersion: problem.inputVersion } : {}),
        ...(typeof problem.knownInputVersion === 'number'
          ? { knownInputVersion: problem.knownInputVersion }
          : {}),
      });
    case 'AGGREGATE_NOT_FOUND':
      return new AggregateNotFoundError(stream);
    case 'NOT_FOUND':
      return new NotFoundError(message);
    case 'NO_EVENTS':
      return new NoEventsError(message);
    case 'DUPLICATE_EVENT_ID':
      return new DuplicateEventIdError(text('eventId'), message);
    case 'INVALID_CURSOR':
      return new InvalidCursorError(text('cursor'));
    case 'LOG_DIVERGED':
      return new LogDivergedError(message, text('logId') === '' ? {} : { logId: text('logId') });
    case 'DOMAIN_RULE_VIOLATED':
      return new DomainRuleViolatedError(text('reason'), message);
    case 'REACTOR_REJECTED':
      return new ReactorRejectedError(text('reactor'), message);
    case 'COMMAND_REQUIRED':
      return new CommandRequiredError(text('aggregateType'), message);
    case 'PREDICTION_MISMATCH':
      return new PredictionMismatchError(count('index'), message);
    case 'UNAUTHORIZED':
      return new UnauthorizedError(message);
    case 'FORBIDDEN':
      return new ForbiddenError(
        message,
        Array.isArray(problem.scopes)
          ? { scopes: problem.scopes.filter((scope) => typeof scope === 'string') }
          : {},
      );
    case 'PAYLOAD_TOO_LARGE':
      return new PayloadTooLargeError(message, count('limit'));
    case 'UNSUPPORTED_MEDIA_TYPE':
      return new UnsupportedMediaTypeError(
        message,
        Array.isArray(problem.accepted)
          ? problem.accepted.filter((type): type is string => typeof type === 'string')
          : [],
      );
    case 'UNSUPPORTED_PROTOCOL':
      return new UnsupportedProtocolError(
        typeof problem.protocol === 'number' ? problem.protocol : undefined,
        { minProtocol: count('minProtocol'), maxProtocol: count('maxProtocol') },
      );
    case 'STORAGE_FAILED':
      return new StorageFailedError(message, {
        reason: (text('reason') || 'UNKNOWN') as StorageFailureReason,
      });
    case 'RATE_LIMITED':
      return new RateLimitedError(message, count('retryAfterSeconds'));
    case 'UNAVAILABLE':
      return new UnavailableError(
        message,
        typeof problem.retryAfterSeconds === 'number'
          ? { retryAfterSeconds: problem.retryAfterSeconds }
          : {},
      );
    case 'INTERNAL':
      return new InternalError(message);
    default:
      return new StrataError(problem.code, message);
  }
}

function titleOf(code: ErrorCode): string {
  const words = code.toLowerCase().replaceAll('_', ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}
