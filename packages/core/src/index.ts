// The public API of @strata/core, named one by one: every name here is a promise to keep.
// Helpers only core uses stay out; test helpers live in @strata/core/testing.

// Aggregates: state, events and commands defined once, run in the browser, on the server, in tests.
export {
  type AggregateConfig,
  type AggregateDefinition,
  type AnyAggregateDefinition,
  type CommandContext,
  type CommandDefinition,
  type CommandInput,
  type CommandInputSpec,
  type CommandMetadata,
  type CommandName,
  type CommandOptions,
  defineAggregate,
  type EventOf,
  type StateOf,
} from './aggregates/aggregate-definition.ts';
export { decodedFor, receives } from './aggregates/aggregate-scope.ts';
export {
  type AnyCommandInputDefinition,
  type CommandInputDefinition,
  defineCommandInput,
} from './aggregates/command-input.ts';
export type {
  CommandPrincipal,
  CommandRule,
  CommandRuleInput,
} from './aggregates/command-principal.ts';

// Commands: validate, load, decide and append with optimistic concurrency.
export {
  type CommandHandler,
  type CommandHandlerOptions,
  createCommandHandler,
  type ExecutedCommand,
  type ExecuteOptions,
  type ExecuteResult,
} from './commands/command-handler.ts';
export {
  type LoadAggregateOptions,
  type LoadedAggregate,
  loadAggregate,
} from './commands/load-aggregate.ts';
export { type PrepareCommandOptions, prepareCommand } from './commands/prepare-command.ts';
export { commandInputVersion, upgradeCommandInput } from './commands/upgrade-command-input.ts';

// Crypto-shredding: per-stream keys, sealed event data, and events whose key was forgotten.
export { decryptEvents, readEventData } from './crypto/decrypt-events.ts';
export { isEncryptedPayload } from './crypto/encrypted-payload.ts';
export { decryptEventData, encryptEventData, payloadBinding } from './crypto/event-cipher.ts';
export { type ForgottenEvent, isForgotten, isForgottenEvent } from './crypto/forgotten.ts';
export {
  createInMemoryKeyStore,
  type InMemoryKeyStoreOptions,
} from './crypto/in-memory-key-store.ts';
export type { ForgetResult, KeyRecord, KeyStore } from './crypto/key-store.ts';
export {
  exportStreamKey,
  generateStreamKey,
  importStreamKey,
  type StreamKey,
} from './crypto/stream-key.ts';

// Errors: one typed error per code, each mapped to an HTTP status by the protocol.
export {
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
  type StorageFailureReason,
  UnauthorizedError,
  UnavailableError,
  UnknownCommandError,
  type UnknownCommandOptions,
  UnknownEventTypeError,
  UnsupportedMediaTypeError,
  UnsupportedProtocolError,
  ValidationFailedError,
  type ValidationIssue,
  VersionConflictError,
} from './errors/errors.ts';
export { type ErrorCode, isAnyStrataError, StrataError } from './errors/strata-error.ts';
export { parseOrThrow, safeParseSchema, toValidationIssues } from './errors/validation-issues.ts';

// Event stores: the contract every backend keeps, the in-memory one, and what implementers share.
export { planAppend } from './event-store/append-plan.ts';
export type {
  AppendOptions,
  AppendResult,
  EventStore,
  ReadAllOptions,
  ReadAllResult,
  ReadStreamOptions,
} from './event-store/event-store.ts';
export {
  ANY,
  type ExpectedVersion,
  NO_STREAM,
  STREAM_EXISTS,
} from './event-store/expected-version.ts';
export { matchesExpectedVersion } from './event-store/expected-version-check.ts';
export {
  createInMemoryEventStore,
  type InMemoryEventStore,
  type InMemoryEventStoreOptions,
  type InMemoryTransaction,
} from './event-store/in-memory-event-store.ts';
export { decodePositionCursor, encodePositionCursor } from './event-store/position-cursor.ts';
export { canonicalJson } from './event-store/same-event-content.ts';
export { type StreamRef, streamKey } from './event-store/stream-ref.ts';

// Events: their definitions (schema versions, upcasters) and the envelope they travel in.
export { envelopeOf } from './events/envelope-of.ts';
export type { EventEnvelope, EventMetadata, NewEvent, StoredEvent } from './events/event.ts';
export { defineEvent, type EventDataOf, type EventDefinition } from './events/event-definition.ts';
export { newEventOf } from './events/new-event-of.ts';

// Ids: time-sortable KSUIDs for events and commands.
export { type NewKsuidOptions, newKsuid } from './ids/ksuid.ts';

