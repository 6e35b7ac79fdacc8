// Bundles every action (or those named) with ncc into actions/<name>/dist, from a clean folder.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { actionDirs, repoRoot } from './actions.ts';

const only = process.argv.slice(2);
const ncc = join(repoRoot, 'node_modules', '@vercel', 'ncc', 'dist', 'ncc', 'cli.js');
let failed = false;
for (const { name, dir } of actionDirs()) {
  if (only.length > 0 && !only.includes(name)) continue;
  rmSync(join(dir, 'dist'), { recursive: true, force: true });
  const result = spawnSync(
    process.execPath,
    [ncc, 'build', 'src/main.ts', '-o', 'dist', '--minify', '--license', 'licenses.txt', '--quiet'],
    { cwd: dir, stdio: 'inherit' },
  );
  if (result.status !== 0) {
    console.error(`build failed: ${name}`);
    failed = true;
  } else {
    console.log(`built actions/${name}/dist`);
  }
}
process.exit(failed ? 1 : 0);
