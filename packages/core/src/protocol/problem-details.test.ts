import { describe, expect, it } from 'vitest';
import {
  AggregateNotFoundError,
  CommandRequiredError,
  DomainRuleViolatedError,
  DuplicateEventIdError,
  ForbiddenError,
  InternalError,
  InvalidCursorError,
  isStrataError,
  LogDivergedError,
  NoEventsError,
  NotFoundError,
  PayloadTooLargeError,
  PredictionMismatchError,
  RateLimitedError,
  ReactorRejectedError,
  StorageFailedError,
  UnauthorizedError,
  UnavailableError,
  UnknownCommandError,
  UnknownEventTypeError,
  UnsupportedMediaTypeError,
  UnsupportedProtocolError,
  ValidationFailedError,
  VersionConflictError,
} from '../errors/errors.ts';
import { ERROR_CODES, type ErrorCode, StrataError } from '../errors/strata-error.ts';
import { NO_STREAM, STREAM_EXISTS } from '../event-store/expected-version.ts';
import { newKsuid } from '../ids/ksuid.ts';
import {
  fromProblemDetails,
  HTTP_STATUS_BY_CODE,
  PROBLEM_JSON,
  ProblemDetailsSchema,
  toProblemDetails,
} from './problem-details.ts';

const ref = { aggregateType: 'Todo', aggregateId: 'todo-1' };
const eventId = newKsuid();

interface Case {
  name: string;
  error: StrataError;
  status: number;
  details: Record<string, unknown>;
}

const CASES: Case[] = [
  {
    name: 'VersionConflictError (exact)',
    error: new VersionConflictError(ref, 3, 5),
    status: 409,
    details: { ...ref, expectedVersion: 3, actualVersion: 5 },
  },
  {
    name: 'VersionConflictError (NO_STREAM)',
    error: new VersionConflictError(ref, NO_STREAM, 2),
    status: 409,
    details: { ...ref, expectedVersion: 'no_stream', actualVersion: 2 },
  },
  {
    name: 'VersionConflictError (STREAM_EXISTS)',
    error: new VersionConflictError(ref, STREAM_EXISTS, 0),
    status: 409,
    details: { ...ref, expectedVersion: 'stream_exists', actualVersion: 0 },
  },
  {
    name: 'ValidationFailedError',
    error: new ValidationFailedError('Invalid input for rename', [
      { path: ['title'], message: 'Too short' },
      { path: ['tags', 2], message: 'Expected string' },
    ]),
    status: 400,
    details: {
      issues: [
        { path: ['title'], message: 'Too short' },
        { path: ['tags', 2], message: 'Expected string' },
      ],
    },
  },
  {
    name: 'UnknownEventTypeError (with schema version)',
    error: new UnknownEventTypeError('TodoAdded', 3),
    status: 400,
    details: { eventType: 'TodoAdded', schemaVersion: 3 },
  },
  {
    name: 'UnknownEventTypeError (type only)',
    error: new UnknownEventTypeError('TodoArchived'),
    status: 400,
    details: { eventType: 'TodoArchived' },
  },
  {
    name: 'UnknownCommandError',
    error: new UnknownCommandError('Todo', 'fly'),
    status: 400,
    details: { aggregateType: 'Todo', command: 'fly' },
  },
  {
    name: 'AggregateNotFoundError',
    error: new AggregateNotFoundError(ref),
    status: 404,
    details: { ...ref },
  },
  { name: 'NotFoundError', error: new NotFoundError(), status: 404, details: {} },
  { name: 'NoEventsError', error: new NoEventsError(), status: 400, details: {} },
  {
    name: 'DuplicateEventIdError',
    error: new DuplicateEventIdError(eventId, `Event id ${eventId} is already stored at Todo/x`),
    status: 409,
    details: { eventId },
  },
  {
    name: 'InvalidCursorError',
    error: new InvalidCursorError('bogus'),
    status: 400,
    details: { cursor: 'bogus' },
  },
  {
    name: 'LogDivergedError',
    error: new LogDivergedError('The log was replaced', { logId: 'log-b' }),
    status: 409,
    details: { logId: 'log-b' },
  },
  {
    name: 'DomainRuleViolatedError',
    error: new DomainRuleViolatedError('TODO_REMOVED', 'This todo was removed'),
    status: 422,
    details: { reason: 'TODO_REMOVED' },
  },
  {
    name: 'ReactorRejectedError',
    error: new ReactorRejectedError('credit-limit', 'Reactor credit-limit rejected the commit'),
    status: 422,
    details: { reactor: 'credit-limit' },
  },
  {
    name: 'CommandRequiredError',
    error: new CommandRequiredError('Cart'),
    status: 400,
    details: { aggregateType: 'Cart' },
  },
  {
    name: 'PredictionMismatchError',
    error: new PredictionMismatchError(1, 'Event 1 (ItemAdded) differs in its data'),
    status: 409,
    details: { index: 1 },
  },
  { name: 'UnauthorizedError', error: new UnauthorizedError(), status: 401, details: {} },
  {
    name: 'ForbiddenError',
    error: new ForbiddenError('Not your tenant'),
    status: 403,
    details: {},
  },
  {
    name: 'PayloadTooLargeError',
    error: new PayloadTooLargeError('Push has more than 500 events', 500),
    status: 413,
    details: { limit: 500 },
  },
  {
    name: 'UnsupportedMediaTypeError',
    error: new UnsupportedMediaTypeError('The body must be application/json', ['application/json']),
    status: 415,
    details: { accepted: ['application/json'] },
  },
  {
    name: 'UnsupportedProtocolError',
    error: new UnsupportedProtocolError(3, { minProtocol: 2, maxProtocol: 2 }),
    status: 400,
    details: { protocol: 3, minProtocol: 2, maxProtocol: 2 },
  },
  {
    name: 'StorageFailedError',
    error: new StorageFailedError('Storage quota exceeded', { reason: 'QUOTA_EXCEEDED' }),
    status: 503,
    details: { reason: 'QUOTA_EXCEEDED' },
  },
  {
    name: 'RateLimitedError',
    error: new RateLimitedError('Too many pushes', 3),
    status: 429,
    details: { retryAfterSeconds: 3 },
  },
  { name: 'UnavailableError', error: new UnavailableError(), status: 503, details: {} },
  {
    name: 'UnavailableError (with Retry-After)',
    error: new UnavailableError('The database is unreachable', { retryAfterSeconds: 2 }),
    status: 503,
    details: { retryAfterSeconds: 2 },
  },
  { name: 'InternalError', error: new InternalError(), status: 500, details: {} },
];

