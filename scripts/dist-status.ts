// What differs under actions/*/dist between the working tree and the last commit: modified,
// deleted and untracked files alike (a new chunk ncc emitted counts as much as a changed one).
import { spawnSync } from 'node:child_process';

/**
 * `git status --porcelain` lines for every dist file that is not exactly as committed.
 * The pathspec is an explicit glob: a bare `actions/*\/dist` matches no file at all, so a
 * check built on it passes whatever the tree holds.
 */
export function distChanges(root: string): string[] {
  const status = spawnSync(
    'git',
    ['status', '--porcelain', '--untracked-files=all', '--', ':(glob)actions/*/dist/**'],
    { cwd: root, encoding: 'utf8' },
  );
  if (status.status !== 0) throw new Error(`git status failed in ${root}: ${status.stderr.trim()}`);
  return status.stdout.split('\n').filter((line) => line.trim() !== '');
}
