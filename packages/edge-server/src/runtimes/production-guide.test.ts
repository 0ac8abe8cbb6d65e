import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { NEON_POOL_DEFAULTS } from '../postgres/neon-database.ts';
import { POOL_ENV_VARS } from './pool-env.ts';
import { serverOptionsFromEnv } from './server-app.ts';

// docs/production.md states settings and names the tests and benches that keep it true: this
// checks the statements against the code, so the guide cannot drift from it silently.
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const guide = readFileSync(`${root}docs/production.md`, 'utf8');

/** The guide's pool table: variable, option and default of each row. */
function poolRows(): Map<string, { option: string; fallback: string }> {
  const rows = new Map<string, { option: string; fallback: string }>();
  for (const line of guide.split('\n')) {
    const match = /^\| `(STRATA_POOL_[A-Z_]+)` +\| `pool\.(\w+)` +\| `(\d+)` +\|/.exec(line);
    if (match !== null) {
      rows.set(match[1] as string, { option: match[2] as string, fallback: match[3] as string });
    }
  }
  return rows;
}

describe('docs/production.md', () => {
  it('lists every pool variable with its option and the default the code applies', () => {
    const rows = poolRows();
    expect([...rows.keys()].sort()).toEqual(Object.values(POOL_ENV_VARS).sort());
    for (const [setting, name] of Object.entries(POOL_ENV_VARS)) {
      expect(rows.get(name)).toEqual({
        option: setting,
        fallback: String(NEON_POOL_DEFAULTS[setting as keyof typeof NEON_POOL_DEFAULTS]),
      });
    }
  });

  it('STRATA_LISTEN_URL, as it says, is read beside DATABASE_URL', () => {
    expect(guide).toContain('STRATA_LISTEN_URL');
    expect(
      serverOptionsFromEnv({
        DATABASE_URL: 'postgres://a@pooled/db',
        STRATA_LISTEN_URL: 'postgres://a@direct/db',
      }),
    ).toMatchObject({ databaseUrl: 'postgres://a@pooled/db', listenUrl: 'postgres://a@direct/db' });
  });

  it('every test, bench and fixture it names exists', () => {
    const named = new Set<string>();
    for (const match of guide.matchAll(/`?((?:packages|test)\/[\w./-]+\.ts)`?/g))
      named.add(match[1] as string);
    for (const match of guide.matchAll(/`([\w-]+\.(?:pg\.test|workerd\.test|test|bench))\.ts`/g)) {
      named.add(match[1] as string);
    }
    expect(named.size).toBeGreaterThan(5);
    const files = listSources();
    for (const name of named) {
      const found = name.includes('/')
        ? existsSync(`${root}${name}`) || files.some((file) => file.endsWith(`/${name}`))
        : files.some((file) => file.endsWith(`/${name}.ts`));
      expect(found, name).toBe(true);
    }
  });
});

/** Every .ts file under packages/ (but node_modules), as paths from the repository root. */
function listSources(): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(`${root}${dir}`, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name === 'dist') continue;
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) found.push(path);
    }
  };
  walk('packages');
  return found;
}
