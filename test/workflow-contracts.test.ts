// The contract between our workflows and our actions: every step of .github/workflows and
// workflows-templates that uses one of our actions (`ORG/REPO/actions/<name>@…` in a template,
// `./actions/<name>` here) passes only inputs the action's action.yml declares, supplies every
// input it requires without a default, and every `steps.<id>.outputs.<name>` the job reads names
// an output that step's action declares. A typo in a template would otherwise reach a service
// repository as a warning in a log ("Unexpected input") or an empty string where a value was meant.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { actionDirs, type ActionMetadata, readActionMetadata } from '../scripts/actions.ts';
import { repoRoot } from './helpers/run-action.ts';

const workflowFiles = ['.github/workflows', 'workflows-templates'].flatMap((dir) =>
  readdirSync(join(repoRoot, dir))
    .filter((file) => file.endsWith('.yml'))
    .map((file) => join(dir, file)),
);

interface Step {
  id?: string;
  uses?: string;
  with?: Record<string, unknown>;
  [key: string]: unknown;
}

interface Workflow {
  jobs?: Record<string, { steps?: Step[]; [key: string]: unknown }>;
}

/** The name of our action a `uses:` refers to, or undefined for anyone else's. */
function ourAction(uses: string | undefined): string | undefined {
  if (uses === undefined) return undefined;
  return /^(?:ORG\/REPO\/actions\/([\w.-]+)@.+|\.\/actions\/([\w.-]+)\/?)$/.exec(uses)?.slice(1).find(Boolean);
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

/**
 * What breaks the contract in one workflow's text, one line per problem. `metadataOf` gives an
 * action's metadata by name (undefined when there is no such action).
 */
function contractProblems(
  file: string,
  content: string,
  metadataOf: (name: string) => ActionMetadata | undefined,
): string[] {
  const workflow = parse(content) as Workflow;
  const problems: string[] = [];
  for (const [jobId, job] of Object.entries(workflow.jobs ?? {})) {
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
});
