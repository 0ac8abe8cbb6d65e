// What the HTTP benches (http-push-vs-emmett, fan-out, pull) need as a client of the bench sync
// server (tooling/bench/sync-server.ts): bearer tokens it accepts. Node only.
import { createHmac } from 'node:crypto';

const base64url = (text: string | Buffer) => Buffer.from(text).toString('base64url');

/**
 * An HS256 JWT for `subject` in `tenant`, as the bench server's `jwtAuthentication` verifies
 * (claims `sub`, `tenant`, `exp`); it expires in 12 hours, longer than any bench run.
 */
export function bearerToken(secret: string, tenant: string, subject = 'bench'): Promise<string> {
  const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const exp = Math.floor(Date.now() / 1000) + 12 * 3600;
  const payload = base64url(JSON.stringify({ sub: subject, tenant, exp }));
  const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest();
  return Promise.resolve(`${header}.${payload}.${base64url(signature)}`);
}
