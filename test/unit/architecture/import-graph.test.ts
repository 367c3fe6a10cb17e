import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  buildImportGraph,
  describeCircles,
  findCircles,
  forbiddenReach,
  type ImportGraph,
  importSpecifiers,
  layerViolations,
  stronglyConnectedComponents,
} from '../../support/import-graph.ts';

// The guards in module-structure.test.ts are only worth something if they can fail: these show the
// scanner, the circle search and the layer check on small inputs whose answer is known.

const graphOf = (edges: Record<string, string[]>): ImportGraph => new Map(Object.entries(edges));

describe('finding import specifiers', () => {
  it('finds every form of static import, re-export, side-effect import and literal dynamic import', () => {
    const source = [
      "import a from './a.ts';",
      "import type { B } from './b.ts';",
      "import c, { type C, from } from './c.ts';",
      "import * as d from './d.ts';",
      "import {\n  e1,\n  e2,\n} from './e.ts';",
      "import './f.ts';",
      "export { g } from './g.ts';",
      "export type { H } from './h.ts';",
      "export * from './i.ts';",
      "export * as j from './j.ts';",
      "const k = await import('./k.ts');",
      "type L = typeof import('./l.ts');",
      "import pino from 'pino';",
    ].join('\n');
    expect(importSpecifiers(source)).toEqual([
      './a.ts',
      './b.ts',
      './c.ts',
      './d.ts',
      './e.ts',
      './f.ts',
      './g.ts',
      './h.ts',
      './i.ts',
      './j.ts',
      './k.ts',
      './l.ts',
      'pino',
    ]);
  });

  it('ignores imports inside comments, strings, templates and regular expressions, and non-literal or non-import uses', () => {
    const source = [
      "// import a from './comment.ts';",
      "/* export * from './block.ts'; */",
      'const s = "import b from \'./string.ts\'";',
      "const t = `import c from './template.ts' ${n + 1} and ${ { x: 1 }.x } import('./template2.ts')`;",
      "const r = /import d from '.\\/regex.ts'/;",
      'const q = x / 2; const z = "\'";',
      'const m = import.meta.url;',
      'const dyn = import(name);',
      "obj.import('./method.ts');",
      "export const from = 'x'; export function f() {}",
      "export class K { from = './field.ts' }",
      'export { local };',
      "import real from './real.ts';",
    ].join('\n');
    expect(importSpecifiers(source)).toEqual(['./real.ts']);
  });
});

describe('finding circles', () => {
  it('finds a known circle and prints it so a maintainer sees what to cut', () => {
    const graph = graphOf({
      'src/a.ts': ['src/b.ts', 'src/leaf.ts'],
      'src/b.ts': ['src/c.ts'],
      'src/c.ts': ['src/a.ts'],
      'src/leaf.ts': [],
      'src/self.ts': ['src/self.ts'],
    });
    expect(describeCircles(findCircles(graph))).toBe(
      [
        '2 group(s) of files import each other in a circle; each line is one circle, cut one import in it:',
        'group 1 (3 files):',
        '  src/a.ts -> src/b.ts -> src/c.ts -> src/a.ts',
        'group 2 (1 files):',
        '  src/self.ts -> src/self.ts',
      ].join('\n'),
    );
  });

  it('lists a circle through every import inside a tangle, once each', () => {
    // hub <-> x and hub <-> y: two circles in one component, each import in at least one of them.
    const graph = graphOf({ 'hub.ts': ['x.ts', 'y.ts'], 'x.ts': ['hub.ts', 'y.ts'], 'y.ts': ['hub.ts'] });
    expect(findCircles(graph)).toEqual([
      {
        files: ['hub.ts', 'x.ts', 'y.ts'],
        circles: [
          ['hub.ts', 'x.ts', 'hub.ts'],
          ['hub.ts', 'x.ts', 'y.ts', 'hub.ts'],
          ['hub.ts', 'y.ts', 'hub.ts'],
        ],
      },
    ]);
  });

  it('passes an acyclic graph, diamonds included', () => {
    const graph = graphOf({ 'top.ts': ['left.ts', 'right.ts'], 'left.ts': ['bottom.ts'], 'right.ts': ['bottom.ts'], 'bottom.ts': [] });
    expect(findCircles(graph)).toEqual([]);
    expect(describeCircles(findCircles(graph))).toBe('');
    expect(stronglyConnectedComponents(graph)).toHaveLength(4);
  });

  it('walks a long chain without running out of stack', () => {
    const length = 50_000;
    const graph = graphOf(Object.fromEntries(Array.from({ length }, (_, n) => [`f${n}.ts`, n + 1 < length ? [`f${n + 1}.ts`] : ['f0.ts']])));
    const components = stronglyConnectedComponents(graph);
    expect(components).toHaveLength(1);
    expect(components[0]).toHaveLength(length);
  });
});

