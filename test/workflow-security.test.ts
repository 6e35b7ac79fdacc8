// Security rules for every workflow in .github/workflows and every starter template, checked on
// the parsed YAML (and, for the version comments, on the text):
//
// - the workflow grants nothing at the top (`permissions: {}` or read-only scopes), so a job that
//   forgets its block cannot inherit write access;
// - every job declares its own permissions, never write-all or read-all (least privilege, scope by
//   scope);
// - every third-party action or reusable workflow (not ours — `ORG/REPO/…` or `./…` — and not a
//   `docker://` image) is pinned to a full 40-hex commit SHA, with a `# vX` comment naming the
//   version it is;
// - no `${{ … }}` inside `run:`: values reach scripts through `env:`, so no input, event field or
//   output can become shell code;
// - no `pull_request_target` workflow checks out the pull request's head (untrusted code with a
//   write token and secrets).
//
// Each rule is also fed a workflow that breaks it, so a rule that could never fail is caught.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { repoRoot } from './helpers/run-action.ts';
import { workflowFiles } from './helpers/workflow-files.ts';

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}

interface Job {
  permissions?: unknown;
  uses?: string;
  steps?: Step[];
}

interface Workflow {
  on?: unknown;
  permissions?: unknown;
  jobs?: Record<string, Job>;
}

/** Whether a `uses:` is ours (an action or reusable workflow of this repository) or a local path. */
function isOurs(uses: string): boolean {
  return uses.startsWith('./') || uses.startsWith('ORG/REPO/');
}

/** The problems of a permissions value at the workflow's top: only {} or read-only scopes pass. */
function topPermissionProblems(permissions: unknown): string[] {
  if (permissions === undefined) return ['no top-level permissions (the default token may write): set permissions: {}'];
  if (permissions === 'read-all') return [];
  if (typeof permissions === 'string') return [`top-level permissions ${permissions}: set permissions: {}`];
  if (permissions === null || typeof permissions !== 'object') return ['top-level permissions is not a mapping'];
  return Object.entries(permissions)
    .filter(([, level]) => level !== 'read' && level !== 'none')
    .map(([scope, level]) => `top-level permission ${scope}: ${String(level)} (grant it in the job that needs it)`);
}

