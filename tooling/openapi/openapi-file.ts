/**
 * docs/openapi.json, the protocol's committed description: what the generator in
 * @strata/edge-server/openapi makes of the route table and the shared schemas. `pnpm openapi`
 * writes it (write-openapi.ts); tooling/checks/openapi.test.ts fails when it is stale.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildOpenApiDocument } from '@strata/edge-server/openapi';
import { ROOT } from '../checks/source-graph.ts';

/** Where the document is committed. */
export const OPENAPI_FILE = join(ROOT, 'docs', 'openapi.json');

/** The document as the generator makes it now, as the file holds it (two-space JSON). */
export function generatedOpenApiText(): string {
  return `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`;
}

/** The committed document, parsed. */
export function committedOpenApi(): Record<string, unknown> {
  return JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as Record<string, unknown>;
}
