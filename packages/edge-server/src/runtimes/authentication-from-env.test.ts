import { sign } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { authenticatesNobody } from '../app/auth.ts';
import { authenticationFromEnv } from './authentication-from-env.ts';

const SECRET = 'authentication-from-env-secret-32-chars';

function bearer(token: string): Request {
  return new Request('http://localhost/v1/pull', { headers: { authorization: `Bearer ${token}` } });
}

describe('authenticationFromEnv', () => {
  it('verifies HS256 tokens with JWT_SECRET', async () => {
    const warnings: string[] = [];
    const authenticate = authenticationFromEnv({ JWT_SECRET: ` ${SECRET} ` }, (line) =>
      warnings.push(line),
    );
    expect(authenticatesNobody(authenticate)).toBe(false);
    const exp = Math.floor(Date.now() / 1000) + 60;
    const token = await sign({ sub: 'ada', tenant: 'acme', exp }, SECRET);
    await expect(authenticate(bearer(token))).resolves.toMatchObject({
      tenant: 'acme',
      subject: 'ada',
    });
    const forged = await sign(
      { sub: 'ada', tenant: 'acme', exp },
      'another-secret-of-32-characters!!',
    );
    await expect(authenticate(bearer(forged))).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    expect(warnings).toEqual([]);
  });

  it('lets everyone in as tenant "default", with a warning, when nothing is configured', async () => {
    const warnings: string[] = [];
    const authenticate = authenticationFromEnv({ JWT_SECRET: '  ' }, (line) => warnings.push(line));
    expect(authenticatesNobody(authenticate)).toBe(true);
    await expect(
      Promise.resolve(authenticate(new Request('http://localhost/'))),
    ).resolves.toMatchObject({
      tenant: 'default',
    });
    expect(warnings.join('\n')).toContain('JWT_SECRET is not set');
  });
});
