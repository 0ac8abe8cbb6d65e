// What the HTTP benches (http-push-vs-emmett, fan-out, pull) need as a client of the bench sync
// server (tooling/bench/sync-server.ts): bearer tokens it accepts, and a push as the browser
// client sends it. Node only.
import { createHmac } from 'node:crypto';
import { newKsuid } from '@strata/core';

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

/**
 * `POST /v2/push` of one new todo (one commit of one TodoAdded event) as the browser client
 * sends it, the event's id `id`; throws unless the commit was accepted. Returns the id.
 */
export async function pushNewTodo(
  url: string,
  token: string,
  clientId: string,
  id = newKsuid(),
): Promise<string> {
  const commandId = newKsuid();
  const aggregateId = newKsuid();
  const occurredAt = new Date().toISOString();
  const response = await fetch(new URL('v2/push', url), {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      protocol: 2,
      clientId,
      commits: [
        {
          commitId: commandId,
          command: {
            aggregateType: 'Todo',
            aggregateId,
            name: 'add',
            input: { title: 'Todo' },
            issuedAt: occurredAt,
          },
          events: [
            {
              id,
              type: 'TodoAdded',
              schemaVersion: 2,
              aggregateType: 'Todo',
              aggregateId,
              version: 1,
              occurredAt,
              data: { title: 'Todo' },
              metadata: { clientId, commandId, correlationId: commandId, causationId: commandId },
            },
          ],
        },
      ],
    }),
  });
  if (!response.ok) throw new Error(`push answered ${response.status}: ${await response.text()}`);
  const { results } = (await response.json()) as { results: { status: string }[] };
  if (results[0]?.status !== 'accepted')
    throw new Error(`push refused: ${JSON.stringify(results)}`);
  return id;
}
