#!/usr/bin/env node
// The `strata` command (`strata --help`). In the repository, where the TypeScript sources are,
// it runs them through tsx (so app modules in TypeScript load too); a published package has only
// its build (dist/) and runs that.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/strata.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import(new URL('../dist/cli/strata.js', import.meta.url).href);
}
