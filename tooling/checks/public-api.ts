/**
 * The public API of each package, as a user's TypeScript sees it: every entry of its `exports`
 * map, with the names it exports (values and types) read by the compiler, not by a regex.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { ROOT } from './source-graph.ts';

/** One entry point: `@strata/core/testing` and the names a user may import from it. */
export interface PublicEntry {
  readonly specifier: string;
  readonly file: string;
  /** `name` for a value (function, const, class, enum), `type name` for a type only. */
  readonly names: readonly string[];
}

interface PackageJson {
  name: string;
  private?: boolean;
  exports?: Record<string, string>;
}

/** The entries of every workspace package under packages/ that is not private. */
export function publicEntries(root = ROOT): { specifier: string; file: string }[] {
  const dir = join(root, 'packages');
  return readdirSync(dir).flatMap((name) => {
    const manifest = JSON.parse(
      readFileSync(join(dir, name, 'package.json'), 'utf8'),
    ) as PackageJson;
    if (manifest.private === true || manifest.exports === undefined) return [];
    return Object.entries(manifest.exports).map(([key, target]) => ({
      specifier: key === '.' ? manifest.name : `${manifest.name}/${key.slice(2)}`,
      file: join(dir, name, target),
    }));
  });
}

/** Each entry with the sorted names it exports. */
export function readPublicApi(root = ROOT): PublicEntry[] {
  const entries = publicEntries(root);
  const program = ts.createProgram(
    entries.map((entry) => entry.file),
    {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      allowImportingTsExtensions: true,
      noEmit: true,
      skipLibCheck: true,
      jsx: ts.JsxEmit.ReactJSX,
      lib: ['lib.es2023.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts'],
      types: [],
    },
  );
  const checker = program.getTypeChecker();
  return entries.map((entry) => {
    const source = program.getSourceFile(entry.file);
    const module = source === undefined ? undefined : checker.getSymbolAtLocation(source);
    if (module === undefined) throw new Error(`cannot read the exports of ${entry.file}`);
    const names = checker.getExportsOfModule(module).map((symbol) => {
      const target =
        symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      return target.flags & ts.SymbolFlags.Value ? symbol.name : `type ${symbol.name}`;
    });
    return { ...entry, file: entry.file.slice(root.length + 1), names: names.sort(byName) };
  });
}

const byName = (a: string, b: string) =>
  a.replace(/^type /, '').localeCompare(b.replace(/^type /, ''));

/** The API as reviewable text: one block per entry, one name per line. */
export function formatPublicApi(entries: readonly PublicEntry[]): string {
  return entries
    .map(
      (entry) =>
        `# ${entry.specifier} (${entry.file}): ${entry.names.length} names\n${entry.names.join('\n')}\n`,
    )
    .join('\n');
}