describe('building the graph from files', () => {
  const root = mkdtempSync(join(tmpdir(), 'import-graph-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('resolves files and directories (to their index.ts), skips packages, reports what names no file, and finds the circle', () => {
    mkdirSync(join(root, 'src/core'), { recursive: true });
    mkdirSync(join(root, 'src/app'), { recursive: true });
    writeFileSync(join(root, 'src/core/index.ts'), "export * from './thing.ts';\n");
    writeFileSync(join(root, 'src/core/thing.ts'), "import type { App } from '../app/app.ts';\nimport 'node:fs';\n");
    writeFileSync(join(root, 'src/app/app.ts'), "import { thing } from '../core';\nimport ws from 'ws';\nimport { gone } from './gone.ts';\n");
    const { graph, unresolved } = buildImportGraph(root, 'src');
    expect(graph).toEqual(
      graphOf({
        'src/app/app.ts': ['src/core/index.ts'],
        'src/core/index.ts': ['src/core/thing.ts'],
        'src/core/thing.ts': ['src/app/app.ts'],
      }),
    );
    expect(unresolved).toEqual(['src/app/app.ts -> ./gone.ts']);
    expect(describeCircles(findCircles(graph))).toContain('src/app/app.ts -> src/core/index.ts -> src/core/thing.ts -> src/app/app.ts');
  });
});

describe('checking layers', () => {
  const graph = graphOf({
    'src/shared/a.ts': ['src/shared/b.ts'],
    'src/shared/b.ts': ['src/raft/log.ts'],
    'src/raft/log.ts': ['src/shared/a.ts'],
    'src/client/sdk.ts': ['src/shared/a.ts', 'src/transport/link.ts'],
    'src/transport/link.ts': ['src/storage/disk.ts'],
    'src/storage/disk.ts': [],
    'src/extra/new.ts': ['src/shared/a.ts'],
  });
  const allowed = { shared: [], raft: ['shared'], client: ['shared', 'transport'], transport: ['shared', 'storage'], storage: [] };

  it('lists each import the table does not allow as file -> imported file, and folders without a row', () => {
    expect(layerViolations(graph, allowed)).toEqual([
      'src/shared/b.ts -> src/raft/log.ts (src/shared may import only itself)',
      'src/extra/new.ts -> src/shared/a.ts (folder src/extra has no row in the table)',
    ]);
    expect(layerViolations(graphOf({ 'src/raft/log.ts': ['src/shared/a.ts'], 'src/shared/a.ts': [] }), allowed)).toEqual([]);
  });

  it('finds a forbidden folder reached through an allowed one, with the chain', () => {
    expect(forbiddenReach(graph, 'client', ['storage', 'raft'])).toEqual([
      'src/client/sdk.ts -> src/shared/a.ts -> src/shared/b.ts -> src/raft/log.ts',
      'src/client/sdk.ts -> src/transport/link.ts -> src/storage/disk.ts',
    ]);
    expect(forbiddenReach(graph, 'client', ['server'])).toEqual([]);
  });
});
