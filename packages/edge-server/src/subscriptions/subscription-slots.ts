/**
 * How many subscriptions may be open at once on one server instance, per principal and in all
 * (issue 12): each holds a connection, a feed listener and up to a buffer cap of memory, so one
 * principal must not open them without bound. A pure in-memory policy; no timers, no I/O.
 */

/** Options of `createSubscriptionSlots`. */
export interface SubscriptionSlotsOptions {
  /** Most open subscriptions of one principal (tenant + subject). */
  readonly maxPerPrincipal: number;
  /** Most open subscriptions in all. */
  readonly maxTotal: number;
}

/** Why a slot was refused. */
export type SlotRefusal = 'principal' | 'total';

/** Open-subscription counters of one instance. */
export interface SubscriptionSlots {
  /**
   * Takes a slot for `principalKey`: a `release` function (idempotent), or why there is none.
   */
  acquire(
    principalKey: string,
  ): { readonly release: () => void } | { readonly refused: SlotRefusal };
  /** Open subscriptions of `principalKey`, or of everyone when absent. */
  count(principalKey?: string): number;
}

/**
 * @example
 * const slots = createSubscriptionSlots({ maxPerPrincipal: 8, maxTotal: 1000 });
 * const slot = slots.acquire(principalSlotKey(principal));
 * if ('refused' in slot) throw new RateLimitedError('Too many open subscriptions', 5);
 */
export function createSubscriptionSlots(options: SubscriptionSlotsOptions): SubscriptionSlots {
  const open = new Map<string, number>();
  let total = 0;
  return {
    acquire(principalKey) {
      const mine = open.get(principalKey) ?? 0;
      if (mine >= options.maxPerPrincipal) return { refused: 'principal' };
      if (total >= options.maxTotal) return { refused: 'total' };
      open.set(principalKey, mine + 1);
      total++;
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          total--;
          const left = (open.get(principalKey) ?? 1) - 1;
          if (left === 0) open.delete(principalKey);
          else open.set(principalKey, left);
        },
      };
    },
    count: (principalKey) => (principalKey === undefined ? total : (open.get(principalKey) ?? 0)),
  };
}

/**
 * The key of a principal's slots: tenant and subject, unambiguous for any strings.
 *
 * @example
 * principalSlotKey({ tenant: 'acme', subject: 'ada' }); // '["acme","ada"]'
 */
export function principalSlotKey(principal: {
  readonly tenant: string;
  readonly subject: string;
}): string {
  return JSON.stringify([principal.tenant, principal.subject]);
}
