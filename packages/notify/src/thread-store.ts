import { createHash } from 'node:crypto';
import { onGitHub, readStateBlock, renderStateBlock, type GitHubClient, type Repo } from '@deploy-suite/github';
import { threadStateV1, type ThreadState } from './thread.ts';

const BLOCK_KEY = 'notify-thread';

/** Where a thread is kept between stages, jobs and re-runs. */
export interface ThreadStore {
  /** The thread, or undefined when there is none yet (or none that reads as ours). */
  load(key: string): Promise<ThreadState | undefined>;
  save(thread: ThreadState, view: { title: string; summary: string }): Promise<void>;
}

/** The check run's external id for a thread key: the key itself may hold anything a user typed. */
export function threadId(key: string): string {
  return `deploy-suite-notify:${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
}

/**
 * A thread kept in a check run on the deployed commit, updated in place: the one mutable place
 * every later job, re-run and workflow of the repository can read without a server of its own,
 * and which people see on the commit ("Deployment notifications: production"). Only check runs
 * made by the named app (github-actions for GITHUB_TOKEN) count, so another app's lookalike is
 * ignored; what is read is validated by the thread schema before any id in it is used.
 */
export class CheckRunThreadStore implements ThreadStore {
  private checkRunId: number | undefined;
  private readonly octokit: GitHubClient;
  private readonly repo: Repo;
  private readonly sha: string;
  private readonly name: string;
  private readonly app: string;
  private readonly warn: (line: string) => void;

  constructor(options: {
    octokit: GitHubClient;
    repo: Repo;
    sha: string;
    environment: string;
    app: string;
    warn: (line: string) => void;
  }) {
    this.octokit = options.octokit;
    this.repo = options.repo;
    this.sha = options.sha;
    this.name = `Deployment notifications: ${options.environment}`.slice(0, 100);
    this.app = options.app;
    this.warn = options.warn;
  }

  async load(key: string): Promise<ThreadState | undefined> {
    const externalId = threadId(key);
    const runs = await onGitHub(
      {
        doing: `reading the notification thread on ${this.sha.slice(0, 7)}`,
        hints: { 403: 'The token cannot read checks: grant "checks: write" in the workflow\'s "permissions:" block.' },
      },
      () =>
        this.octokit.paginate(this.octokit.rest.checks.listForRef, {
          ...this.repo,
          ref: this.sha,
          check_name: this.name,
          filter: 'all',
          per_page: 100,
        }),
    );
    const ours = runs
      .filter((run) => run.external_id === externalId && run.app?.slug === this.app)
      .sort((a, b) => b.id - a.id)[0];
    if (ours === undefined) return undefined;
    this.checkRunId = ours.id;
    const block = readStateBlock(ours.output.text);
    const parsed = block?.key === BLOCK_KEY ? threadStateV1.safeParse(block.data) : undefined;
    if (parsed?.success !== true || parsed.data.key !== key) {
      this.warn(
        `The notification thread kept in check run ${ours.id} does not read as this thread's (edited, or from another version): starting a new thread`,
      );
      return undefined;
    }
    return parsed.data;
  }

  async save(thread: ThreadState, view: { title: string; summary: string }): Promise<void> {
    const output = {
      title: view.title.slice(0, 250),
      summary: view.summary.slice(0, 60_000),
      text: renderStateBlock(BLOCK_KEY, thread),
    };
    const failure = {
      doing: `keeping the notification thread on ${this.sha.slice(0, 7)}`,
      hints: { 403: 'The token cannot write checks: grant "checks: write" in the workflow\'s "permissions:" block.' },
    };
    if (this.checkRunId !== undefined) {
      const id = this.checkRunId;
      await onGitHub(failure, () => this.octokit.rest.checks.update({ ...this.repo, check_run_id: id, output }));
      return;
    }
    const { data } = await onGitHub(failure, () =>
      this.octokit.rest.checks.create({
        ...this.repo,
        name: this.name,
        head_sha: this.sha,
        external_id: threadId(thread.key),
        status: 'completed',
        // A notification neither passes nor fails the commit.
        conclusion: 'neutral',
        output,
      }),
    );
    this.checkRunId = data.id;
  }
}

/** A thread passed from an earlier step's `thread` output, read as untrusted input. */
export function parseThread(text: string): ThreadState | { problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { problem: 'is not JSON' };
  }
  const parsed = threadStateV1.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { problem: `is not a thread of this version: ${issue?.path.join('.') || '(root)'}: ${issue?.message}` };
  }
  return parsed.data;
}
