// `pnpm bench <name>` runs bench/<name>.ts; each prints one JSON object as its last line.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((file) => file.endsWith('.ts') && file !== 'run.ts' && file !== 'stats.ts')
  .map((file) => file.slice(0, -3));
const name = process.argv[2];
if (name === undefined || !existsSync(join(here, `${name}.ts`))) {
  console.error(`usage: pnpm bench <name>; available: ${available.join(', ')}`);
  process.exit(2);
}
const result = spawnSync(process.execPath, [join(here, `${name}.ts`), ...process.argv.slice(3)], { stdio: 'inherit' });
process.exit(result.status ?? 1);
