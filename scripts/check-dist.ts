// Rebuilds every dist/ from clean and fails when it differs from what is committed,
// untracked files under a dist/ included.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './actions.ts';
import { distChanges } from './dist-status.ts';

// --no-build checks the tree as it stands, e.g. right after `pnpm build` under the dist lock.
if (!process.argv.includes('--no-build')) {
  const build = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'build.ts')], {
    cwd: repoRoot,
    stdio: 'inherit',
  });
  if (build.status !== 0) process.exit(1);
}
const changes = distChanges(repoRoot);
if (changes.length > 0) {
  console.error('dist/ differs from a clean build; run `pnpm build` and commit the result (new files included):');
  console.error(changes.join('\n'));
  spawnSync('git', ['--no-pager', 'diff', '--stat', '--', ':(glob)actions/*/dist/**'], {
    cwd: repoRoot,
    stdio: 'inherit',
  });
  process.exit(1);
}
console.log('check-dist: every dist/ matches a clean build');
