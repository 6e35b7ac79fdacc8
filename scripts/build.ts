// Bundles every action (or those named) with ncc into actions/<name>/dist, from a clean folder,
// with dist/licenses.txt listing every third-party package the bundle holds.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { actionDirs, repoRoot } from './actions.ts';
import { bundledFiles, inventory, renderLicenses } from './licenses.ts';

const only = process.argv.slice(2);
const ncc = join(repoRoot, 'node_modules', '@vercel', 'ncc', 'dist', 'ncc', 'cli.js');
let failed = false;
for (const { name, dir } of actionDirs()) {
  if (only.length > 0 && !only.includes(name)) continue;
  rmSync(join(dir, 'dist'), { recursive: true, force: true });
  // The bundler's module list (webpack stats) says which packages went in; kept out of dist/.
  const scratch = mkdtempSync(join(tmpdir(), `build-${name}-`));
  const stats = join(scratch, 'stats.json');
  const result = spawnSync(
    process.execPath,
    [ncc, 'build', 'src/main.ts', '-o', 'dist', '--minify', '--stats-out', stats, '--quiet'],
    { cwd: dir, stdio: 'inherit' },
  );
  if (result.status !== 0) {
    console.error(`build failed: ${name}`);
    failed = true;
  } else {
    // Files a bundle loads at run time that ncc cannot see (e.g. WebAssembly found through __dirname).
    const assets =
      (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { bundleAssets?: string[] }).bundleAssets ?? [];
    const files = bundledFiles(JSON.parse(readFileSync(stats, 'utf8')) as Parameters<typeof bundledFiles>[0]);
    for (const asset of assets) {
      const source = realpathSync(join(dir, 'node_modules', asset));
      copyFileSync(source, join(dir, 'dist', basename(asset)));
      files.push(source);
    }
    writeFileSync(join(dir, 'dist', 'licenses.txt'), renderLicenses(name, inventory(files)));
    console.log(`built actions/${name}/dist`);
  }
  rmSync(scratch, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