/** What breaks the rules in one workflow's text, one line per problem. */
export function securityProblems(file: string, content: string): string[] {
  const workflow = parse(content) as Workflow;
  const lines = content.split('\n');
  const problems = topPermissionProblems(workflow.permissions).map((problem) => `${file}: ${problem}`);

  const pinned = (where: string, uses: string) => {
    if (isOurs(uses) || uses.startsWith('docker://')) return;
    if (!/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/.test(uses)) {
      problems.push(`${where}: ${uses} is not pinned to a full commit SHA`);
      return;
    }
    // The line naming it carries the version, so a reader (and Dependabot) knows what the SHA is.
    const line = lines.find((text) =>
      new RegExp(String.raw`uses:\s*${uses.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`).test(text),
    );
    if (line === undefined || !/#\s*v\d/.test(line))
      problems.push(`${where}: ${uses} has no "# vX" comment naming its version`);
  };

  for (const [jobId, job] of Object.entries(workflow.jobs ?? {})) {
    const where = `${file}: job ${jobId}`;
    if (job.permissions === undefined) problems.push(`${where} declares no permissions`);
    else if (typeof job.permissions === 'string')
      problems.push(`${where} has permissions ${job.permissions}: name each scope`);
    if (job.uses !== undefined) pinned(where, job.uses);
    (job.steps ?? []).forEach((step, index) => {
      const at = `${where}, step ${index + 1}`;
      if (step.uses !== undefined) pinned(at, step.uses);
      if (typeof step.run === 'string' && step.run.includes('${{')) {
        problems.push(`${at}: \${{ }} inside run: (pass the value through env:)`);
      }
    });
  }

  const events =
    typeof workflow.on === 'string'
      ? [workflow.on]
      : Array.isArray(workflow.on)
        ? workflow.on
        : Object.keys(workflow.on ?? {});
  if ((events as unknown[]).includes('pull_request_target')) {
    for (const [jobId, job] of Object.entries(workflow.jobs ?? {})) {
      (job.steps ?? []).forEach((step, index) => {
        if (step.uses === undefined || !/^actions\/checkout@/.test(step.uses)) return;
        const ref = JSON.stringify(step.with ?? {});
        if (/pull_request\.head|head_ref|refs\/pull\//.test(ref)) {
          problems.push(
            `${file}: job ${jobId}, step ${index + 1}: pull_request_target checks out the pull request's head`,
          );
        }
      });
    }
  }
  return problems;
}

const good = [
  'on: push',
  'permissions: {}',
  'jobs:',
  '  build:',
  '    runs-on: ubuntu-latest',
  '    permissions:',
  '      contents: read',
  '    steps:',
  '      - uses: actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0',
  '      - uses: ORG/REPO/actions/smoke-test@v1',
  '      - uses: ./actions/smoke-test',
  '      - uses: docker://alpine:3.20',
  '      - env:',
  '          REF: ${{ github.ref }}',
  '        run: echo "$REF"',
  '',
].join('\n');

describe('workflow security', () => {
  it('finds the workflows and templates to check', () => {
    expect(workflowFiles).toEqual(
      expect.arrayContaining([
        '.github/workflows/ci.yml',
        '.github/workflows/pipeline.yml',
        'workflows-templates/deploy.yml',
      ]),
    );
  });

  it.each(workflowFiles)('%s follows the rules', (file) => {
    expect(securityProblems(file, readFileSync(join(repoRoot, file), 'utf8'))).toEqual([]);
  });

  it('passes a workflow that follows every rule', () => {
    expect(securityProblems('good.yml', good)).toEqual([]);
  });

  it('reports write permissions at the top, and accepts read-only ones', () => {
    expect(
      securityProblems('w.yml', good.replace('permissions: {}', 'permissions:\n  contents: write\n  issues: read')),
    ).toEqual(['w.yml: top-level permission contents: write (grant it in the job that needs it)']);
    expect(securityProblems('w.yml', good.replace('permissions: {}', 'permissions: write-all'))).toEqual([
      'w.yml: top-level permissions write-all: set permissions: {}',
    ]);
    expect(securityProblems('w.yml', good.replace('permissions: {}\n', ''))).toEqual([
      'w.yml: no top-level permissions (the default token may write): set permissions: {}',
    ]);
    expect(securityProblems('w.yml', good.replace('permissions: {}', 'permissions:\n  contents: read'))).toEqual([]);
  });

  it('reports a job without permissions and one with write-all', () => {
    expect(securityProblems('j.yml', good.replace('    permissions:\n      contents: read\n', ''))).toEqual([
      'j.yml: job build declares no permissions',
    ]);
    expect(
      securityProblems(
        'j.yml',
        good.replace('    permissions:\n      contents: read\n', '    permissions: write-all\n'),
      ),
    ).toEqual(['j.yml: job build has permissions write-all: name each scope']);
  });

  it('reports a third-party action or workflow pinned to a tag, a short SHA or without its version comment', () => {
    const steps = [
      '      - uses: actions/setup-node@v5',
      '      - uses: actions/setup-node@a0853c2',
      '      - uses: actions/setup-node@a0853c24544627f65ddf259abe73b1d18a591444',
      '',
    ].join('\n');
    expect(securityProblems('p.yml', good + steps)).toEqual([
      'p.yml: job build, step 6: actions/setup-node@v5 is not pinned to a full commit SHA',
      'p.yml: job build, step 7: actions/setup-node@a0853c2 is not pinned to a full commit SHA',
      'p.yml: job build, step 8: actions/setup-node@a0853c24544627f65ddf259abe73b1d18a591444 has no "# vX" comment naming its version',
    ]);
    const call = [
      '  call:',
      '    permissions: {}',
      '    uses: octo/workflows/.github/workflows/deploy.yml@main',
      '',
    ].join('\n');
    expect(securityProblems('p.yml', good + call)).toEqual([
      'p.yml: job call: octo/workflows/.github/workflows/deploy.yml@main is not pinned to a full commit SHA',
    ]);
  });

  it('reports an expression inside run:', () => {
    expect(securityProblems('r.yml', good + '      - run: echo "${{ github.event.issue.title }}"\n')).toEqual([
      'r.yml: job build, step 6: ${{ }} inside run: (pass the value through env:)',
    ]);
    expect(
      securityProblems('r.yml', good + '      - run: |\n          echo ok\n          echo ${{ inputs.name }}\n'),
    ).toEqual(['r.yml: job build, step 6: ${{ }} inside run: (pass the value through env:)']);
  });

  it('reports pull_request_target checking out the head, and not its base', () => {
    const target = (ref: string) =>
      [
        'on: pull_request_target',
        'permissions: {}',
        'jobs:',
        '  test:',
        '    runs-on: ubuntu-latest',
        '    permissions:',
        '      contents: read',
        '    steps:',
        '      - uses: actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0',
        ...(ref === '' ? [] : ['        with:', `          ref: ${ref}`]),
        '',
      ].join('\n');
    expect(securityProblems('t.yml', target('${{ github.event.pull_request.head.sha }}'))).toEqual([
      "t.yml: job test, step 1: pull_request_target checks out the pull request's head",
    ]);
    expect(securityProblems('t.yml', target('${{ github.head_ref }}'))).toEqual([
      "t.yml: job test, step 1: pull_request_target checks out the pull request's head",
    ]);
    expect(securityProblems('t.yml', target(''))).toEqual([]);
  });
});
