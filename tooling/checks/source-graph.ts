/**
 * The import graph of the packages' product code, read from the source text (no bundler): the
 * checks in this folder ask it for cycles and for imports product code must not make.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** The repository root (this file is tooling/checks/source-graph.ts). */
export const ROOT = resolve(import.meta.dirname, '../..');

/** A test, a type test or anything under a package's test/ folder: never product code. */
export function isTestFile(path: string): boolean {
  return /\.test(-d)?\.tsx?$/.test(path) || /\/test\//.test(path);
}

/** Every product source file (`packages/<name>/src/**`, tests excluded), relative to ROOT. */
export function productFiles(root = ROOT): string[] {
  const packages = join(root, 'packages');
  return readdirSync(packages)
    .map((name) => join(packages, name, 'src'))
    .filter((src) => existsSync(src))
    .flatMap((src) => filesUnder(src))
    .map((file) => relative(root, file))
    .filter((file) => /\.tsx?$/.test(file) && !isTestFile(file))
    .sort();
}

/** Every file below `dir`, leaving out installed (node_modules) and built (dist) folders. */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (!entry.isDirectory()) return [path];
    return entry.name === 'node_modules' || entry.name === 'dist' ? [] : filesUnder(path);
  });
}

// Static imports and re-exports (`import … from`, `export … from`, side-effect `import '…'`) and
// dynamic `import('…')`. Comments are stripped first so an example in a doc comment is no import.
const SPECIFIERS = [
  /\b(?:import|export)\s+(?:type\s+)?[^'";]*?\bfrom\s*['"]([^'"]+)['"]/g,
  /\bimport\s*['"]([^'"]+)['"]/g,
  /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
];

/** The module specifiers a source text imports, in order of appearance per kind. */
export function importsOf(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  return SPECIFIERS.flatMap((pattern) =>
    [...code.matchAll(pattern)].map((match) => match[1] as string),
  );
}

/** The file a relative specifier names (`./x.ts`, or `./x` with .ts/.tsx/index.ts), or undefined. */
export function resolveRelative(
  fromFile: string,
  specifier: string,
  root = ROOT,
): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = resolve(root, dirname(fromFile), specifier);
  const candidates = [base, `${base}.ts`, `${base}.tsx`, join(base, 'index.ts')];
  const found = candidates.find((candidate) => existsSync(candidate) && candidate.match(/\.tsx?$/));
  return found === undefined ? undefined : relative(root, found);
}

/** Product file → the product files it imports by relative path. */
export function productImportGraph(root = ROOT): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of productFiles(root)) {
    const targets = importsOf(readFileSync(join(root, file), 'utf8'))
      .map((specifier) => resolveRelative(file, specifier, root))
      .filter((target): target is string => target !== undefined && !isTestFile(target));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/**
 * The import cycles of a graph: its strongly connected components with more than one file, or a
 * file importing itself (Tarjan's algorithm), each sorted, the list sorted.
 */
export function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node) as number, low.get(next) as number));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node) as number, index.get(next) as number));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop() as string;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || (graph.get(node) ?? []).includes(node)) {
        cycles.push(component.sort());
      }
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return cycles.sort((a, b) => (a[0] as string).localeCompare(b[0] as string));
}
