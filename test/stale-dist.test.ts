// Before the tests run, a bundle older than anything it is built from is rebuilt, under the dist
// lock held exclusively — also when the caller already holds that lock shared, as
// `flock -s /tmp/ds-dist.lock pnpm test` does.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeEach, describe, expect, it } from '@jest/globals';
import { rebuildStale, staleActions } from '../scripts/stale-dist.ts';
import { repoRoot } from './helpers/run-action.ts';

const root = mkdtempSync(join(tmpdir(), 'stale-dist-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const files: Record<string, string> = {
  'pnpm-lock.yaml': 'lockfileVersion: 9.0\n',
  'scripts/build.ts': '',
  'tsconfig.base.json': '{}',
  'actions/app/action.yml': 'name: app\n',
  'actions/app/package.json': JSON.stringify({ dependencies: { '@x/lib': 'workspace:*', yaml: '2.9.1' } }),
  'actions/app/src/main.ts': '',
  'actions/app/dist/index.js': '',
  'actions/app/dist/licenses.txt': '',
  'packages/lib/package.json': JSON.stringify({ name: '@x/lib', dependencies: { '@x/base': 'workspace:*' } }),
  'packages/lib/src/index.ts': '',
  'packages/base/package.json': JSON.stringify({ name: '@x/base' }),
  'packages/base/src/index.ts': '',
  'packages/unused/package.json': JSON.stringify({ name: '@x/unused' }),
  'packages/unused/src/index.ts': '',
  'packages/lib/test/lib.test.ts': '',
};
const at = (path: string, seconds: number): void => {
  const full = join(root, path);
  utimesSync(full, seconds, seconds);
  utimesSync(dirname(full), seconds, seconds);
};

beforeEach(() => {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  // Sources (and their folders) at t=1000, the bundle after them at t=2000.
  for (const path of Object.keys(files)) at(path, 1000);
  for (const path of ['actions/app/dist/index.js', 'actions/app/dist/licenses.txt']) at(path, 2000);
});

describe('staleActions', () => {
  it('is empty when the bundle is newer than everything it is built from', () => {
    expect(staleActions(root)).toEqual([]);
  });

  it.each([
    'actions/app/src/main.ts',
    'actions/app/package.json',
    'packages/lib/src/index.ts',
    'packages/base/src/index.ts', // reached through lib
    'packages/lib/package.json',
    'pnpm-lock.yaml',
    'scripts/build.ts',
  ])('is stale when %s is newer than the bundle', (path) => {
    at(path, 3000);
    expect(staleActions(root)).toEqual(['app']);
  });

  it.each(['packages/unused/src/index.ts', 'packages/lib/test/lib.test.ts'])(
    'ignores %s, which the bundle does not contain',
    (path) => {
      at(path, 3000);
      expect(staleActions(root)).toEqual([]);
    },
  );

  it('is stale when a source file was deleted after the build', () => {
    unlinkSync(join(root, 'packages/lib/src/index.ts'));
    expect(staleActions(root)).toEqual(['app']);
  });

  it('is stale when any bundle file predates a source (a half-finished build), or the bundle is missing', () => {
    at('actions/app/dist/licenses.txt', 500);
    expect(staleActions(root)).toEqual(['app']);
    unlinkSync(join(root, 'actions/app/dist/index.js'));
    expect(staleActions(root)).toEqual(['app']);
  });
});

describe('rebuildStale', () => {
  it('does nothing, and takes no lock, when nothing is stale', () => {
    const built: string[][] = [];
    expect(rebuildStale({ root, lockPath: join(root, 'never.lock'), build: (n) => (built.push(n), true) })).toEqual([]);
    expect(built).toEqual([]);
  });

  it('fails loudly when the build fails, naming the action', () => {
    at('packages/lib/src/index.ts', 3000);
    expect(() => rebuildStale({ root, lockPath: join(root, 'dist.lock'), build: () => false, log: () => {} })).toThrow(
      /could not rebuild app .*tests would run old bundles/,
    );
  });

  // Probes the lock from a separate process, without waiting: which of shared / exclusive it could take.
  const probe = (lock: string) => ({
    shared: spawnSync('flock', ['-n', '-s', lock, 'true']).status === 0,
    exclusive: spawnSync('flock', ['-n', '-x', lock, 'true']).status === 0,
  });

  it.each([
    ['a caller holding it shared', ['-s'], { shared: true, exclusive: false }],
    ['a caller holding it exclusively', ['-x'], { shared: false, exclusive: false }],
    ['a caller holding no lock', [], { shared: true, exclusive: true }],
  ])('builds under the exclusive lock for %s, then leaves the lock as it was', (_, mode, after) => {
    at('actions/app/src/main.ts', 3000);
    const lock = join(root, `dist${mode.join('')}.lock`);
    const script = join(root, 'rebuild.mjs');
    writeFileSync(
      script,
      `import { spawnSync } from 'node:child_process';
       import { rebuildStale } from ${JSON.stringify(pathToFileURL(join(repoRoot, 'scripts/stale-dist.ts')).href)};
       const probe = ${probe.toString()};
       const seen = {};
       const rebuilt = rebuildStale({ root: ${JSON.stringify(root)}, lockPath: ${JSON.stringify(lock)}, log: () => {},
         build: (names) => { seen.during = probe(${JSON.stringify(lock)}); return true; } });
       seen.after = probe(${JSON.stringify(lock)});
       console.log(JSON.stringify({ rebuilt, ...seen }));`,
    );
    const command = mode.length === 0 ? [process.execPath, script] : ['flock', ...mode, lock, process.execPath, script];
    const run = spawnSync(command[0]!, command.slice(1), { encoding: 'utf8', timeout: 20_000 });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({
      rebuilt: ['app'],
      during: { shared: false, exclusive: false },
      after,
    });
    // Released once the caller is gone.
    expect(probe(lock)).toEqual({ shared: true, exclusive: true });
  });
});
