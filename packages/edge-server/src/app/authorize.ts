import type { StoredEvent, StreamRef } from '@strata/core';
import type { Principal } from './auth.ts';

/**
 * Narrows, per aggregate, what an authenticated principal may do inside its tenant. A refused
 * write rejects that commit with `FORBIDDEN`; refused reads are left out of pulls and
 * subscriptions (the cursor still moves past them).
 *
 * @example
 * const authorize: Authorize = {
 *   canWrite: (principal, stream) => stream.aggregateType !== 'AuditLog',
 *   canRead: (principal, event) => event.metadata.userId === principal.subject,
 * };
 */
export interface Authorize {
  canWrite?(principal: Principal, stream: StreamRef): boolean | Promise<boolean>;
  canRead?(principal: Principal, event: StoredEvent): boolean;
}
