// Rebuilds every dist/ from clean and fails when it differs from what is committed.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './actions.ts';

const build = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'build.ts')], { cwd: repoRoot, stdio: 'inherit' });
if (build.status !== 0) process.exit(1);
const status = spawnSync('git', ['status', '--porcelain', '--untracked-files=all', '--', 'actions/*/dist'], {
  cwd: repoRoot,
  encoding: 'utf8',
});
if (status.status !== 0) {
  console.error(status.stderr);
  process.exit(1);
}
if (status.stdout.trim() !== '') {
  console.error('dist/ differs from a clean build; run `pnpm build` and commit the result:');
  console.error(status.stdout);
  spawnSync('git', ['--no-pager', 'diff', '--stat', '--', 'actions/*/dist'], { cwd: repoRoot, stdio: 'inherit' });
  process.exit(1);
}
console.log('check-dist: every dist/ matches a clean build');
