import {
  createCommandHandler,
  createInMemoryEventStore,
  DomainRuleViolatedError,
  defineAggregate,
  defineEvent,
} from '@strata/core';
import { z } from 'zod';

// 1. Events: a name and a zod schema per type.
const ItemAdded = defineEvent('ItemAdded', z.object({ name: z.string(), quantity: z.number() }));

// 2. An aggregate: pure initial state and evolve, plus commands with a zod input and a decide.
export const Cart = defineAggregate({
  type: 'Cart',
  events: [ItemAdded],
  initialState: () => ({ items: {} as Record<string, number> }),
  evolve: (state, event) => ({
    items: {
      ...state.items,
      [event.data.name]: (state.items[event.data.name] ?? 0) + event.data.quantity,
    },
  }),
}).withCommands((command) => ({
  addItem: command(
    z.object({ name: z.string().min(1), quantity: z.number().int().positive() }),
    (state, input) => {
      if (Object.keys(state.items).length >= 10 && !(input.name in state.items)) {
        throw new DomainRuleViolatedError('CART_FULL', 'A cart holds 10 different items');
      }
      return [{ type: 'ItemAdded', data: input }];
    },
  ),
}));

// 3. Run commands against a store: in memory here; IndexedDB in the browser, Postgres on the server.
const app = createCommandHandler({ store: createInMemoryEventStore() });
await app.execute(Cart, 'cart-1', 'addItem', { name: 'apple', quantity: 3 });
const { state, version } = await app.execute(Cart, 'cart-1', 'addItem', {
  name: 'apple',
  quantity: 2,
});
console.log(state, version); // { items: { apple: 5 } } 2
