import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export const round = (value: number, digits = 2): number => Number(value.toFixed(digits));

/**
 * Times `node <args>` the way the runner starts an action with no inputs: a bare environment
 * with RUNNER_TEMP and empty output and summary files (so the action fails fast on a missing input).
 */
export function actionSpawnTimer(
  prefix: string,
): (args: string[]) => { ms: number; status: number | null; output: string } {
  const workdir = mkdtempSync(join(tmpdir(), prefix));
  const env = {
    PATH: process.env.PATH ?? '',
    RUNNER_TEMP: workdir,
    GITHUB_OUTPUT: join(workdir, 'out'),
    GITHUB_STEP_SUMMARY: join(workdir, 'sum'),
  };
  writeFileSync(env.GITHUB_OUTPUT, '');
  writeFileSync(env.GITHUB_STEP_SUMMARY, '');
  return (args) => {
    const started = performance.now();
    const result = spawnSync(process.execPath, args, { env, encoding: 'utf8' });
    return { ms: performance.now() - started, status: result.status, output: result.stdout + result.stderr };
  };
}
