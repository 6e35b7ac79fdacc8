// Bundles every action (or those named) with ncc into actions/<name>/dist, from a clean folder.
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
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
    // Files a bundle loads at run time that ncc cannot see (e.g. WebAssembly found through __dirname).
    const assets =
      (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { bundleAssets?: string[] }).bundleAssets ?? [];
    for (const asset of assets)
      copyFileSync(realpathSync(join(dir, 'node_modules', asset)), join(dir, 'dist', basename(asset)));
    console.log(`built actions/${name}/dist`);
  }
}
process.exit(failed ? 1 : 0);
