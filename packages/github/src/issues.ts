import { getIfChanged, type GitHubClient } from './client.ts';
import { gitHubFailure, onGitHub } from './errors.ts';
import { listAllIfChanged, PageCache, type PolledList } from './pages.ts';

export interface Repo {
  owner: string;
  repo: string;
}

/** The fields of GitHub's issue comment the suite reads. */
interface RawComment {
  id: number | bigint;
  body?: string;
  user: { login: string; type: string } | null;
  created_at: string;
  updated_at: string;
  html_url: string;
}

/** The fields of GitHub's issue the suite reads. */
interface RawIssue {
  number: number;
  html_url: string;
  state: string;
  title: string;
  body?: string | null;
  labels: (string | { name?: string })[];
  user: { login: string } | null;
  created_at: string;
  pull_request?: unknown;
}

export interface IssueComment {
  id: number;
  body: string;
  /** Undefined when the account was deleted ("ghost"). */
  author: { login: string; type: string } | undefined;
  createdAt: string;
  updatedAt: string;
  /** True when the body was changed after it was posted, by anyone: the author stays the same. */
  edited: boolean;
  url: string;
}

const where = (repo: Repo, number: number) => `${repo.owner}/${repo.repo}#${number}`;

export function toComment(raw: RawComment): IssueComment {
  return {
    id: Number(raw.id),
    body: raw.body ?? '',
    author: raw.user ? { login: raw.user.login, type: raw.user.type } : undefined,
    createdAt: raw.created_at,
    updatedAt: raw.updated_at,
    edited: raw.updated_at !== raw.created_at,
    url: raw.html_url,
  };
}

/** Every comment of an issue, oldest first, every page read. */
export async function listIssueComments(octokit: GitHubClient, repo: Repo, number: number): Promise<IssueComment[]> {
  const raw = await onGitHub({ doing: `listing the comments of ${where(repo, number)}` }, () =>
    octokit.paginate(octokit.rest.issues.listComments, { ...repo, issue_number: number, per_page: 100 }),
  );
  return raw.map(toComment);
}

/**
 * Every comment of an issue for polling: each page conditional on its ETag (see PageCache), so
 * a poll where nothing changed costs no rate limit. Keep the cache between polls.
 */
export async function pollIssueComments(
  octokit: GitHubClient,
  repo: Repo,
  number: number,
  cache: PageCache,
): Promise<PolledList<IssueComment>> {
  const polled = await onGitHub({ doing: `reading the comments of ${where(repo, number)}` }, () =>
    listAllIfChanged<RawComment>(
      octokit,
      'GET /repos/{owner}/{repo}/issues/{issue_number}/comments',
      { ...repo, issue_number: number },
      cache,
    ),
  );
  return { ...polled, items: polled.items.map(toComment) };
}

export async function addIssueComment(
  octokit: GitHubClient,
  repo: Repo,
  number: number,
  body: string,
): Promise<IssueComment> {
  const { data } = await onGitHub(
    {
      doing: `commenting on ${where(repo, number)}`,
      write: { check: `look for the comment on ${where(repo, number)}` },
    },
    () => octokit.rest.issues.createComment({ ...repo, issue_number: number, body }),
  );
  return toComment(data);
}

/** Adds labels (those already there stay); GitHub creates a label that does not exist yet. */
export async function addLabels(octokit: GitHubClient, repo: Repo, number: number, labels: string[]): Promise<void> {
  if (labels.length === 0) return;
  await onGitHub(
    {
      doing: `adding labels ${labels.join(', ')} to ${where(repo, number)}`,
      write: { check: `look at the labels of ${where(repo, number)}` },
    },
    () => octokit.rest.issues.addLabels({ ...repo, issue_number: number, labels }),
  );
}

// --- Issues found by a marker -------------------------------------------------------------------

/**
 * How the suite finds an issue it made: a label to list by, and a key inside the machine-readable
 * block of the body, `<!-- deploy-suite:state {"key":"…","data":…} -->`.
 */
export interface IssueMarker {
  label: string;
  key: string;
  /** Count only issues opened by this login (the token's own account), so a lookalike is ignored. */
  author?: string;
}

