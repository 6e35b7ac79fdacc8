import { onGitHub, type GitHubClient, type Repo } from '@deploy-suite/github';
import type { PullRequest } from './item.ts';

/** The event that started the run, as @actions/github's context holds it. */
export interface ChecklistEvent {
  eventName: string;
  payload: Record<string, unknown>;
  /** The run's commit (GITHUB_SHA): what a push or a dispatch deploys. */
  sha?: string;
}

const FULL_SHA = /^[0-9a-f]{40}$/;

/** A merge queue's branch: gh-readonly-queue/<base>/pr-<number>-<head sha>. */
const MERGE_QUEUE_REF = /(?:^|\/)pr-(\d+)-[0-9a-f]{7,40}$/;

interface PullData {
  number: number;
  html_url: string;
  state: string;
  user: { login: string } | null;
  body: string | null;
  head: { sha: string };
  base: { ref: string };
  labels: { name?: string }[];
  draft?: boolean;
  merged_at: string | null;
  merge_commit_sha: string | null;
}

/**
 * The pull request that holds the SHA, read from GitHub (so its body and labels are current,
 * not as the event saw them): for pull_request and pull_request_target the event's PR; for a
 * merge queue the PR its branch names; for workflow_run the run's first PR; otherwise (push,
 * workflow_dispatch, and a workflow_run without PRs) the PR the commits API names — the open PR
 * whose head is the SHA first, else the merged PR that contains it. Undefined when none does.
 */
export async function findPullRequest(
  octokit: GitHubClient,
  repo: Repo,
  event: ChecklistEvent,
  sha: string,
): Promise<PullRequest | undefined> {
  const payload = event.payload;
  switch (event.eventName) {
    case 'pull_request':
    case 'pull_request_target': {
      const number = numberAt(payload, 'pull_request', 'number');
      if (number === undefined) throw new Error(`The ${event.eventName} event has no pull_request.number.`);
      return getPullRequest(octokit, repo, number);
    }
    case 'merge_group': {
      const headRef = stringAt(payload, 'merge_group', 'head_ref');
      const match = headRef === undefined ? null : MERGE_QUEUE_REF.exec(headRef);
      if (match) return getPullRequest(octokit, repo, Number(match[1]));
      return pullOfCommit(octokit, repo, sha);
    }
    case 'workflow_run': {
      const run = objectAt(payload, 'workflow_run');
      const pulls = run?.pull_requests;
      const first = Array.isArray(pulls) ? (pulls[0] as unknown) : undefined;
      const number = first !== undefined ? numberAt({ first }, 'first', 'number') : undefined;
      if (number !== undefined) return getPullRequest(octokit, repo, number);
      return pullOfCommit(octokit, repo, sha);
    }
    default:
      return pullOfCommit(octokit, repo, sha);
  }
}

/**
 * The full SHA to judge: a ref given for the run (a branch, a tag or a SHA, resolved through
 * GET /commits/:ref), else the event's head — the PR's head for pull_request, the merge queue's
 * head for merge_group, the run's head for workflow_run, the run's commit for the rest.
 */
export async function resolveSha(
  octokit: GitHubClient,
  repo: Repo,
  event: ChecklistEvent,
  refInput?: string,
): Promise<string> {
  const ref = refInput?.trim();
  if (ref) {
    const { data } = await onGitHub(
      {
        doing: `resolving ${JSON.stringify(ref.slice(0, 100))} to a commit in ${repo.owner}/${repo.repo}`,
        hints: {
          404: `No branch, tag or commit ${JSON.stringify(ref.slice(0, 100))} in ${repo.owner}/${repo.repo}.`,
          422: `No branch, tag or commit ${JSON.stringify(ref.slice(0, 100))} in ${repo.owner}/${repo.repo}.`,
        },
      },
      () => octokit.rest.repos.getCommit({ ...repo, ref, per_page: 1 }),
    );
    return checkedSha(data.sha, `the commit of ${JSON.stringify(ref.slice(0, 100))}`);
  }
  const payload = event.payload;
  switch (event.eventName) {
    case 'pull_request':
    case 'pull_request_target':
      return checkedSha(stringAt(payload, 'pull_request', 'head', 'sha'), 'pull_request.head.sha');
    case 'merge_group':
      return checkedSha(stringAt(payload, 'merge_group', 'head_sha'), 'merge_group.head_sha');
    case 'workflow_run':
      return checkedSha(stringAt(payload, 'workflow_run', 'head_sha'), 'workflow_run.head_sha');
    default:
      return checkedSha(event.sha ?? process.env.GITHUB_SHA, 'the run commit (GITHUB_SHA)');
  }
}

