// How the demo runs a job's steps: each action's built bundle the runner's way, in the job's
// order, printing one line per step as it goes and keeping the figures the closing table shows.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBuiltAction, type ActionRun } from '../../test/helpers/run-action.ts';

export interface StepRecord {
  environment: string;
  job: string;
  id: string;
  action: string;
  ms: number;
  ok: boolean;
  /** GitHub API requests the step made. */
  requests: number;
}

/** A step that failed: the job stops, and only its `if: failure()` steps run. */
export class StepFailed extends Error {
  readonly step: string;
  constructor(step: string, reason: string) {
    super(`${step}: ${reason}`);
    this.step = step;
  }
}

const dim = (text: string) => (process.stdout.isTTY ? `\x1b[2m${text}\x1b[0m` : text);
const mark = (ok: boolean) =>
  ok ? (process.stdout.isTTY ? '\x1b[32m✓\x1b[0m' : '✓') : process.stdout.isTTY ? '\x1b[31m✗\x1b[0m' : '✗';

export function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

/** The runner's view of one workflow run: its event, its commit, its workspace. */
export interface RunContext {
  env: Record<string, string>;
  cwd: string;
  eventName: string;
  event: Record<string, unknown>;
  actor: string;
  /** How many requests the (fake) GitHub API has answered so far. */
  githubRequests: () => number;
}

export class Job {
  readonly outputs = new Map<string, Record<string, string>>();
  readonly outcomes = new Map<string, 'success' | 'failure' | 'skipped'>();
  failed = false;

  private readonly environment: string;
  private readonly name: string;
  private readonly context: RunContext;
  private readonly records: StepRecord[];

  constructor(environment: string, name: string, context: RunContext, records: StepRecord[]) {
    this.environment = environment;
    this.name = name;
    this.context = context;
    this.records = records;
  }

  /** `steps.<id>.outputs.<name>`, empty when the step did not run or set nothing. */
  out(id: string, name: string): string {
    return this.outputs.get(id)?.[name] ?? '';
  }

  /**
   * Runs one action step. `check` says whether it did what the pipeline needs (default: exit code
   * 0); a step that fails marks the job failed and throws unless `continueOnFailure`.
   */
  async uses(
    id: string,
    action: string,
    inputs: Record<string, string>,
    options: { note?: (run: ActionRun) => string; timeoutMs?: number; allowFailure?: boolean } = {},
  ): Promise<ActionRun> {
    const eventPath = join(mkdtempSync(join(tmpdir(), 'demo-event-')), 'event.json');
    writeFileSync(eventPath, JSON.stringify(this.context.event));
    const requestsBefore = this.context.githubRequests();
    const run = await runBuiltAction(action, inputs, {
      cwd: this.context.cwd,
      timeoutMs: options.timeoutMs ?? 180_000,
      env: {
        ...this.context.env,
        GITHUB_WORKSPACE: this.context.cwd,
        GITHUB_EVENT_NAME: this.context.eventName,
        GITHUB_EVENT_PATH: eventPath,
        GITHUB_ACTOR: this.context.actor,
        GITHUB_TRIGGERING_ACTOR: this.context.actor,
        GITHUB_JOB: this.name,
      },
    });
    const ok = run.exitCode === 0;
    this.outputs.set(id, run.outputs);
    this.outcomes.set(id, ok ? 'success' : 'failure');
    const requests = this.context.githubRequests() - requestsBefore;
    this.records.push({ environment: this.environment, job: this.name, id, action, ms: run.durationMs, ok, requests });
    const note = options.note?.(run) ?? '';
    console.log(
      `  ${mark(ok)} ${id.padEnd(20)} ${dim(action.padEnd(20))} ${seconds(run.durationMs).padStart(6)}  ${note}`,
    );
    if (!ok) {
      const errors = run.annotations.filter((a) => a.level === 'error').map((a) => a.message);
      for (const line of errors.length > 0 ? errors : run.log.split('\n').slice(-15)) console.log(`      ${line}`);
      if (!options.allowFailure) {
        this.failed = true;
        throw new StepFailed(id, errors[0] ?? `exit code ${run.exitCode}`);
      }
    } else {
      for (const warning of run.annotations.filter((a) => a.level === 'warning'))
        console.log(`      ${dim(`warning: ${warning.message.split('\n')[0]}`)}`);
    }
    return run;
  }

  /** A `run:` step of the workflow, done in the demo's own process. */
  async run(
    id: string,
    what: string,
    body: () => Record<string, string> | Promise<Record<string, string>>,
  ): Promise<Record<string, string>> {
    const started = performance.now();
    const settle = (ok: boolean, note: string): void => {
      const ms = performance.now() - started;
      this.outcomes.set(id, ok ? 'success' : 'failure');
      this.records.push({ environment: this.environment, job: this.name, id, action: 'run', ms, ok, requests: 0 });
      console.log(`  ${mark(ok)} ${id.padEnd(20)} ${dim('run'.padEnd(20))} ${seconds(ms).padStart(6)}  ${note}`);
    };
    try {
      const outputs = await body();
      this.outputs.set(id, outputs);
      settle(true, what);
      return outputs;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      settle(false, reason);
      this.failed = true;
      throw new StepFailed(id, reason);
    }
  }
}
