import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatPublicApi, readPublicApi } from './public-api.ts';
import { productFiles, ROOT } from './source-graph.ts';

/**
 * Every exported name is a promise to keep. The list below is the promise: a change to any
 * package's public API changes `public-api.txt`, which must be updated on purpose
 * (`pnpm vitest run tooling/checks/public-api.test.ts -u`) and shows up in review.
 */
describe('the public API', () => {
  const api = readPublicApi();

  it('is the reviewed list of names, entry by entry', async () => {
    await expect(formatPublicApi(api)).toMatchFileSnapshot('./public-api.txt');
  });

  it('leaks none of the internals a review found public once', () => {
    const internals = [
      'KEY_COLUMNS',
      'toKeyRecord',
      'touchMembership',
      'partitionExpression',
      'storedEventsAt',
      'toStoredEvent',
      'CONNECTION_KEY',
    ];
    const leaked = api.flatMap((entry) =>
      entry.names
        .filter((name) => internals.includes(name.replace(/^type /, '')))
        .map((name) => `${entry.specifier}: ${name}`),
    );
    expect(leaked).toEqual([]);
  });

  it('is named export by export: no `export *` in product code', () => {
    const starred = productFiles().filter((file) =>
      /^\s*export\s+\*/m.test(readFileSync(join(ROOT, file), 'utf8')),
    );
    expect(starred).toEqual([]);
  });
});
