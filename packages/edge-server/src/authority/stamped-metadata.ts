import type { CommandPrincipal, EventMetadata } from '@strata/core';
import type { Principal } from '../app/auth.ts';

/** Who wrote an event, as the server knows it: from the verified token, never from the body. */
export interface WriterIdentity {
  readonly principal: Principal;
  /** The device's own id, from the push envelope (a device id, not an identity claim). */
  readonly clientId?: string | undefined;
}

/**
 * The metadata the server stores: the client's app keys (correlation ids and the like) with
 * `userId`, `tenant` and `clientId` overwritten by the writer's identity, so read rules and
 * audit trails can rely on them.
 */
export function stampedMetadata(
  given: EventMetadata | undefined,
  writer: WriterIdentity,
): EventMetadata {
  return {
    ...given,
    userId: writer.principal.subject,
    tenant: writer.principal.tenant,
    ...(writer.clientId === undefined ? {} : { clientId: writer.clientId }),
  };
}

/** The principal as a command's `decide` and `allow` rule see it. */
export function commandPrincipal(principal: Principal): CommandPrincipal {
  return { userId: principal.subject, tenant: principal.tenant, claims: principal.claims ?? {} };
}
