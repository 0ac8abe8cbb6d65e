import type { Principal } from './auth.ts';

/**
 * What the sync app's `/v1/*` middleware sets for the routes behind it: the authenticated
 * principal. Every feature's sub-app is typed with it, so `c.get('principal')` is a `Principal`.
 * The first middleware (observability/observe-requests.ts) sets every request's `requestId`.
 */
export type SyncEnv = { Variables: { principal: Principal; requestId: string } };
