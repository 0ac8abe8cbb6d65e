import {
  decodedFor,
  isStrataError,
  ReactorRejectedError,
  receives,
  type SyncReactor,
} from '@strata/core';
import type { AppendContext, AppendHook } from '../postgres/append-hook.ts';

/** A sync reactor on the server: it reacts inside the append's transaction (`context.transaction`). */
export type ServerSyncReactor = SyncReactor<AppendContext>;

/**
 * Runs sync reactors inside every append's transaction, in order, on each event they receive
 * (decoded with the reactor's aggregate, so upcast and typed). What they write through
 * `context.transaction` commits with the events. A throw rejects the commit and stores nothing:
 * strata errors (e.g. `DomainRuleViolatedError`) reach the client with their own code, anything
 * else as `REACTOR_REJECTED` naming the reactor. Not run for retried pushes of stored events.
 *
 * @example
 * const creditLimit = defineSyncReactor({
 *   name: 'credit-limit',
 *   aggregate: Order,
 *   async react(event, { transaction }: AppendContext) {
 *     const { rows } = await transaction.query('SELECT credit FROM customers WHERE id = $1', [event.data.customerId]);
 *     if (rows[0].credit < event.data.total) throw new DomainRuleViolatedError('CREDIT_LIMIT', 'Over the credit limit');
 *   },
 * });
 * createSyncApp({ database, authenticate, appendHooks: [syncReactors([creditLimit])] });
 */
export function syncReactors(reactors: readonly ServerSyncReactor[]): AppendHook {
  return async (events, context) => {
    for (const event of events) {
      for (const reactor of reactors) {
        if (!receives(reactor, event)) continue;
        try {
          await reactor.react(decodedFor(reactor, event), context);
        } catch (error) {
          if (isStrataError(error)) throw error;
          const reason = error instanceof Error ? error.message : String(error);
          throw new ReactorRejectedError(
            reactor.name,
            `Reactor ${reactor.name} rejected ${event.type} of ${event.aggregateType}/${event.aggregateId}: ${reason}`,
            { cause: error },
          );
        }
      }
    }
  };
}
