import { afterAll, describe, it } from 'vitest';
import type { EventStore } from '../event-store/event-store.ts';
import { type EventStoreFactory, eventStoreContract } from './event-store-contract.ts';

/** Options of `describeEventStoreContract`. */
export interface DescribeContractOptions {
  /** Called after all cases, e.g. to close connections. */
  readonly teardown?: () => void | Promise<void>;
  /** Called with each store after its case, e.g. to close it. */
  readonly dispose?: (store: EventStore<unknown>) => void | Promise<void>;
}

/**
 * Registers the event store contract as Vitest tests, one per case, each on a fresh store.
 *
 * @example
 * describeEventStoreContract('in-memory store', () => createInMemoryEventStore());
 */
export function describeEventStoreContract(
  name: string,
  factory: EventStoreFactory,
  options: DescribeContractOptions = {},
): void {
  describe(`event store contract: ${name}`, () => {
    for (const contractCase of eventStoreContract) {
      it(contractCase.name, async () => {
        const store = await factory();
        try {
          await contractCase.run(store);
        } finally {
          await options.dispose?.(store);
        }
      });
    }
    if (options.teardown !== undefined) afterAll(options.teardown);
  });
}
