// A shopping cart: the sample domain's aggregate whose commands the server must decide. Its
// rules depend on state another device may change (ten items at most), on who asks (only the
// owner adds) and on the time (an item remembers when it was added), so a client's prediction
// can differ from what the server stores.
import { DomainRuleViolatedError, defineAggregate, defineEvent } from '@strata/core';
import { z } from 'zod';

/** Items a cart holds at most. */
export const CART_LIMIT = 10;

/** A cart was opened; its owner is who opened it. */
export const CartOpened = defineEvent('CartOpened', z.object({ owner: z.string() }));
/** An item went into the cart, at the time of the decision. */
export const ItemAdded = defineEvent(
  'ItemAdded',
  z.object({ sku: z.string(), addedAt: z.string() }),
);
/** An item left the cart. */
export const ItemRemoved = defineEvent('ItemRemoved', z.object({ sku: z.string() }));

export interface CartState {
  readonly owner: string | undefined;
  readonly items: readonly { readonly sku: string; readonly addedAt: string }[];
}

const Sku = z.string().trim().min(1).max(64);

export const Cart = defineAggregate({
  type: 'Cart',
  events: [CartOpened, ItemAdded, ItemRemoved],
  initialState: (): CartState => ({ owner: undefined, items: [] }),
  evolve: (state, event): CartState => {
    switch (event.type) {
      case 'CartOpened':
        return { ...state, owner: event.data.owner };
      case 'ItemAdded':
        return { ...state, items: [...state.items, event.data] };
      case 'ItemRemoved':
        return { ...state, items: state.items.filter((item) => item.sku !== event.data.sku) };
    }
  },
}).withCommands((command) => {
  // Only the owner changes a cart once it is open.
  const ownerOnly = ({
    principal,
    state,
  }: {
    principal?: { userId: string } | undefined;
    state: CartState;
  }) => state.owner === undefined || principal?.userId === state.owner;
  return {
    open: command(z.object({}), (state, _input, { principal }) => {
      if (state.owner !== undefined) {
        throw new DomainRuleViolatedError('CART_EXISTS', 'This cart is already open');
      }
      return [{ type: 'CartOpened', data: { owner: principal?.userId ?? 'anonymous' } }];
    }),
    addItem: command(
      z.object({ sku: Sku }),
      (state, { sku }, { now }) => {
        if (state.owner === undefined) {
          throw new DomainRuleViolatedError('CART_NOT_OPEN', 'Open the cart first');
        }
        if (state.items.length >= CART_LIMIT) {
          throw new DomainRuleViolatedError(
            'CART_FULL',
            `A cart holds at most ${CART_LIMIT} items`,
          );
        }
        return [{ type: 'ItemAdded', data: { sku, addedAt: now.toISOString() } }];
      },
      { allow: ownerOnly },
    ),
    removeItem: command(
      z.object({ sku: Sku }),
      (state, { sku }) =>
        state.items.some((item) => item.sku === sku)
          ? [{ type: 'ItemRemoved', data: { sku } }]
          : [],
      { allow: ownerOnly },
    ),
  };
});
