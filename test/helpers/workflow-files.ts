import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './run-action.ts';

/** Every workflow and starter template the workflow tests check, relative to the repository. */
export const workflowFiles: string[] = ['.github/workflows', 'workflows-templates'].flatMap((dir) =>
  readdirSync(join(repoRoot, dir))
    .filter((file) => file.endsWith('.yml'))
    .map((file) => join(dir, file)),
);
