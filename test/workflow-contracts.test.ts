// The contract between our workflows and our actions: every step of .github/workflows and
// workflows-templates that uses one of our actions (`ORG/REPO/actions/<name>@…` in a template,
// `./actions/<name>` here) passes only inputs the action's action.yml declares, supplies every
// input it requires without a default, and every `steps.<id>.outputs.<name>` the job reads names
// an output that step's action declares. A typo in a template would otherwise reach a service
// repository as a warning in a log ("Unexpected input") or an empty string where a value was meant.
//
// The same for our reusable workflows: every job that calls one (`ORG/REPO/.github/workflows/<file>@…`
// in a template or a reusable workflow, `./.github/workflows/<file>` here) passes only inputs and
// secrets its workflow_call declares and every required one, and every `needs.<job>.outputs.<name>`
// names an output the called workflow (or the job) declares; each workflow_call output's
// `jobs.<job>.outputs.<name>` names an output of that job. GitHub would fail such a run at its
// start ("Invalid input"), or hand on an empty string.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { actionDirs, type ActionMetadata, readActionMetadata } from '../scripts/actions.ts';
import { httpChecksSchema, metricChecksSchema } from '../packages/checks/src/spec.ts';
import { repoRoot } from './helpers/run-action.ts';
import { workflowFiles } from './helpers/workflow-files.ts';

interface Step {
  id?: string;
  uses?: string;
  with?: Record<string, unknown>;
  [key: string]: unknown;
}

interface Job {
  steps?: Step[];
  uses?: string;
  with?: Record<string, unknown>;
  secrets?: Record<string, unknown> | 'inherit';
  outputs?: Record<string, unknown>;
  [key: string]: unknown;
}

interface Workflow {
  on?: unknown;
  jobs?: Record<string, Job>;
}

/** What a reusable workflow's `on.workflow_call` declares. */
export interface WorkflowCall {
  inputs: Record<string, { required?: boolean; default?: unknown }>;
  secrets: Record<string, { required?: boolean }>;
  outputs: Record<string, { value?: string }>;
}

/** The name of our action a `uses:` refers to, or undefined for anyone else's. */
function ourAction(uses: string | undefined): string | undefined {
  if (uses === undefined) return undefined;
  return /^(?:ORG\/REPO\/actions\/([\w.-]+)@.+|\.\/actions\/([\w.-]+)\/?)$/.exec(uses)?.slice(1).find(Boolean);
}

/** The file name of our reusable workflow a job's `uses:` calls, or undefined for anyone else's. */
function ourWorkflow(uses: string | undefined): string | undefined {
  if (uses === undefined) return undefined;
  return /^(?:ORG\/REPO\/\.github\/workflows\/([\w.-]+\.ya?ml)@.+|\.\/\.github\/workflows\/([\w.-]+\.ya?ml))$/
    .exec(uses)
    ?.slice(1)
    .find(Boolean);
}

/** A workflow's `on.workflow_call`, or undefined when it cannot be called. */
function workflowCallOf(content: string): WorkflowCall | undefined {
  const on = (parse(content) as Workflow).on;
  if (on === null || typeof on !== 'object' || !Object.hasOwn(on, 'workflow_call')) return undefined;
  const call = ((on as Record<string, unknown>).workflow_call ?? {}) as Partial<WorkflowCall>;
  return { inputs: call.inputs ?? {}, secrets: call.secrets ?? {}, outputs: call.outputs ?? {} };
}

/** Every string in a YAML value (keys are not read: expressions live in values). */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

/** `steps.<id>.outputs.<name>` references in a string, in dotted or `['…']` form. */
function outputReferences(text: string): { id: string; output: string }[] {
  const name = String.raw`(?:\.([\w-]+)|\[\s*'([^']+)'\s*\])`;
  const pattern = new RegExp(String.raw`\bsteps${name}\s*\.outputs${name}`, 'g');
  return [...text.matchAll(pattern)].map((m) => ({ id: (m[1] ?? m[2])!, output: (m[3] ?? m[4])! }));
}

