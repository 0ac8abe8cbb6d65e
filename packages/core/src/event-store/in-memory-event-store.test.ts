import { describeEventStoreContract } from '../testing/index.ts';
import { createInMemoryEventStore } from './in-memory-event-store.ts';

describeEventStoreContract('in-memory', () => createInMemoryEventStore());
