import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from '@jest/globals';

/*
 * The packages import each other one way only: no module reaches itself through its imports
 * (type-only imports included: a contract that imports its implementations is the cycle this
 * guards against), and no package depends on itself through another. A static scan of
 * packages/<name>/src, resolving relative paths and @deploy-suite/<name>[/sub] through each
 * package's "exports".
 */

const ROOT = resolve(import.meta.dirname, '..');

interface Graph {
  /** file → files it imports */
  files: Map<string, Set<string>>;
  /** package → packages it imports */
  packages: Map<string, Set<string>>;
}

const IMPORT =
  /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;

function sourcesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.d.ts'))
    .map((name) => join(dir, name));
}

/** Without comments, so an import written in a comment is not taken for one. */
const code = (text: string): string => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');

function scan(root: string): Graph {
  const packagesDir = join(root, 'packages');
  const names = readdirSync(packagesDir).filter((name) => existsSync(join(packagesDir, name, 'package.json')));
  const exportsOf = new Map<string, Record<string, string>>();
  for (const name of names) {
    const manifest = JSON.parse(readFileSync(join(packagesDir, name, 'package.json'), 'utf8')) as {
      name: string;
      exports?: string | Record<string, string>;
    };
    const exports = typeof manifest.exports === 'string' ? { '.': manifest.exports } : (manifest.exports ?? {});
    exportsOf.set(manifest.name, exports);
  }
  const packageOf = (file: string): string | undefined => {
    const [top, name] = relative(root, file).split('/');
    return top === 'packages' ? name : undefined;
  };
  const graph: Graph = { files: new Map(), packages: new Map() };
  for (const name of names) {
    graph.packages.set(name, new Set());
    for (const file of sourcesUnder(join(packagesDir, name, 'src'))) {
      const targets = new Set<string>();
      for (const match of code(readFileSync(file, 'utf8')).matchAll(IMPORT)) {
        const specifier = (match[1] ?? match[2])!;
        let target: string | undefined;
        if (specifier.startsWith('.')) {
          target = resolve(dirname(file), specifier);
        } else if (specifier.startsWith('@deploy-suite/')) {
          const [scope, pkg, ...sub] = specifier.split('/');
          const exports = exportsOf.get(`${scope}/${pkg}`);
          const entry = exports?.[sub.length === 0 ? '.' : `./${sub.join('/')}`];
          if (entry === undefined)
            throw new Error(`${relative(root, file)} imports ${specifier}, which no package exports`);
          target = resolve(packagesDir, pkg!, entry);
        }
        if (target === undefined) continue;
        targets.add(target);
        const from = packageOf(file);
        const to = packageOf(target);
        if (from !== undefined && to !== undefined && from !== to) graph.packages.get(from)!.add(to);
      }
      graph.files.set(file, targets);
    }
  }
  return graph;
}

/** Every cycle found by a depth-first walk, each as the path that closes it. */
function cycles(edges: Map<string, Set<string>>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of edges.get(node) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (state.get(next) === undefined) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...edges.keys()].sort()) if (state.get(node) === undefined) visit(node);
  return found;
}

const shown = (root: string, found: string[][]): string[] =>
  found.map((cycle) => cycle.map((node) => (node.startsWith('/') ? relative(root, node) : node)).join(' → '));

describe('imports between and within packages', () => {
  const graph = scan(ROOT);

  it('scans every package source and resolves its imports', () => {
    expect(graph.files.size).toBeGreaterThan(50);
    // The known edges show up, so an empty graph cannot pass for a clean one.
    expect([...graph.packages.get('backup')!]).toEqual(expect.arrayContaining(['db', 'kit', 'storage']));
    expect([...graph.packages.get('db')!]).toContain('kit');
  });

  it('has no cycle between modules', () => {
    expect(shown(ROOT, cycles(graph.files))).toEqual([]);
  });

  it('has no cycle between packages', () => {
    expect(shown(ROOT, cycles(graph.packages))).toEqual([]);
  });

  it('finds a contract that imports its implementation, and two packages that import each other', () => {
    const root = mkdtempSync(join(tmpdir(), 'cycles-'));
    const file = (path: string, text: string): void => {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    };
    file('packages/a/package.json', JSON.stringify({ name: '@deploy-suite/a', exports: { '.': './src/index.ts' } }));
    file('packages/b/package.json', JSON.stringify({ name: '@deploy-suite/b', exports: { './x': './src/x.ts' } }));
    file('packages/a/src/index.ts', "export * from './driver.ts';\nimport { x } from '@deploy-suite/b/x';\n");
    file(
      'packages/a/src/driver.ts',
      "// import './not-an-import.ts';\nexport const open = () => import('./impl.ts');\n",
    );
    file('packages/a/src/impl.ts', "import type { Driver } from './driver.ts';\n");
    file('packages/b/src/x.ts', "import { thing } from '@deploy-suite/a';\nexport const x = thing;\n");
    const found = scan(root);
    expect(shown(root, cycles(found.files))).toEqual([
      'packages/a/src/driver.ts → packages/a/src/impl.ts → packages/a/src/driver.ts',
      'packages/a/src/index.ts → packages/b/src/x.ts → packages/a/src/index.ts',
    ]);
    expect(shown(root, cycles(found.packages))).toEqual(['a → b → a']);
  });
});