/** `<context>.<job>.outputs.<name>` references (needs or jobs), in dotted or `['…']` form. */
function jobOutputReferences(text: string, context: 'needs' | 'jobs'): { job: string; output: string }[] {
  const name = String.raw`(?:\.([\w-]+)|\[\s*'([^']+)'\s*\])`;
  const pattern = new RegExp(String.raw`\b${context}${name}\s*\.outputs${name}`, 'g');
  return [...text.matchAll(pattern)].map((m) => ({ job: (m[1] ?? m[2])!, output: (m[3] ?? m[4])! }));
}

/**
 * What breaks the contract in one workflow's text, one line per problem. `metadataOf` gives an
 * action's metadata by name (undefined when there is no such action), `workflowOf` a reusable
 * workflow's workflow_call by file name (undefined when there is no such callable workflow).
 */
function contractProblems(
  file: string,
  content: string,
  metadataOf: (name: string) => ActionMetadata | undefined,
  workflowOf: (file: string) => WorkflowCall | undefined = ourWorkflowCall,
): string[] {
  const workflow = parse(content) as Workflow;
  const problems: string[] = [];
  const jobs = workflow.jobs ?? {};

  // The outputs each job offers: a called workflow's declared outputs, or the job's own outputs.
  const jobOutputs = new Map<string, Set<string> | undefined>();
  for (const [jobId, job] of Object.entries(jobs)) {
    const called = ourWorkflow(job.uses);
    if (called !== undefined) jobOutputs.set(jobId, new Set(Object.keys(workflowOf(called)?.outputs ?? {})));
    else if (job.uses !== undefined)
      jobOutputs.set(jobId, undefined); // someone else's workflow
    else jobOutputs.set(jobId, new Set(Object.keys(job.outputs ?? {})));
  }

  for (const [jobId, job] of Object.entries(jobs)) {
    const called = ourWorkflow(job.uses);
    if (called !== undefined) {
      const where = `${file}: job ${jobId} (${called})`;
      const call = workflowOf(called);
      if (call === undefined) {
        problems.push(`${where}: no reusable workflow ${called} (.github/workflows/${called} with on.workflow_call)`);
      } else {
        const givenInputs = Object.keys(job.with ?? {});
        for (const input of givenInputs) {
          if (!Object.hasOwn(call.inputs, input)) problems.push(`${where}: input ${input} is not declared`);
        }
        for (const [input, spec] of Object.entries(call.inputs)) {
          if (spec.required === true && spec.default === undefined && !givenInputs.includes(input)) {
            problems.push(`${where}: required input ${input} is not supplied`);
          }
        }
        if (job.secrets !== 'inherit') {
          const givenSecrets = Object.keys(job.secrets ?? {});
          for (const secret of givenSecrets) {
            if (!Object.hasOwn(call.secrets, secret)) problems.push(`${where}: secret ${secret} is not declared`);
          }
          for (const [secret, spec] of Object.entries(call.secrets)) {
            if (spec.required === true && !givenSecrets.includes(secret)) {
              problems.push(`${where}: required secret ${secret} is not supplied`);
            }
          }
        }
      }
    }
    for (const { job: needed, output } of jobOutputReferences(strings(job).join('\n'), 'needs')) {
      if (!jobOutputs.has(needed)) {
        problems.push(`${file}: job ${jobId} reads needs.${needed}.outputs.${output}, but there is no job ${needed}`);
        continue;
      }
      const offered = jobOutputs.get(needed);
      if (offered !== undefined && !offered.has(output)) {
        problems.push(
          `${file}: job ${jobId} reads needs.${needed}.outputs.${output}, which job ${needed} does not offer`,
        );
      }
    }
  }

  // A reusable workflow's own outputs name outputs of its jobs.
  for (const [name, spec] of Object.entries(workflowCallOf(content)?.outputs ?? {})) {
    for (const { job: source, output } of jobOutputReferences(spec.value ?? '', 'jobs')) {
      const offered = jobOutputs.get(source);
      if (!jobOutputs.has(source))
        problems.push(`${file}: output ${name} reads jobs.${source}, but there is no job ${source}`);
      else if (offered !== undefined && !offered.has(output)) {
        problems.push(
          `${file}: output ${name} reads jobs.${source}.outputs.${output}, which job ${source} does not offer`,
        );
      }
    }
  }

  for (const [jobId, job] of Object.entries(jobs)) {
    const steps = job.steps ?? [];
    const stepActions = new Map<string, string | undefined>();
    for (const step of steps) if (step.id !== undefined) stepActions.set(step.id, ourAction(step.uses));

    steps.forEach((step, index) => {
      const action = ourAction(step.uses);
      if (action === undefined) return;
      const where = `${file}: job ${jobId}, step ${step.id ?? index + 1} (${action})`;
      const metadata = metadataOf(action);
      if (metadata === undefined) {
        problems.push(`${where}: no action ${action} (actions/${action}/action.yml)`);
        return;
      }
      const declared = metadata.inputs ?? {};
      const given = Object.keys(step.with ?? {});
      for (const input of given) {
        if (!Object.hasOwn(declared, input)) problems.push(`${where}: input ${input} is not declared`);
      }
      for (const [input, spec] of Object.entries(declared)) {
        if (spec.required === true && spec.default === undefined && !given.includes(input)) {
          problems.push(`${where}: required input ${input} is not supplied`);
        }
      }
    });

    // Outputs are read in later steps, in the job's own `outputs:` and anywhere else in the job.
    for (const { id, output } of strings(job).flatMap(outputReferences)) {
      if (!stepActions.has(id)) {
        problems.push(`${file}: job ${jobId} reads steps.${id}.outputs.${output}, but no step has id ${id}`);
        continue;
      }
      const action = stepActions.get(id);
      if (action === undefined) continue; // a run step or someone else's action: not our contract
      const outputs = metadataOf(action)?.outputs ?? {};
      if (!Object.hasOwn(outputs, output)) {
        problems.push(`${file}: job ${jobId} reads steps.${id}.outputs.${output}, which ${action} does not declare`);
      }
    }
  }
  return problems;
}

