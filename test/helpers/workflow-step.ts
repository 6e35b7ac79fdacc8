import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseKeyValueFile, repoRoot } from './run-action.ts';

export interface StepRun {
  status: number | null;
  outputs: Record<string, string>;
  /** What the step wrote to its job summary. */
  summary: string;
  log: string;
}

/** The `run:` script of a workflow's step, as it ships. */
export function stepScript(file: string, job: string, id: string): string {
  const workflow = parse(readFileSync(join(repoRoot, file), 'utf8')) as {
    jobs: Record<string, { steps?: { id?: string; run?: string }[] }>;
  };
  const script = workflow.jobs[job]?.steps?.find((step) => step.id === id)?.run;
  if (script === undefined) throw new Error(`${file} has no run step ${job}.${id}`);
  return script;
}

/**
 * Runs a workflow's shell step as a GitHub runner does (bash -e, GITHUB_OUTPUT as a file), with the
 * values its `env:` would receive. Asynchronous, so a fake server in this process can answer it.
 */
export async function runWorkflowStep(script: string, env: Record<string, string>): Promise<StepRun> {
  const folder = mkdtempSync(join(tmpdir(), 'workflow-step-'));
  const output = join(folder, 'output');
  const summary = join(folder, 'summary');
  writeFileSync(output, '');
  writeFileSync(summary, '');
  // stdin ignored: given a socket, bash would read ~/.bashrc as if started by a remote shell.
  const child = spawn('bash', ['-e', '-c', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary, ...env },
  });
  let log = '';
  child.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return {
    status,
    outputs: parseKeyValueFile(readFileSync(output, 'utf8')),
    summary: readFileSync(summary, 'utf8'),
    log,
  };
}
