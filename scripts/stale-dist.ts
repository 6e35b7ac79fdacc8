// Which actions' bundles are older than what they are built from, and rebuilding them under the
// dist lock that every build takes (`flock /tmp/ds-dist.lock pnpm build <name>`).
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { actionDirs, repoRoot } from './actions.ts';

export const DIST_LOCK = '/tmp/ds-dist.lock';

/** Files every bundle depends on besides its own sources: the lockfile, the build, TypeScript settings. */
const SHARED_INPUTS = [
  'pnpm-lock.yaml',
  'scripts/build.ts',
  'scripts/licenses.ts',
  'scripts/actions.ts',
  'tsconfig.base.json',
];

interface PackageJson {
  name?: string;
  dependencies?: Record<string, string>;
}

const readPackage = (dir: string): PackageJson =>
  JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;

/** Newest modification time of a file, or of any file under a folder (0 when absent). */
function newest(path: string): number {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = stat.mtimeMs; // a deleted file shows only as its folder's change
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules') continue;
    latest = Math.max(latest, newest(join(path, entry)));
  }
  return latest;
}

/** Oldest modification time of the files a build wrote (0 when there is no bundle). */
function oldestOutput(dist: string): number {
  if (!existsSync(join(dist, 'index.js'))) return 0;
  let oldest = Infinity;
  for (const entry of readdirSync(dist, { recursive: true, withFileTypes: true }))
    if (entry.isFile()) oldest = Math.min(oldest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  return oldest;
}

/** The folders an action is built from: its own, and every workspace package it reaches. */
export function sourceFolders(root: string, actionDir: string): string[] {
  const workspace = new Map<string, string>();
  const packagesRoot = join(root, 'packages');
  for (const entry of readdirSync(packagesRoot, { withFileTypes: true })) {
    const dir = join(packagesRoot, entry.name);
    if (entry.isDirectory() && existsSync(join(dir, 'package.json'))) {
      const name = readPackage(dir).name;
      if (name !== undefined) workspace.set(name, dir);
    }
  }
  const reached = new Set<string>([actionDir]);
  const queue = [actionDir];
  for (let dir = queue.shift(); dir !== undefined; dir = queue.shift()) {
    for (const [name, spec] of Object.entries(readPackage(dir).dependencies ?? {})) {
      const target = workspace.get(name);
      if (spec.startsWith('workspace:') && target !== undefined && !reached.has(target)) {
        reached.add(target);
        queue.push(target);
      }
    }
  }
  return [...reached];
}

/** The actions whose bundle is missing or older than any file it is built from. */
export function staleActions(root = repoRoot): string[] {
  const shared = Math.max(...SHARED_INPUTS.map((file) => newest(join(root, file))));
  return actionDirs(root)
    .filter(({ dir }) => {
      const built = oldestOutput(join(dir, 'dist'));
      const sources = sourceFolders(root, dir).flatMap((folder) =>
        ['src', 'package.json', 'tsconfig.json'].map((file) => join(folder, file)),
      );
      return Math.max(shared, ...sources.map(newest)) > built;
    })
    .map(({ name }) => name);
}

/** The descriptor through which this process inherited a lock on `path` (as `flock -s path cmd` passes it). */
function inheritedLock(path: string): number | undefined {
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) return Number(fd);
    } catch {
      // a descriptor closed while listing
    }
  }
  return undefined;
}

/** Runs flock(1) on one of this process's descriptors: the lock belongs to the open file, so it outlives flock. */
function flockFd(fd: number, mode: '-x' | '-s'): void {
  const result = spawnSync('flock', [mode, '3'], { stdio: ['ignore', 'inherit', 'inherit', fd] });
  if (result.status !== 0) throw new Error(`flock ${mode} on descriptor ${fd} failed (exit ${result.status})`);
}

export interface RebuildOptions {
  root?: string;
  lockPath?: string;
  /** Builds the named actions; true when it succeeded. Default: scripts/build.ts. */
  build?: (names: string[]) => boolean;
  log?: (line: string) => void;
}

const buildScript =
  (root: string) =>
  (names: string[]): boolean =>
    spawnSync(process.execPath, [join(root, 'scripts', 'build.ts'), ...names], {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
    }).status === 0;

/**
 * Rebuilds every stale bundle, holding the dist lock exclusively while it does. A caller that
 * already holds the lock shared (`flock -s /tmp/ds-dist.lock pnpm test`) has it converted to
 * exclusive for the build and back to shared after: taking it afresh would wait on ourselves.
 * Returns the actions rebuilt. Throws when a build fails: tests would otherwise run old code.
 */
export function rebuildStale(options: RebuildOptions = {}): string[] {
  const { root = repoRoot, lockPath = DIST_LOCK, build = buildScript(root), log = console.log } = options;
  if (staleActions(root).length === 0) return [];
  const inherited = inheritedLock(lockPath);
  const heldExclusive = inherited !== undefined && holdsExclusive(inherited);
  const fd = inherited ?? openSync(lockPath, 'a');
  try {
    if (!heldExclusive) flockFd(fd, '-x');
    // Someone may have built while we waited for the lock.
    const stale = staleActions(root);
    if (stale.length === 0) return [];
    log(`rebuilding ${stale.join(', ')}: sources newer than dist/`);
    if (!build(stale)) {
      throw new Error(
        `could not rebuild ${stale.join(', ')} (sources newer than dist/); tests would run old bundles. ` +
          `Fix the build, then run: flock ${lockPath} pnpm build ${stale.join(' ')}`,
      );
    }
    return stale;
  } finally {
    if (inherited === undefined) closeSync(fd);
    else if (!heldExclusive) flockFd(fd, '-s');
  }
}

/** Whether the lock held through `fd` is exclusive (from /proc/locks: our inode holds a WRITE flock). */
function holdsExclusive(fd: number): boolean {
  const { ino } = statSync(`/proc/self/fd/${fd}`);
  const locks = readFileSync('/proc/locks', 'utf8');
  return locks.split('\n').some((line) => {
    const fields = line.trim().split(/\s+/);
    return fields[1] === 'FLOCK' && fields[3] === 'WRITE' && fields[5]?.split(':')[2] === String(ino);
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rebuilt = rebuildStale();
  console.log(rebuilt.length === 0 ? 'every dist/ is newer than its sources' : `rebuilt ${rebuilt.join(', ')}`);
}
