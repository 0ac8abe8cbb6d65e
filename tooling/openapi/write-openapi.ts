/**
 * `pnpm openapi`: writes docs/openapi.json from the route table and the shared zod schemas
 * (@strata/edge-server/openapi), formatted as the repository's formatter (Biome) keeps JSON. Run
 * it after changing a route or a protocol schema; the consistency check
 * (tooling/checks/openapi.test.ts) fails until the file is current.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { ROOT } from '../checks/source-graph.ts';
import { committedOpenApi, generatedOpenApiText, OPENAPI_FILE } from './openapi-file.ts';

const text = generatedOpenApiText();
const where = relative(ROOT, OPENAPI_FILE);
let current = false;
try {
  current = isDeepStrictEqual(committedOpenApi(), JSON.parse(text));
} catch {
  current = false; // no file yet, or not JSON
}
if (current) {
  console.log(`${where} is current`);
} else {
  writeFileSync(OPENAPI_FILE, text);
  execFileSync(join(ROOT, 'node_modules', '.bin', 'biome'), ['format', '--write', OPENAPI_FILE], {
    stdio: 'ignore',
  });
  console.log(`wrote ${where}`);
}
