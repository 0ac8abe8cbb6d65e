import { describe, expect, it } from 'vitest';
import { findCycles, importsOf, productImportGraph } from './source-graph.ts';

describe('import cycles', () => {
  it('finds a cycle, a self-import and none in a tree', () => {
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a', 'd']],
      ['d', []],
      ['e', ['e']],
      ['f', ['d']],
    ]);
    expect(findCycles(graph)).toEqual([['a', 'b', 'c'], ['e']]);
    expect(
      findCycles(
        new Map([
          ['x', ['y']],
          ['y', []],
        ]),
      ),
    ).toEqual([]);
  });

  it('reads static, type-only, re-export and dynamic imports, not ones in comments', () => {
    const source = [
      "import { a } from './a.ts';",
      "import type { B } from './b.ts';",
      "export { c } from './c.ts';",
      "export * from './d.ts';",
      "import './e.ts';",
      "const f = await import('./f.ts');",
      "// import { g } from './g.ts';",
      "/** @example import { h } from './h.ts'; */",
      'import {\n  i,\n  type I,\n} from "./i.ts";',
    ].join('\n');
    expect(importsOf(source).sort()).toEqual(
      ['./a.ts', './b.ts', './c.ts', './d.ts', './e.ts', './f.ts', './i.ts'].sort(),
    );
  });

  it('has none in the packages’ product code (type-only imports count too)', () => {
    const graph = productImportGraph();
    expect(graph.size).toBeGreaterThan(100);
    expect(findCycles(graph)).toEqual([]);
  });
});
