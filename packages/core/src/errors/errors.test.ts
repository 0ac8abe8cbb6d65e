import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
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
} from './errors.ts';
import {
  ERROR_CODES,
  type ErrorCode,
  isAnyStrataError,
  StrataError,
  type StrataErrorOptions,
} from './strata-error.ts';
import { toValidationIssues } from './validation-issues.ts';

const ref = { aggregateType: 'Todo', aggregateId: 'todo-1' };

/** Builds each error class with the given options, so `cause` can be checked for all of them. */
const FACTORIES: [name: string, code: ErrorCode, make: (o?: StrataErrorOptions) => StrataError][] =
  [
    ['VersionConflictError', 'VERSION_CONFLICT', (o) => new VersionConflictError(ref, 1, 2, o)],
    ['ValidationFailedError', 'VALIDATION_FAILED', (o) => new ValidationFailedError('bad', [], o)],
    ['UnknownEventTypeError', 'UNKNOWN_EVENT_TYPE', (o) => new UnknownEventTypeError('T', 2, o)],
    ['UnknownCommandError', 'UNKNOWN_COMMAND', (o) => new UnknownCommandError('Todo', 'x', o)],
    ['AggregateNotFoundError', 'AGGREGATE_NOT_FOUND', (o) => new AggregateNotFoundError(ref, o)],
    ['NotFoundError', 'NOT_FOUND', (o) => new NotFoundError(undefined, o)],
    ['NoEventsError', 'NO_EVENTS', (o) => new NoEventsError(undefined, o)],
    [
      'DuplicateEventIdError',
      'DUPLICATE_EVENT_ID',
      (o) => new DuplicateEventIdError('id', undefined, o),
    ],
    ['InvalidCursorError', 'INVALID_CURSOR', (o) => new InvalidCursorError('c', o)],
    ['LogDivergedError', 'LOG_DIVERGED', (o) => new LogDivergedError('m', o)],
    [
      'DomainRuleViolatedError',
      'DOMAIN_RULE_VIOLATED',
      (o) => new DomainRuleViolatedError('R', 'm', o),
    ],
    ['ReactorRejectedError', 'REACTOR_REJECTED', (o) => new ReactorRejectedError('r', 'm', o)],
    ['CommandRequiredError', 'COMMAND_REQUIRED', (o) => new CommandRequiredError('Todo', 'm', o)],
    [
      'PredictionMismatchError',
      'PREDICTION_MISMATCH',
      (o) => new PredictionMismatchError(0, 'm', o),
    ],
    ['UnauthorizedError', 'UNAUTHORIZED', (o) => new UnauthorizedError(undefined, o)],
    ['ForbiddenError', 'FORBIDDEN', (o) => new ForbiddenError(undefined, o)],
    ['PayloadTooLargeError', 'PAYLOAD_TOO_LARGE', (o) => new PayloadTooLargeError('big', 10, o)],
    ['RateLimitedError', 'RATE_LIMITED', (o) => new RateLimitedError('slow down', 2, o)],
    [
      'UnsupportedMediaTypeError',
      'UNSUPPORTED_MEDIA_TYPE',
      (o) => new UnsupportedMediaTypeError('not json', ['application/json'], o),
    ],
    [
      'UnsupportedProtocolError',
      'UNSUPPORTED_PROTOCOL',
      (o) => new UnsupportedProtocolError(3, { minProtocol: 2, maxProtocol: 2 }, o),
    ],
    ['StorageFailedError', 'STORAGE_FAILED', (o) => new StorageFailedError('down', o)],
    ['UnavailableError', 'UNAVAILABLE', (o) => new UnavailableError(undefined, o)],
    ['InternalError', 'INTERNAL', (o) => new InternalError(undefined, o)],
  ];

describe('error classes', () => {
  it('cover every error code exactly once', () => {
    expect(FACTORIES.map(([, code]) => code).sort()).toEqual([...ERROR_CODES].sort());
  });

  it.each(FACTORIES)('%s has its class name as name and carries %s', (name, code, make) => {
    const error = make();
    expect(error.name).toBe(name);
    expect(error.code).toBe(code);
    expect(error).toBeInstanceOf(StrataError);
    expect(error).toBeInstanceOf(Error);
    expect(error.message.length).toBeGreaterThan(0);
    expect(String(error)).toBe(`${name}: ${error.message}`);
    expect(error.stack).toContain(name);
  });

  it.each(FACTORIES)('%s passes cause through', (_, __, make) => {
    const cause = new Error('root cause');
    const error = make({ cause });
    expect(error.cause).toBe(cause);
    expect(make({ cause: 'a string' }).cause).toBe('a string');
  });

  it.each(FACTORIES)('%s has no cause unless one is given', (_, __, make) => {
    expect('cause' in make()).toBe(false);
    expect('cause' in make({})).toBe(false);
  });

  it('keeps an explicit undefined cause as an own cause', () => {
    const error = new InternalError('x', { cause: undefined });
    expect(Object.hasOwn(error, 'cause')).toBe(true);
    expect(error.cause).toBeUndefined();
  });

  it('names subclasses of subclasses after themselves', () => {
    class TodoGone extends DomainRuleViolatedError {}
    expect(new TodoGone('TODO_REMOVED', 'gone').name).toBe('TodoGone');
  });

  it('StrataError itself is usable with any code', () => {
    const error = new StrataError('FORBIDDEN', 'nope');
    expect(error.name).toBe('StrataError');
    expect(error.details()).toEqual({});
  });

  it('carries the fields each class promises', () => {
    const conflict = new VersionConflictError(ref, 'no_stream', 4);
    expect(conflict).toMatchObject({ ...ref, expectedVersion: 'no_stream', actualVersion: 4 });
    expect(conflict.message).toBe('Todo/todo-1: expected version no_stream, actual 4');
    expect(new UnknownEventTypeError('T').schemaVersion).toBeUndefined();
    expect(new UnknownEventTypeError('T').message).toBe('Unknown event type "T"');
    expect(new UnknownEventTypeError('T', 3).message).toBe(
      'Unknown schema version 3 of event type "T"',
    );
    expect(new DuplicateEventIdError('abc').message).toBe(
      'Event id abc is already stored elsewhere',
    );
    expect(new InvalidCursorError('x'.repeat(500)).message.length).toBeLessThan(130);
    expect(new InvalidCursorError('x'.repeat(500)).cursor).toHaveLength(500);
    expect(new PayloadTooLargeError('big', 1024).limit).toBe(1024);
    expect(new DomainRuleViolatedError('R', 'm').reason).toBe('R');
  });
});