const metadataCache = new Map<string, ActionMetadata | undefined>();
function ourMetadata(name: string): ActionMetadata | undefined {
  if (!metadataCache.has(name)) {
    const dir = join(repoRoot, 'actions', name);
    metadataCache.set(name, existsSync(join(dir, 'action.yml')) ? readActionMetadata(dir) : undefined);
  }
  return metadataCache.get(name);
}

const workflowCallCache = new Map<string, WorkflowCall | undefined>();
function ourWorkflowCall(file: string): WorkflowCall | undefined {
  if (!workflowCallCache.has(file)) {
    const path = join(repoRoot, '.github', 'workflows', file);
    workflowCallCache.set(file, existsSync(path) ? workflowCallOf(readFileSync(path, 'utf8')) : undefined);
  }
  return workflowCallCache.get(file);
}

describe('workflow ↔ action contracts', () => {
  it('recognises our actions in both spellings and nobody else’s', () => {
    expect(ourAction('ORG/REPO/actions/smoke-test@v1')).toBe('smoke-test');
    expect(ourAction('./actions/smoke-test')).toBe('smoke-test');
    expect(ourAction('actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8')).toBeUndefined();
    expect(ourAction(undefined)).toBeUndefined();
  });

  it('finds steps that use our actions in the workflows and templates', () => {
    const uses = workflowFiles.flatMap((file) =>
      Object.values((parse(readFileSync(join(repoRoot, file), 'utf8')) as Workflow).jobs ?? {}).flatMap((job) =>
        (job.steps ?? []).map((step) => ourAction(step.uses)).filter((name) => name !== undefined),
      ),
    );
    // deploy-environment composes all seven.
    expect(new Set(uses)).toEqual(new Set(actionDirs().map((action) => action.name)));
  });

  it.each(workflowFiles)('%s passes only declared inputs, all required ones, and reads declared outputs', (file) => {
    expect(contractProblems(file, readFileSync(join(repoRoot, file), 'utf8'), ourMetadata)).toEqual([]);
  });

  it('reports an undeclared input, a missing required input, an undeclared output and an unknown step', () => {
    const workflow = [
      'on: workflow_dispatch',
      'permissions: {}',
      'jobs:',
      '  deploy:',
      '    runs-on: ubuntu-latest',
      '    permissions: {}',
      '    outputs:',
      '      live: ${{ steps.switch.outputs.live }}',
      '      colour: ${{ steps.switch.outputs.colour }}',
      '    steps:',
      '      - id: switch',
      '        uses: ORG/REPO/actions/blue-green-switch@v1',
      '        with:',
      '          provider: nginx',
      '          colour: green',
      '      - id: smoke',
      '        uses: ./actions/smoke-test',
      '        with:',
      '          base-url: http://localhost',
      '      - id: plain',
      '        run: echo "ok=1" >> "$GITHUB_OUTPUT"',
      '      - uses: ORG/REPO/actions/no-such-action@v1',
      '      - env:',
      "          PASSED: ${{ steps['smoke'].outputs['passed'] }}",
      '          VERDICT: ${{ steps.smoke.outputs.verdikt }}',
      '          OK: ${{ steps.plain.outputs.ok }}',
      '        run: echo "$PASSED $VERDICT $OK ${{ steps.build.outputs.tag }}"',
      '',
    ].join('\n');
    expect(contractProblems('example.yml', workflow, ourMetadata)).toEqual([
      'example.yml: job deploy, step switch (blue-green-switch): input colour is not declared',
      'example.yml: job deploy, step switch (blue-green-switch): required input environment is not supplied',
      'example.yml: job deploy, step 4 (no-such-action): no action no-such-action (actions/no-such-action/action.yml)',
      'example.yml: job deploy reads steps.switch.outputs.colour, which blue-green-switch does not declare',
      'example.yml: job deploy reads steps.smoke.outputs.verdikt, which smoke-test does not declare',
      'example.yml: job deploy reads steps.build.outputs.tag, but no step has id build',
    ]);
  });
  it('recognises our reusable workflows in both spellings and nobody else’s', () => {
    expect(ourWorkflow('ORG/REPO/.github/workflows/pipeline.yml@v1')).toBe('pipeline.yml');
    expect(ourWorkflow('./.github/workflows/deploy-environment.yml')).toBe('deploy-environment.yml');
    expect(ourWorkflow('octo/other/.github/workflows/pipeline.yml@v1')).toBeUndefined();
    expect(ourWorkflow('ORG/REPO/actions/smoke-test@v1')).toBeUndefined();
    expect(ourWorkflow(undefined)).toBeUndefined();
  });

  it('finds the calls of our reusable workflows in the workflows and templates', () => {
    const called = workflowFiles.flatMap((file) =>
      Object.values((parse(readFileSync(join(repoRoot, file), 'utf8')) as Workflow).jobs ?? {})
        .map((job) => ourWorkflow(job.uses))
        .filter((name) => name !== undefined),
    );
    const callable = readdirSync(join(repoRoot, '.github', 'workflows')).filter(
      (file) => file.endsWith('.yml') && ourWorkflowCall(file) !== undefined,
    );
    // Every reusable workflow is called by a template or by another reusable workflow.
    expect(new Set(called)).toEqual(new Set(callable));
  });

  it('reports undeclared and missing inputs and secrets of a reusable workflow, and outputs it does not offer', () => {
    const called: WorkflowCall = {
      inputs: {
        environment: { required: true },
        region: { required: false, default: '' },
        sha: { required: true, default: '' },
      },
      secrets: { 'database-url': { required: true }, 'slack-token': { required: false } },
      outputs: { 'live-colour': { value: '${{ jobs.deploy.outputs.live }}' } },
    };
    const workflowOf = (file: string) => (file === 'deploy-environment.yml' ? called : undefined);
    const workflow = [
      'on:',
      '  workflow_call:',
      '    outputs:',
      '      colour:',
      '        value: ${{ jobs.deploy.outputs.live-colour }}',
      '      typo:',
      '        value: ${{ jobs.deploy.outputs.colour }}',
      '      gone:',
      '        value: ${{ jobs.nowhere.outputs.x }}',
      'permissions: {}',
      'jobs:',
      '  check:',
      '    runs-on: ubuntu-latest',
      '    permissions: {}',
      '    outputs:',
      '      digest: ${{ steps.d.outputs.digest }}',
      '    steps:',
      '      - id: d',
      '        run: echo "digest=sha256:00" >> "$GITHUB_OUTPUT"',
      '  deploy:',
      '    needs: check',
      '    permissions: {}',
      '    uses: ORG/REPO/.github/workflows/deploy-environment.yml@v1',
      '    with:',
      '      region: eu',
      '      regions: eu',
      '      sha: ${{ needs.check.outputs.digest }}',
      '    secrets:',
      '      slack-token: x',
      '      slack-tokens: y',
      '  inherit:',
      '    permissions: {}',
      '    uses: ./.github/workflows/deploy-environment.yml',
      '    with:',
      '      environment: staging',
      '    secrets: inherit',
      '  missing:',
      '    permissions: {}',
      '    uses: ORG/REPO/.github/workflows/no-such.yml@v1',
      '  after:',
      '    needs: [check, deploy]',
      '    runs-on: ubuntu-latest',
      '    permissions: {}',
      '    steps:',
      '      - env:',
      '          A: ${{ needs.deploy.outputs.live-colour }}',
      '          B: ${{ needs.deploy.outputs.colour }}',
      "          C: ${{ needs['check'].outputs['checksum'] }}",
      '          D: ${{ needs.build.outputs.digest }}',
      '        run: echo "$A $B $C $D"',
      '',
    ].join('\n');
    expect(contractProblems('example.yml', workflow, ourMetadata, workflowOf)).toEqual([
      'example.yml: job deploy (deploy-environment.yml): input regions is not declared',
      'example.yml: job deploy (deploy-environment.yml): required input environment is not supplied',
      'example.yml: job deploy (deploy-environment.yml): secret slack-tokens is not declared',
      'example.yml: job deploy (deploy-environment.yml): required secret database-url is not supplied',
      'example.yml: job missing (no-such.yml): no reusable workflow no-such.yml (.github/workflows/no-such.yml with on.workflow_call)',
      'example.yml: job after reads needs.deploy.outputs.colour, which job deploy does not offer',
      'example.yml: job after reads needs.check.outputs.checksum, which job check does not offer',
      'example.yml: job after reads needs.build.outputs.digest, but there is no job build',
      'example.yml: output typo reads jobs.deploy.outputs.colour, which job deploy does not offer',
      'example.yml: output gone reads jobs.nowhere, but there is no job nowhere',
    ]);
  });
});

