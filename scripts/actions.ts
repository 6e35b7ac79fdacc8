import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface ActionMetadata {
  name: string;
  description: string;
  branding?: { icon?: string; color?: string };
  inputs?: Record<string, { description?: string; required?: boolean; default?: string }>;
  outputs?: Record<string, { description?: string }>;
  runs: { using: string; main: string; post?: string };
}

/** The action folders: actions/<name> with an action.yml and a src/main.ts. */
export function actionDirs(base = repoRoot): { name: string; dir: string }[] {
  const root = join(base, 'actions');
  return readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(root, entry.name, 'action.yml')))
    .map((entry) => ({ name: entry.name, dir: join(root, entry.name) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function readActionMetadata(dir: string): ActionMetadata {
  return parse(readFileSync(join(dir, 'action.yml'), 'utf8')) as ActionMetadata;
}
