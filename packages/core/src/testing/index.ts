// The public API of @strata/core/testing, named one by one. Runner-agnostic helpers throw an
// AssertionError; describeEventStoreContract needs Vitest (an optional peer dependency).

// Given/when/then for aggregates.
export {
  type AggregateSpec,
  aggregateSpec,
  type SpecGiven,
  type SpecOutcome,
} from './aggregate-spec.ts';
export { AssertionError } from './assertions.ts';

// The event store contract: every backend must pass it.
export {
  type DescribeContractOptions,
  describeEventStoreContract,
} from './describe-event-store-contract.ts';
export {
  type ContractResult,
  type EventStoreFactory,
  runEventStoreContract,
} from './event-store-contract.ts';
