/**
 * The server's authentication from environment variables, shared by every entry point (Node,
 * Bun, Deno, Workers). Runtime-neutral: callers pass their env (`process.env`, `Bun.env`,
 * `Deno.env.toObject()`, a Workers `env`).
 */
import { type Authenticate, jwtAuthentication, singleTenant } from '../app/auth.ts';
import { envValue, SINGLE_TENANT } from './env.ts';

/**
 * `JWT_SECRET` → HS256 bearer tokens (`jwtAuthentication`). Nothing set → every request is one
 * principal of the tenant `default`, and `warn` is told so (local development only; the app then
 * answers loopback hosts only, see `authenticatesNobody`).
 *
 * @example
 * const authenticate = authenticationFromEnv(process.env, console.warn);
 */
export function authenticationFromEnv(
  env: object,
  warn: (message: string) => void = (message) => console.warn(message),
): Authenticate {
  const secret = envValue(env, 'JWT_SECRET');
  if (secret !== undefined) return jwtAuthentication({ secret });
  warn(
    `[strata] JWT_SECRET is not set: every request is accepted as tenant "${SINGLE_TENANT}". ` +
      'Local development only; set JWT_SECRET before exposing this server.',
  );
  return singleTenant(SINGLE_TENANT);
}