// Projections: read models kept in the append's transaction.
export {
  applyInlineProjections,
  defineInlineProjection,
  type InlineProjection,
  type InlineProjectionConfig,
} from './projections/inline-projection.ts';
export {
  type AcceptedCommand,
  AcceptedCommandSchema,
  COMMAND_PROTOCOL_VERSION,
  type CommandAnswer,
  CommandAnswerSchema,
  type CommandCommit,
  CommandCommitSchema,
  type CommandPushEnvelope,
  CommandPushEnvelopeSchema,
  type CommandPushRequest,
  CommandPushRequestSchema,
  type CommandPushResponse,
  CommandPushResponseSchema,
  type CommandRequest,
  CommandRequestSchema,
  InputVersionSchema,
  type RejectedCommand,
  RejectedCommandSchema,
  type WireCommand,
  WireCommandSchema,
} from './protocol/command-push.ts';
// Sync protocol: the wire schemas and errors shared by the browser client and the edge server.
export { CursorSchema, NameSchema } from './protocol/event-schemas.ts';
export {
  formatLogAnchor,
  LOG_ANCHOR_HEADER,
  LOG_ID_HEADER,
  type LogAnchor,
  parseLogAnchor,
} from './protocol/log-identity.ts';
export {
  fromProblemDetails,
  PROBLEM_JSON,
  type ProblemDetails,
  ProblemDetailsSchema,
  toProblemDetails,
} from './protocol/problem-details.ts';
export { PullQuerySchema, type PullResponse, PullResponseSchema } from './protocol/pull.ts';
export {
  type Commit,
  CommitSchema,
  type PushEnvelope,
  PushEnvelopeSchema,
  type PushRequest,
  PushRequestSchema,
  type PushResponse,
  PushResponseSchema,
} from './protocol/push.ts';
export { queryInteger } from './protocol/query-integer.ts';
export { SafeTextSchema } from './protocol/safe-text.ts';
export {
  MAX_SCOPES_PER_REQUEST,
  type ScopedItem,
  ScopedItemSchema,
  type ScopedPullRequest,
  ScopedPullRequestSchema,
  type ScopedPullResponse,
  ScopedPullResponseSchema,
  type ScopedSubscribeBody,
  ScopedSubscribeBodySchema,
  ScopedSubscribeQuerySchema,
  type ScopedSubscriptionMessage,
  ScopedSubscriptionMessageSchema,
  ScopeKeySchema,
  type ScopeRead,
} from './protocol/scoped-sync.ts';
export { readServerSentEvents, type SseMessage } from './protocol/sse-reader.ts';
export {
  MAX_HISTORY_LIMIT,
  StreamHistoryQuerySchema,
  type StreamHistoryResponse,
  StreamHistoryResponseSchema,
  type StreamMetadata,
  StreamMetadataSchema,
  StreamParamsSchema,
} from './protocol/streams.ts';
export {
  SUBSCRIPTION_FEATURES_HEADER,
  SUBSCRIPTION_MESSAGE_KINDS,
  SubscribeQuerySchema,
  type SubscriptionMessage,
  SubscriptionMessageSchema,
} from './protocol/subscription.ts';

// Reactors: reactions to events, inside the append's transaction (sync) or after it (async).
export {
  type AsyncReactor,
  type AsyncReactorContext,
  defineAsyncReactor,
} from './reactors/async-reactor.ts';
export { defineSyncReactor, type SyncReactor } from './reactors/sync-reactor.ts';

// Scopes: which aggregates a device replicates, chosen by name and parameters.
export {
  type AnyScopeDefinition,
  defineScope,
  type ScopeDefinition,
  type ScopeRef,
  TENANT_SCOPE_NAME,
  tenantScope,
} from './scopes/scope-definition.ts';
export { parseScopeKey, type ScopeKeyParts, scopeKey } from './scopes/scope-key.ts';
export { type ScopeMembership, scopeMembership, scopesAfter } from './scopes/scope-membership.ts';

// Snapshots: when to take them; a snapshot is saved with the events it follows.
export { dueSnapshot } from './snapshots/due-snapshot.ts';
export type { Snapshot } from './snapshots/snapshot.ts';
export { everyNVersions, type SnapshotPolicy } from './snapshots/snapshot-policy.ts';

// Timing: retry backoff and a wake-up signal for loops that wait.
export { type BackoffOptions, backoffDelay } from './timing/backoff.ts';
export { createWakeSignal, type WakeSignal } from './timing/wake-signal.ts';