/** The class-specific fields of an error, as plain data. */
function fieldsOf(error: Error): Record<string, unknown> {
  const { stack: _stack, ...fields } = Object.fromEntries(Object.entries(error));
  return { ...fields, message: error.message, name: error.name };
}

const viaJson = <T>(value: T): unknown => JSON.parse(JSON.stringify(value));

describe('HTTP_STATUS_BY_CODE', () => {
  it('maps every error code to a 4xx or 5xx status', () => {
    expect(Object.keys(HTTP_STATUS_BY_CODE).sort()).toEqual([...ERROR_CODES].sort());
    for (const status of Object.values(HTTP_STATUS_BY_CODE)) {
      expect(status).toBeGreaterThanOrEqual(400);
      expect(status).toBeLessThan(600);
    }
  });

  it('has a test case for every error code', () => {
    expect(new Set(CASES.map((c) => c.error.code))).toEqual(new Set(ERROR_CODES));
  });

  it('uses the application/problem+json media type', () => {
    expect(PROBLEM_JSON).toBe('application/problem+json');
  });
});

describe('toProblemDetails', () => {
  it.each(CASES)('describes $name', ({ error, status, details }) => {
    const problem = toProblemDetails(error);
    expect(problem.status).toBe(status);
    expect(problem.status).toBe(HTTP_STATUS_BY_CODE[error.code]);
    expect(problem.code).toBe(error.code);
    expect(problem.detail).toBe(error.message);
    expect(problem.type).toBe(
      `urn:strata:problem:${error.code.toLowerCase().replaceAll('_', '-')}`,
    );
    expect(problem.title).toMatch(/^[A-Z][a-z ]+$/);
    expect(problem).not.toHaveProperty('instance');
    expect(ProblemDetailsSchema.safeParse(problem).success).toBe(true);
    const {
      type: _t,
      title: _ti,
      status: _s,
      detail: _d,
      code: _c,
      ...rest
    } = viaJson(problem) as Record<string, unknown>;
    expect(rest).toEqual(details);
  });

  it('titles codes in sentence case', () => {
    expect(toProblemDetails(new VersionConflictError(ref, 1, 2)).title).toBe('Version conflict');
    expect(toProblemDetails(new AggregateNotFoundError(ref)).title).toBe('Aggregate not found');
    expect(toProblemDetails(new InternalError()).title).toBe('Internal');
  });

  it('adds the instance when given', () => {
    expect(toProblemDetails(new ForbiddenError(), '/v1/push').instance).toBe('/v1/push');
  });

  it('does not let details override the standard members', () => {
    class Sneaky extends StrataError<'FORBIDDEN'> {
      constructor() {
        super('FORBIDDEN', 'no');
      }
      override details() {
        return { status: 200, code: 'INTERNAL', type: 'x', title: 'y', detail: 'z' };
      }
    }
    const problem = toProblemDetails(new Sneaky());
    expect(problem).toMatchObject({
      status: 403,
      code: 'FORBIDDEN',
      detail: 'no',
      title: 'Forbidden',
    });
    expect(problem.type).toBe('urn:strata:problem:forbidden');
  });

  it.each([
    ['an Error', new Error('connect ECONNREFUSED postgres://app:s3cret@db:5432')],
    ['a TypeError', new TypeError("Cannot read properties of undefined (reading 's3cret')")],
    ['an Error with an unknown code', Object.assign(new Error('s3cret'), { code: 'ECONNRESET' })],
    ['a plain object with a strata code', { code: 'VERSION_CONFLICT', message: 's3cret' }],
    ['a string', 's3cret'],
    ['null', null],
    ['undefined', undefined],
  ])('turns %s into INTERNAL/500 without leaking its message', (_, thrown) => {
    const problem = toProblemDetails(thrown);
    expect(problem).toEqual({
      type: 'urn:strata:problem:internal',
      title: 'Internal',
      status: 500,
      detail: 'Internal error',
      code: 'INTERNAL',
    });
    expect(JSON.stringify(problem)).not.toContain('s3cret');
  });

  it('never serialises the cause of a strata error', () => {
    const error = new StorageFailedError('Storage unavailable', {
      cause: new Error('password authentication failed for user s3cret'),
    });
    const text = JSON.stringify(toProblemDetails(error));
    expect(text).not.toContain('s3cret');
    expect(text).not.toContain('cause');
  });

  it('keeps the code of a strata error thrown by another copy of the package', () => {
    const foreign = Object.assign(new Error('Todo/todo-1 not found'), {
      code: 'AGGREGATE_NOT_FOUND',
    });
    const problem = toProblemDetails(foreign);
    expect(problem.code).toBe('AGGREGATE_NOT_FOUND');
    expect(problem.status).toBe(404);
    expect(problem.detail).toBe('Todo/todo-1 not found');
  });
  it('keeps the details of a strata error thrown by another copy of the package', () => {
    class ForeignVersionConflict extends Error {
      readonly code = 'VERSION_CONFLICT';
      details() {
        return { ...ref, expectedVersion: 3, actualVersion: 5 };
      }
    }
    const problem = toProblemDetails(new ForeignVersionConflict('Todo/todo-1: expected 3'));
    expect(problem.code).toBe('VERSION_CONFLICT');
    expect(problem.actualVersion).toBe(5);
  });
});