describe('isStrataError', () => {
  it.each(FACTORIES)('recognises %s by its code %s and no other', (_, code, make) => {
    const error = make();
    expect(isStrataError(error)).toBe(true);
    expect(isStrataError(error, code)).toBe(true);
    for (const other of ERROR_CODES.filter((c) => c !== code)) {
      expect(isStrataError(error, other)).toBe(false);
    }
  });

  it('narrows to the class of the code', () => {
    const caught: unknown = new VersionConflictError(ref, 2, 3);
    if (!isStrataError(caught, 'VERSION_CONFLICT')) throw new Error('expected a match');
    expectTypeOf(caught).toEqualTypeOf<VersionConflictError>();
    expect(caught.actualVersion).toBe(3);

    const invalid: unknown = new ValidationFailedError('bad', [{ path: ['a'], message: 'm' }]);
    if (!isStrataError(invalid, 'VALIDATION_FAILED')) throw new Error('expected a match');
    expectTypeOf(invalid).toEqualTypeOf<ValidationFailedError>();
    expect(invalid.issues).toHaveLength(1);

    const any: unknown = new ForbiddenError();
    if (!isStrataError(any)) throw new Error('expected a match');
    expectTypeOf(any).toEqualTypeOf<StrataError>();
    expect(any.code).toBe('FORBIDDEN');
  });

  it('is keyed on the code, not the class', () => {
    // A hand-made subclass with the VERSION_CONFLICT code is a VERSION_CONFLICT.
    const custom = new StrataError('VERSION_CONFLICT', 'conflict');
    expect(isStrataError(custom, 'VERSION_CONFLICT')).toBe(true);
    expect(isStrataError(custom, 'INTERNAL')).toBe(false);
  });

  it('recognises an error with a known code from another copy of the package', () => {
    class ForeignStrataError extends Error {
      readonly code: string;
      constructor(code: string, message: string) {
        super(message);
        this.code = code;
        this.name = 'VersionConflictError';
      }
    }
    const foreign = new ForeignStrataError('VERSION_CONFLICT', 'conflict');
    expect(foreign).not.toBeInstanceOf(StrataError);
    expect(isStrataError(foreign)).toBe(true);
    expect(isStrataError(foreign, 'VERSION_CONFLICT')).toBe(true);
    expect(isStrataError(foreign, 'FORBIDDEN')).toBe(false);
    expect(isAnyStrataError(foreign)).toBe(true);

    const wire = Object.assign(new Error('Forbidden'), { code: 'FORBIDDEN' });
    expect(isStrataError(wire, 'FORBIDDEN')).toBe(true);
  });

  it.each([
    ['an Error with an unknown code', Object.assign(new Error('x'), { code: 'ECONNRESET' })],
    [
      'an Error with a lower-case code',
      Object.assign(new Error('x'), { code: 'version_conflict' }),
    ],
    ['an Error with a numeric code', Object.assign(new Error('x'), { code: 409 })],
    ['an Error without code', new Error('VERSION_CONFLICT')],
    ['a plain object with a known code', { code: 'VERSION_CONFLICT', message: 'x' }],
    ['a code string', 'VERSION_CONFLICT'],
    ['null', null],
    ['undefined', undefined],
  ])('rejects %s', (_, value) => {
    expect(isStrataError(value)).toBe(false);
    expect(isStrataError(value, 'VERSION_CONFLICT')).toBe(false);
    expect(isAnyStrataError(value)).toBe(false);
  });

  it('rejects a code that is not an error code', () => {
    const error = new InternalError();
    expect(isStrataError(error, 'NOT_A_CODE' as ErrorCode)).toBe(false);
  });
});

describe('toValidationIssues', () => {
  it('turns zod issues into plain path + message pairs', () => {
    const schema = z.object({ title: z.string().min(2), tags: z.array(z.string()) });
    const result = schema.safeParse({ title: 'a', tags: ['ok', 3] });
    if (result.success) throw new Error('expected a failure');
    const issues = toValidationIssues(result.error);
    expect(issues).toEqual([
      { path: ['title'], message: expect.any(String) },
      { path: ['tags', 1], message: expect.any(String) },
    ]);
    expect(JSON.parse(JSON.stringify(issues))).toEqual(issues);
  });

  it('drops symbol keys from paths', () => {
    const key = Symbol('s');
    const error = new z.ZodError([
      { code: 'custom', message: 'm', path: ['a', key, 0], input: undefined },
    ]);
    expect(toValidationIssues(error)).toEqual([{ path: ['a', 0], message: 'm' }]);
  });
});
