import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBuiltAction, type ActionRun } from '../../../test/helpers/run-action.ts';

/** A migrations folder holding the given files. */
export function migrationsFolder(files: Record<string, string>): string {
  const folder = mkdtempSync(join(tmpdir(), 'migrations-'));
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(folder, name), sql);
  return folder;
}

export function writeMigration(folder: string, name: string, sql: string): void {
  writeFileSync(join(folder, name), sql);
}

export function removeMigration(folder: string, name: string): void {
  rmSync(join(folder, name));
}

export const migrate = (inputs: Record<string, string>, env: Record<string, string> = {}): Promise<ActionRun> =>
  runBuiltAction('migrate', inputs, { env, timeoutMs: 120_000 });

export { failureOf as errorOf } from '../../../test/helpers/run-action.ts';

// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the shape it expects
export const json = <T>(run: ActionRun, output: string): T => JSON.parse(run.outputs[output] ?? 'null') as T;