describe('fromProblemDetails', () => {
  it.each(CASES)('keeps the code of $name, also through JSON', ({ error }) => {
    for (const body of [toProblemDetails(error), viaJson(toProblemDetails(error))]) {
      const back = fromProblemDetails(body);
      expect(back).toBeInstanceOf(StrataError);
      expect(back.code).toBe(error.code);
      expect(isStrataError(back, error.code)).toBe(true);
    }
  });

  it.each(CASES)(
    'rebuilds $name with the same class and fields, also through JSON',
    ({ error }) => {
      for (const body of [toProblemDetails(error), viaJson(toProblemDetails(error))]) {
        const back = fromProblemDetails(body);
        expect(back.constructor).toBe(error.constructor);
        expect(fieldsOf(back)).toEqual(fieldsOf(error));
        expect(back.details()).toEqual(error.details());
        expect(toProblemDetails(back)).toEqual(toProblemDetails(error));
      }
    },
  );

  it('rebuilds NoEventsError as NoEventsError', () => {
    const back = fromProblemDetails(viaJson(toProblemDetails(new NoEventsError())));
    expect(back).toBeInstanceOf(NoEventsError);
    expect(back.name).toBe('NoEventsError');
  });

  it('rebuilds InvalidCursorError with its cursor', () => {
    const error = new InvalidCursorError('bogus');
    const back = fromProblemDetails(viaJson(toProblemDetails(error)));
    expect(back).toBeInstanceOf(InvalidCursorError);
    expect((back as InvalidCursorError).cursor).toBe('bogus');
    expect(back.message).toBe(error.message);
  });

  it('rebuilds LogDivergedError with the log id, and without one', () => {
    const back = fromProblemDetails(
      viaJson(toProblemDetails(new LogDivergedError('m', { logId: 'b' }))),
    );
    expect(back).toBeInstanceOf(LogDivergedError);
    expect((back as LogDivergedError).logId).toBe('b');
    const bare = fromProblemDetails(viaJson(toProblemDetails(new LogDivergedError('m'))));
    expect((bare as LogDivergedError).logId).toBeUndefined();
    expect(bare.message).toBe('m');
  });

  it('rebuilds a VERSION_CONFLICT the client can rebase on', () => {
    const back = fromProblemDetails(viaJson(toProblemDetails(new VersionConflictError(ref, 3, 7))));
    if (!isStrataError(back, 'VERSION_CONFLICT')) throw new Error('expected VERSION_CONFLICT');
    expect(back.actualVersion).toBe(7);
    expect(back.expectedVersion).toBe(3);
    expect(back.aggregateId).toBe('todo-1');
  });

  it('rebuilds VALIDATION_FAILED issues as data', () => {
    const issues = [{ path: ['a', 0, 'b'], message: 'Required' }];
    const back = fromProblemDetails(
      viaJson(toProblemDetails(new ValidationFailedError('Bad', issues))),
    );
    if (!isStrataError(back, 'VALIDATION_FAILED')) throw new Error('expected VALIDATION_FAILED');
    expect(back.issues).toEqual(issues);
    expect(back.message).toBe('Bad');
  });

  it('falls back to the title when there is no detail', () => {
    const back = fromProblemDetails({
      type: 'urn:strata:problem:forbidden',
      title: 'Forbidden',
      status: 403,
      code: 'FORBIDDEN',
    });
    expect(back).toBeInstanceOf(ForbiddenError);
    expect(back.message).toBe('Forbidden');
  });

  it('tolerates extra members (problem details are extensible)', () => {
    const body = { ...toProblemDetails(new UnauthorizedError('Token expired')), traceId: 'abc' };
    const back = fromProblemDetails(body);
    expect(back).toBeInstanceOf(UnauthorizedError);
    expect(back.message).toBe('Token expired');
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['a string', 'Bad Gateway'],
    ['an HTML page', '<html><body>502 Bad Gateway</body></html>'],
    ['a number', 502],
    ['an array', [toProblemDetails(new ForbiddenError())]],
    ['an empty object', {}],
    ['a body without code', { type: 'about:blank', title: 'Not Found', status: 404 }],
    ['an unknown code', { type: 'urn:x', title: 'I am a teapot', status: 418, code: 'TEAPOT' }],
    ['a 2xx status', { type: 'urn:x', title: 'OK', status: 200, code: 'FORBIDDEN' }],
    ['a string status', { type: 'urn:x', title: 'Forbidden', status: '403', code: 'FORBIDDEN' }],
    ['a missing title', { type: 'urn:x', status: 403, code: 'FORBIDDEN' }],
  ])('turns %s into INTERNAL, keeping the body as cause', (_, body) => {
    const back = fromProblemDetails(body);
    expect(back).toBeInstanceOf(InternalError);
    expect(back.code).toBe('INTERNAL');
    expect(back.message).toBe('The server answered with an unreadable error');
    expect(back.cause).toBe(body);
  });

  it('gives every error code a class of its own', () => {
    const names = ERROR_CODES.filter((code) => code !== 'NO_EVENTS').map((code: ErrorCode) => {
      const body = {
        type: 'urn:x',
        title: code,
        status: HTTP_STATUS_BY_CODE[code],
        detail: 'm',
        code,
      };
      return fromProblemDetails(body).name;
    });
    expect(names).not.toContain('StrataError');
    expect(new Set(names).size).toBe(names.length);
  });
});
