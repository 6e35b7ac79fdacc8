// Every workflow and template goes through GitHub's own workflow parser (@actions/workflow-parser,
// the one behind the Actions language service): parseWorkflow checks the file against the
// workflow schema, convertWorkflowTemplate builds the model the runner service would (events,
// jobs, steps, concurrency, expressions in their places) and reports what it cannot convert.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { repoRoot } from './helpers/run-action.ts';
import { workflowFiles } from './helpers/workflow-files.ts';

/** What the parser reports for `content`, and the job ids of the converted workflow. */
async function parseAndConvert(name: string, content: string): Promise<{ errors: string[]; jobs: string[] }> {
  const result = parseWorkflow({ name, content }, new NoOperationTraceWriter());
  const errors = result.context.errors.getErrors().map((e) => e.message);
  if (result.value === undefined) return { errors: errors.length > 0 ? errors : [`${name}: nothing parsed`], jobs: [] };
  const template = await convertWorkflowTemplate(result.context, result.value);
  // The converter adds its errors to the context and to the template; a message may be in both.
  const all = new Set([
    ...errors,
    ...result.context.errors.getErrors().map((e) => e.message),
    ...(template.errors ?? []).map((e) => e.Message),
  ]);
  return {
    errors: [...all],
    jobs: ((template.jobs as typeof template.jobs | undefined) ?? []).map((job) => job.id.value),
  };
}

describe("GitHub's workflow parser", () => {
  it('finds the workflows and templates to check', () => {
    expect(workflowFiles).toEqual(
      expect.arrayContaining(['.github/workflows/ci.yml', join('workflows-templates', 'deploy.yml')]),
    );
  });

  it.each(workflowFiles)('%s parses and converts without errors', async (file) => {
    const content = readFileSync(join(repoRoot, file), 'utf8');
    const { errors, jobs } = await parseAndConvert(file, content);
    expect(errors).toEqual([]);
    expect(jobs.length).toBeGreaterThan(0);
  });

  it('reports a workflow that breaks the schema (so the check above can fail)', async () => {
    const { errors } = await parseAndConvert(
      'broken.yml',
      [
        'on: push',
        'permissions: {}',
        'jobs:',
        '  build:',
        '    runs-on: ubuntu-latest',
        '    timeout-minutes: soon',
        '    stepz:',
        '      - run: echo hi',
        '',
      ].join('\n'),
    );
    expect(errors).toEqual([
      expect.stringContaining("Unexpected value 'soon'"),
      expect.stringContaining("Unexpected value 'stepz'"),
    ]);
  });

  it('reports a workflow the converter rejects: a job that needs an unknown job', async () => {
    const { errors } = await parseAndConvert(
      'broken.yml',
      [
        'on: push',
        'permissions: {}',
        'jobs:',
        '  build:',
        '    runs-on: ubuntu-latest',
        '    steps:',
        '      - run: echo hi',
        '  test:',
        '    needs: [build, nowhere]',
        '    runs-on: ubuntu-latest',
        '    steps:',
        '      - run: echo hi',
        '',
      ].join('\n'),
    );
    expect(errors).toEqual([expect.stringContaining('nowhere')]);
  });
});