/**
 * The check lists a workflow writes inline for smoke-test (`checks`, `metrics`), read as the action
 * reads them, with each `${{ … }}` expression standing for a string: a wrong key (such as a nested
 * `thresholds:`) would otherwise fail only when the workflow runs.
 */
function inlineCheckProblems(file: string, content: string): string[] {
  const workflow = parse(content) as Workflow;
  const problems: string[] = [];
  for (const [jobName, job] of Object.entries(workflow.jobs ?? {})) {
    for (const step of job.steps ?? []) {
      if (ourAction(step.uses) !== 'smoke-test') continue;
      for (const [input, schema] of [
        ['checks', httpChecksSchema],
        ['metrics', metricChecksSchema],
      ] as const) {
        const text = step.with?.[input];
        if (typeof text !== 'string' || text.trim() === '') continue;
        const parsed = schema.safeParse(parse(text.replace(/\$\{\{[^}]*\}\}/g, 'expression')));
        if (!parsed.success) {
          const first = parsed.error.issues[0]!;
          problems.push(
            `${file}: job ${jobName} step ${step.id ?? step.uses}: ${input} at ${first.path.join('.')}: ${first.message}`,
          );
        }
      }
    }
  }
  return problems;
}

describe("smoke-test's inline checks in our workflows", () => {
  it('parse as the action reads them', () => {
    expect(
      workflowFiles.flatMap((file) => inlineCheckProblems(file, readFileSync(join(repoRoot, file), 'utf8'))),
    ).toEqual([]);
  });

  it('reports a metric check with a key the action does not know', () => {
    const workflow = [
      'jobs:',
      '  bake:',
      '    steps:',
      '      - id: bake',
      '        uses: ./actions/smoke-test',
      '        with:',
      '          metrics: |',
      '            - name: error rate',
      '              query: ${{ toJSON(inputs.query) }}',
      '              thresholds:',
      '                fail-above: 0.05',
      '',
    ].join('\n');
    expect(inlineCheckProblems('example.yml', workflow)).toEqual([
      expect.stringMatching(/^example\.yml: job bake step bake: metrics at 0: Unrecognized key: "thresholds"/),
    ]);
  });
});
