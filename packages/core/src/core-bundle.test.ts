import { build, type Message, type Metafile } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';

// Core's tsconfig has `types: []`, so source files are checked against Web APIs only. A
// `/// <reference types="node" />` here would put Node's globals (process, Buffer) into the whole
// package's typecheck, so this test loads the Node APIs it needs through untyped specifiers and
// declares the little it uses.
interface NodeModule {
  builtinModules: readonly string[];
}
interface NodeFs {
  readdir(path: URL, options: { recursive: true }): Promise<string[]>;
  readFile(path: URL, encoding: 'utf8'): Promise<string>;
}
const nodeModuleSpecifier = 'node:module';
const nodeFsSpecifier = 'node:fs/promises';
const { builtinModules } = (await import(/* @vite-ignore */ nodeModuleSpecifier)) as NodeModule;
const { readdir, readFile } = (await import(/* @vite-ignore */ nodeFsSpecifier)) as NodeFs;

const SRC = new URL('./', import.meta.url);
const ENTRY = new URL('./index.ts', import.meta.url).pathname;
const BUILTINS = new Set(builtinModules);

/** Whether an import specifier names a Node built-in (`node:x`, `fs`, `fs/promises`, ...). */
function isNodeBuiltin(specifier: string): boolean {
  if (specifier.startsWith('node:')) return true;
  return BUILTINS.has(specifier) || BUILTINS.has(specifier.split('/')[0] ?? '');
}

/** Every module specifier in `from '…'`, `import '…'`, `import('…')`, `require('…')`. */
function importSpecifiers(source: string): string[] {
  const pattern = /(?:\bfrom|\bimport|\brequire)\s*\(?\s*(['"])([^'"\n]+)\1/g;
  return [...source.matchAll(pattern)].map((match) => match[2] as string);
}

const NODE_WARNING = /node|built-?in|require|Buffer|process/i;

describe('the import scanner', () => {
  it.each([
    ["import { readFile } from 'node:fs/promises';", 'node:fs/promises'],
    ['import fs from "fs";', 'fs'],
    ["import * as path from 'path'", 'path'],
    ["import type { Socket } from 'net';", 'net'],
    ["import {\n  createHash,\n} from 'crypto';", 'crypto'],
    ["export * from 'stream';", 'stream'],
    ["export { inspect } from 'util';", 'util'],
    ["import 'worker_threads';", 'worker_threads'],
    ["const os = await import('os');", 'os'],
    ["const cp = require('child_process');", 'child_process'],
    ["import { Buffer } from 'buffer/';", 'buffer/'],
  ])('finds the Node built-in in %j', (source, specifier) => {
    const found = importSpecifiers(source);
    expect(found).toEqual([specifier]);
    expect(found.filter(isNodeBuiltin)).toEqual([specifier]);
  });

  it.each([
    "import { z } from 'zod';",
    "import { isKsuid } from '../ids/ksuid.ts';",
    "export * from './protocol/index.ts';",
    "import { x } from 'path-browserify';",
    "import { y } from 'events-emitter-lite';",
  ])('lets %j through', (source) => {
    expect(importSpecifiers(source)).toHaveLength(1);
    expect(importSpecifiers(source).filter(isNodeBuiltin)).toEqual([]);
  });
});

describe('@strata/core source', () => {
  it('imports no Node built-in outside tests and testing/', async () => {
    const files = (await readdir(SRC, { recursive: true }))
      .map((file) => file.replaceAll('\\', '/'))
      .filter((file) => /\.[cm]?[jt]sx?$/.test(file))
      .filter((file) => !file.endsWith('.test.ts') && !file.startsWith('testing/'));

    // Not vacuous: the scan sees the package's real modules.
    expect(files).toEqual(
      expect.arrayContaining(['index.ts', 'protocol/push.ts', 'ids/ksuid.ts', 'errors/errors.ts']),
    );
    expect(files).not.toContain('core-bundle.test.ts');

    const offenders: string[] = [];
    for (const file of files) {
      const source = await readFile(new URL(file, SRC), 'utf8');
      for (const specifier of importSpecifiers(source).filter(isNodeBuiltin)) {
        offenders.push(`${file}: ${specifier}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});

describe('@strata/core bundled for the browser', () => {
  let warnings: Message[];
  let metafile: Metafile;
  let code: string;

  beforeAll(async () => {
    const result = await build({
      entryPoints: [ENTRY],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    warnings = result.warnings;
    metafile = result.metafile;
    code = result.outputFiles[0]?.text ?? '';
  });

  it('builds without warnings about Node built-ins', () => {
    expect(warnings.filter((warning) => NODE_WARNING.test(warning.text))).toEqual([]);
    expect(code.length).toBeGreaterThan(1000);
  });

  it('has no Node built-in among its inputs or imports', () => {
    const inputs = Object.keys(metafile.inputs);
    expect(inputs).toEqual(expect.arrayContaining([expect.stringMatching(/src\/index\.ts$/)]));
    expect(inputs.some((input) => input.includes('node_modules/zod'))).toBe(true);

    expect(inputs.filter((input) => input.startsWith('node:') || isNodeBuiltin(input))).toEqual([]);
    const imports = Object.values(metafile.inputs).flatMap((input) => input.imports);
    expect(imports.filter((entry) => entry.external === true)).toEqual([]);
    expect(imports.filter((entry) => isNodeBuiltin(entry.path))).toEqual([]);
  });

  it.each([
    ['require(', /\brequire\s*\(/],
    ['Buffer', /\bBuffer\b/],
    ['process.', /\bprocess\./],
    ['node: specifiers', /["']node:/],
  ])('has no %s in its output', (_, pattern) => {
    const match = pattern.exec(code);
    expect(match === null ? null : code.slice(match.index - 80, match.index + 40)).toBeNull();
  });

  it.each(["import 'node:fs';", "import { readFileSync } from 'fs'; readFileSync;"])(
    'would fail for a module that does %j (the check can fail)',
    async (contents) => {
      await expect(
        build({
          stdin: { contents, resolveDir: SRC.pathname, loader: 'ts' },
          bundle: true,
          platform: 'browser',
          format: 'esm',
          write: false,
          logLevel: 'silent',
        }),
      ).rejects.toThrow(/Could not resolve/);
    },
  );
});