export interface MarkedIssue {
  number: number;
  url: string;
  state: 'open' | 'closed';
  title: string;
  body: string;
  labels: string[];
  author: string | undefined;
  /** When GitHub says the issue was opened: a notice period counts from here. */
  createdAt: string;
  key: string;
  /**
   * The block's data, as read back: untrusted (anyone who can edit the issue can change it), so
   * validate it by schema before it steers anything.
   */
  data: unknown;
}

const BLOCK = /<!--\s*deploy-suite:state\s+(\{[\s\S]*?\})\s*-->/;

/** The machine-readable block: JSON in an HTML comment, with < and > escaped so it cannot end early. */
export function renderStateBlock(key: string, data: unknown): string {
  const json = JSON.stringify({ key, data }).replace(/</g, '\\u003c').replace(/>/g, '\\u003e');
  return `<!-- deploy-suite:state ${json} -->`;
}

/** The block's key and data, or undefined when the body has none or it does not parse. */
export function readStateBlock(body: string | null | undefined): { key: string; data: unknown } | undefined {
  const match = BLOCK.exec(body ?? '');
  if (!match) return undefined;
  try {
    const parsed = JSON.parse(match[1]!) as unknown;
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { key, data } = parsed as { key?: unknown; data?: unknown };
    return typeof key === 'string' ? { key, data } : undefined;
  } catch {
    return undefined;
  }
}

/** The body with its block replaced (or appended when it has none). */
export function withStateBlock(body: string, key: string, data: unknown): string {
  const block = renderStateBlock(key, data);
  return BLOCK.test(body) ? body.replace(BLOCK, () => block) : `${body.replace(/\s+$/, '')}\n\n${block}\n`;
}

export function toMarked(raw: RawIssue): MarkedIssue | undefined {
  const block = readStateBlock(raw.body);
  if (!block) return undefined;
  return {
    number: raw.number,
    url: raw.html_url,
    state: raw.state === 'closed' ? 'closed' : 'open',
    title: raw.title,
    body: raw.body ?? '',
    labels: raw.labels.map((label) => (typeof label === 'string' ? label : (label.name ?? ''))),
    author: raw.user?.login,
    createdAt: raw.created_at,
    key: block.key,
    data: block.data,
  };
}

/** The oldest issue (open or closed) with the marker's label, key and author, or undefined. */
export async function findMarkedIssue(
  octokit: GitHubClient,
  repo: Repo,
  marker: IssueMarker,
): Promise<MarkedIssue | undefined> {
  const raw = await onGitHub(
    { doing: `listing the issues labelled ${marker.label} in ${repo.owner}/${repo.repo}` },
    () =>
      octokit.paginate(octokit.rest.issues.listForRepo, {
        ...repo,
        labels: marker.label,
        state: 'all',
        per_page: 100,
      }),
  );
  const found = raw
    .filter((issue) => issue.pull_request === undefined)
    .filter((issue) => marker.author === undefined || issue.user?.login === marker.author)
    .map(toMarked)
    .filter((issue): issue is MarkedIssue => issue?.key === marker.key)
    .sort((a, b) => a.number - b.number);
  return found[0];
}

export interface NewMarkedIssue {
  title: string;
  /** The human-readable body; the block is appended to it. */
  body: string;
  data: unknown;
  /** More labels besides the marker's. */
  labels?: string[];
}

/**
 * Finds the marker's issue, or opens it exactly once: a re-run finds and reuses it; a create
 * that failed without an answer is looked for again rather than sent again (it may have
 * landed); and when two runs raced, the newer twin is closed as a duplicate and the older
 * one returned.
 */