/** Every changed file of the PR, every page (GitHub lists at most 3000); a renamed file counts by both names. */
export async function changedFilesOf(octokit: GitHubClient, repo: Repo, pull: Pick<PullRequest, 'number'>) {
  const files = await onGitHub({ doing: `listing the files of ${repo.owner}/${repo.repo}#${pull.number}` }, () =>
    octokit.paginate(octokit.rest.pulls.listFiles, { ...repo, pull_number: pull.number, per_page: 100 }),
  );
  const names = new Set<string>();
  for (const file of files) {
    names.add(file.filename);
    if (file.previous_filename) names.add(file.previous_filename);
  }
  return [...names];
}

async function getPullRequest(octokit: GitHubClient, repo: Repo, number: number): Promise<PullRequest> {
  const { data } = await onGitHub(
    {
      doing: `reading pull request ${repo.owner}/${repo.repo}#${number}`,
      hints: { 404: `Pull request #${number} is not in ${repo.owner}/${repo.repo}, or the token cannot see it.` },
    },
    () => octokit.rest.pulls.get({ ...repo, pull_number: number }),
  );
  return toPullRequest(data);
}

async function pullOfCommit(octokit: GitHubClient, repo: Repo, sha: string): Promise<PullRequest | undefined> {
  const pulls = (await onGitHub(
    { doing: `listing the pull requests of commit ${sha.slice(0, 12)} in ${repo.owner}/${repo.repo}` },
    () => octokit.paginate(octokit.rest.repos.listPullRequestsAssociatedWithCommit, { ...repo, commit_sha: sha }),
  )) as unknown as Partial<PullData>[];
  const complete = pulls.filter(isPullData);
  const open = complete.find((pull) => pull.state === 'open' && pull.head.sha === sha);
  if (open) return toPullRequest(open);
  const merged = complete.filter((pull) => pull.merged_at !== null);
  // Only the PR whose merge made this commit: a commit from inside a merged PR was never reviewed as such.
  const chosen = merged.find((pull) => pull.merge_commit_sha === sha);
  return chosen ? toPullRequest(chosen) : undefined;
}

function isPullData(pull: Partial<PullData>): pull is PullData {
  return typeof pull.number === 'number' && typeof pull.head?.sha === 'string' && pull.merged_at !== undefined;
}

function toPullRequest(data: PullData): PullRequest {
  return {
    number: data.number,
    url: data.html_url,
    author: data.user?.login ?? '',
    body: data.body ?? '',
    headSha: data.head.sha,
    mergeCommitSha: data.merged_at === null ? undefined : (data.merge_commit_sha ?? undefined),
    baseRef: data.base.ref,
    labels: data.labels.map((label) => label.name ?? '').filter((name) => name !== ''),
    draft: data.draft ?? false,
  };
}

function checkedSha(value: string | undefined, what: string): string {
  const sha = value?.toLowerCase();
  if (sha === undefined || !FULL_SHA.test(sha)) {
    throw new Error(`${what} is not a full commit SHA: ${JSON.stringify((value ?? '').slice(0, 60))}`);
  }
  return sha;
}

function objectAt(value: unknown, ...path: string[]): Record<string, unknown> | undefined {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return typeof current === 'object' && current !== null ? (current as Record<string, unknown>) : undefined;
}

function valueAt(value: unknown, path: string[]): unknown {
  const parent = objectAt(value, ...path.slice(0, -1));
  return parent?.[path[path.length - 1]!];
}

function stringAt(value: unknown, ...path: string[]): string | undefined {
  const found = valueAt(value, path);
  return typeof found === 'string' ? found : undefined;
}

function numberAt(value: unknown, ...path: string[]): number | undefined {
  const found = valueAt(value, path);
  return typeof found === 'number' && Number.isInteger(found) && found > 0 ? found : undefined;
}