export async function ensureMarkedIssue(
  octokit: GitHubClient,
  repo: Repo,
  marker: IssueMarker,
  issue: NewMarkedIssue,
): Promise<{ issue: MarkedIssue; created: boolean }> {
  const existing = await findMarkedIssue(octokit, repo, marker);
  if (existing) return { issue: existing, created: false };
  let made: MarkedIssue | undefined;
  try {
    const { data } = await octokit.rest.issues.create({
      ...repo,
      title: issue.title,
      body: withStateBlock(issue.body, marker.key, issue.data),
      labels: [marker.label, ...(issue.labels ?? []).filter((label) => label !== marker.label)],
    });
    made = toMarked(data);
  } catch (error) {
    const failure = gitHubFailure(error, {
      doing: `opening the issue "${issue.title}" in ${repo.owner}/${repo.repo}`,
      write: { check: `look for an issue labelled ${marker.label}` },
    });
    // A 5xx or a dropped connection may hide an issue that was made: look before failing.
    const status = (failure as { status?: number }).status;
    if (status === undefined || status >= 500) {
      const landed = await findMarkedIssue(octokit, repo, marker).catch(() => undefined);
      if (landed) return { issue: landed, created: true };
    }
    throw failure;
  }
  if (!made) throw new Error(`the new issue in ${repo.owner}/${repo.repo} came back without its state block`);
  const number = made.number;
  const oldest = await findMarkedIssue(octokit, repo, marker);
  if (oldest && oldest.number < number) {
    await onGitHub(
      {
        doing: `closing ${where(repo, number)}, a duplicate of #${oldest.number}`,
        write: { check: `look at ${where(repo, number)}` },
      },
      () => octokit.rest.issues.update({ ...repo, issue_number: number, state: 'closed', state_reason: 'duplicate' }),
    );
    return { issue: oldest, created: false };
  }
  return { issue: made, created: true };
}

export interface MarkedIssueUpdate {
  data: unknown;
  /** A new human-readable body; the current one is kept when omitted. */
  body?: string;
  title?: string;
  state?: 'open' | 'closed';
  /** The whole label set (replaces the current one). */
  labels?: string[];
}

/** Rewrites the block (and optionally the body, title and state) of a marked issue. */
export async function updateMarkedIssue(
  octokit: GitHubClient,
  repo: Repo,
  number: number,
  key: string,
  update: MarkedIssueUpdate,
): Promise<MarkedIssue> {
  const doing = `updating ${where(repo, number)}`;
  let current = update.body;
  if (current === undefined) {
    const { data } = await onGitHub({ doing: `reading ${where(repo, number)}` }, () =>
      octokit.rest.issues.get({ ...repo, issue_number: number }),
    );
    current = data.body ?? '';
  }
  const { data } = await onGitHub({ doing, write: { check: `look at ${where(repo, number)}` } }, () =>
    octokit.rest.issues.update({
      ...repo,
      issue_number: number,
      body: withStateBlock(current, key, update.data),
      ...(update.title === undefined ? {} : { title: update.title }),
      ...(update.state === undefined ? {} : { state: update.state }),
      ...(update.labels === undefined ? {} : { labels: update.labels }),
    }),
  );
  const marked = toMarked(data);
  if (!marked) throw new Error(`${where(repo, number)} came back without its state block`);
  return marked;
}

/** An issue's current state, read fresh (no cache): what a gate checks before it acts. */
export async function getIssue(octokit: GitHubClient, repo: Repo, number: number): Promise<RawIssue> {
  const { data } = await onGitHub({ doing: `reading ${where(repo, number)}` }, () =>
    octokit.rest.issues.get({ ...repo, issue_number: number }),
  );
  return data;
}

/**
 * Polls one issue with its ETag: undefined while nothing changed (a 304, free of rate limit), the
 * issue when anything did (a new or deleted comment, a label, the state, the body).
 */
export async function pollIssue(
  octokit: GitHubClient,
  repo: Repo,
  number: number,
  cache: { etag?: string | undefined },
): Promise<RawIssue | undefined> {
  const answer = await onGitHub({ doing: `reading ${where(repo, number)}` }, () =>
    getIfChanged<RawIssue>(
      octokit,
      'GET /repos/{owner}/{repo}/issues/{issue_number}',
      { ...repo, issue_number: number },
      cache.etag,
    ),
  );
  cache.etag = answer.etag;
  return answer.changed ? answer.data : undefined;
}

export type { RawIssue as IssueData };

export async function deleteIssueComment(octokit: GitHubClient, repo: Repo, commentId: number): Promise<void> {
  await onGitHub(
    { doing: `deleting comment ${commentId} in ${repo.owner}/${repo.repo}`, write: { check: 'look for the comment' } },
    () => octokit.rest.issues.deleteComment({ ...repo, comment_id: commentId }),
  );
}
