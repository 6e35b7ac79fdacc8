import type { components } from '@octokit/openapi-types';
import type { RecordedRequest, ScriptedResponse } from '../helpers/http-server.ts';
import type { FakeGitHub } from './github.ts';

type Pull = components['schemas']['pull-request'];
type Review = components['schemas']['pull-request-review'];
type DiffEntry = components['schemas']['diff-entry'];

export interface PullFileInput {
  filename: string;
  status?: 'added' | 'removed' | 'modified' | 'renamed' | 'copied' | 'changed' | 'unchanged';
  additions?: number;
  deletions?: number;
  /** The file's path before a rename. */
  previousFilename?: string;
}

export interface PullInput {
  /** Default: the next free number. */
  number?: number;
  author: string;
  /** null for a PR with no body (a bot's, often). */
  body?: string | null;
  title?: string;
  headSha: string;
  headRef?: string;
  baseRef?: string;
  labels?: string[];
  draft?: boolean;
  /** Changed files: paths, or entries with a status and line counts. */
  files?: (string | PullFileInput)[];
  /** Earlier commits of the PR (the head is added): the commits-to-PRs route finds the PR by any of them. */
  commits?: string[];
  state?: 'open' | 'closed';
  /** The merge commit of a merged PR (it is closed then, and the commits-to-PRs route finds it by it too). */
  mergeCommitSha?: string;
}

export interface ReviewInput {
  login: string;
  state: 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'DISMISSED';
  /** The head the review was made on; default the PR's current head. */
  commitId?: string;
  body?: string;
  submittedAt?: string;
}

interface StoredPull {
  pull: Pull;
  files: DiffEntry[];
  reviews: Review[];
  commits: Set<string>;
}

/**
 * Pull requests as GitHub serves them, for one repository (acme/service by default): a PR
 * (user, body that may be null, head and base, labels, draft), its changed files and its reviews
 * (each with the commit it was made on) paged with Link headers and ETags, the PRs that hold a
 * commit (open ones by their head and earlier commits, merged ones by their merge commit too),
 * refs resolved to commits, and file contents at a ref (base64, 404 when absent).
 */
export class FakePulls {
  readonly pulls = new Map<number, StoredPull>();
  /** File contents by "ref:path". */
  readonly files = new Map<string, string>();
  /** Branches and tags: the commit each points at. */
  readonly refs = new Map<string, string>();
  private nextReviewId = 80_000;
  private readonly github: FakeGitHub;
  private readonly owner: string;
  private readonly name: string;

  constructor(github: FakeGitHub, repo: { owner: string; repo: string } = { owner: 'acme', repo: 'service' }) {
    this.github = github;
    this.owner = repo.owner;
    this.name = repo.repo;
    const prefix = `^/repos/${repo.owner}/${repo.repo}`;
    github.addRoute('GET', new RegExp(`${prefix}/pulls/(\\d+)$`), (request, [number], rate) =>
      this.withPull(number!, rate, (stored) => github.conditional(request, rate, stored.pull)),
    );
    github.addRoute('GET', new RegExp(`${prefix}/pulls/(\\d+)/files$`), (request, [number], rate) =>
      this.withPull(number!, rate, (stored) => github.list(request, rate, stored.files, 'oldest-first')),
    );
    github.addRoute('GET', new RegExp(`${prefix}/pulls/(\\d+)/reviews$`), (request, [number], rate) =>
      this.withPull(number!, rate, (stored) => github.list(request, rate, stored.reviews, 'oldest-first')),
    );
    github.addRoute('GET', new RegExp(`${prefix}/commits/([^/]+)/pulls$`), (request, [sha], rate) =>
      this.pullsOf(request, decodeURIComponent(sha!), rate),
    );
    github.addRoute('GET', new RegExp(`${prefix}/commits/([^/]+)$`), (_request, [ref], rate) =>
      this.commit(decodeURIComponent(ref!), rate),
    );
    github.addRoute('GET', new RegExp(`${prefix}/contents/(.+)$`), (request, [path], rate) =>
      this.contents(request, decodeURIComponent(path!), rate),
    );
  }

  /** A pull request, open unless a state or merge commit is given. */
  addPull(input: PullInput): Pull {
    const number = input.number ?? Math.max(0, ...this.pulls.keys()) + 1;
    const now = this.github.now().toISOString();
    const base = `${this.github.url}/repos/${this.owner}/${this.name}`;
    const merged = input.mergeCommitSha !== undefined;
    const pull = {
      id: 7_000_000 + number,
      node_id: `PR_${number}`,
      url: `${base}/pulls/${number}`,
      html_url: `https://github.test/${this.owner}/${this.name}/pull/${number}`,
      diff_url: `https://github.test/${this.owner}/${this.name}/pull/${number}.diff`,
      patch_url: `https://github.test/${this.owner}/${this.name}/pull/${number}.patch`,
      issue_url: `${base}/issues/${number}`,
      commits_url: `${base}/pulls/${number}/commits`,
      review_comments_url: `${base}/pulls/${number}/comments`,
      review_comment_url: `${base}/pulls/comments{/number}`,
      comments_url: `${base}/issues/${number}/comments`,
      statuses_url: `${base}/statuses/${input.headSha}`,
      number,
      state: input.state ?? (merged ? 'closed' : 'open'),
      locked: false,
      title: input.title ?? `change ${number}`,
      user: this.github.user(input.author),
      body: input.body === undefined ? `Change ${number}.` : input.body,
      labels: (input.labels ?? []).map((label, i) => ({
        id: 900 + i,
        node_id: `LA_${label}`,
        url: `${base}/labels/${encodeURIComponent(label)}`,
        name: label,
        description: null,
        color: 'ededed',
        default: false,
      })),
      milestone: null,
      active_lock_reason: null,
      created_at: now,
      updated_at: now,
      closed_at: merged || input.state === 'closed' ? now : null,
      merged_at: merged ? now : null,
      merge_commit_sha: input.mergeCommitSha ?? null,
      assignee: null,
      assignees: [],
      requested_reviewers: [],
      requested_teams: [],
      head: {
        label: `${this.owner}:${input.headRef ?? `change-${number}`}`,
        ref: input.headRef ?? `change-${number}`,
        sha: input.headSha,
        user: this.github.user(this.owner),
        repo: null,
      },
      base: {
        label: `${this.owner}:${input.baseRef ?? 'main'}`,
        ref: input.baseRef ?? 'main',
        sha: '0'.repeat(40),
        user: this.github.user(this.owner),
        repo: null,
      },
      _links: {},
      author_association: 'MEMBER',
      auto_merge: null,
      draft: input.draft ?? false,
      merged,
      mergeable: null,
      rebaseable: null,
      mergeable_state: 'unknown',
      merged_by: null,
      comments: 0,
      review_comments: 0,
      maintainer_can_modify: false,
      commits: (input.commits?.length ?? 0) + 1,
      additions: 0,
      deletions: 0,
      changed_files: input.files?.length ?? 0,
    } as unknown as Pull;
    const files = (input.files ?? []).map((file, index) => this.file(number, index, file));
    const commits = new Set([...(input.commits ?? []), input.headSha]);
    if (input.mergeCommitSha !== undefined) commits.add(input.mergeCommitSha);
    this.pulls.set(number, { pull, files, reviews: [], commits });
    return pull;
  }

  /** A new commit pushed to the PR: its head moves (reviews stay on the commits they were made on). */
  push(number: number, sha: string): this {
    const stored = this.stored(number);
    stored.pull.head.sha = sha;
    stored.commits.add(sha);
    stored.pull.updated_at = this.github.now().toISOString();
    return this;
  }

  /** Edits a PR's body or labels, as a person does in the web UI after the event fired. */
  edit(number: number, patch: { body?: string | null; labels?: string[] }): this {
    const stored = this.stored(number);
    if (patch.body !== undefined) stored.pull.body = patch.body;
    if (patch.labels !== undefined) {
      stored.pull.labels = patch.labels.map(
        (label, i) => ({ id: 900 + i, node_id: `LA_${label}`, name: label }) as Pull['labels'][number],
      );
    }
    stored.pull.updated_at = this.github.now().toISOString();
    return this;
  }

  /** A review, submitted now (or at submittedAt) on the given commit or the current head. */
  addReview(number: number, input: ReviewInput): Review {
    const stored = this.stored(number);
    const id = this.nextReviewId++;
    const review = {
      id,
      node_id: `PRR_${id}`,
      user: this.github.user(input.login),
      body: input.body ?? '',
      state: input.state,
      html_url: `${stored.pull.html_url}#pullrequestreview-${id}`,
      pull_request_url: stored.pull.url,
      _links: { html: { href: `${stored.pull.html_url}#pullrequestreview-${id}` }, pull_request: { href: '' } },
      submitted_at: input.submittedAt ?? this.github.now().toISOString(),
      commit_id: input.commitId ?? stored.pull.head.sha,
      author_association: 'MEMBER',
    } as Review;
    stored.reviews.push(review);
    return review;
  }

  /** A file's text at a ref (a branch or a commit), as the contents API serves it. */
  setFile(path: string, ref: string, text: string): this {
    this.files.set(`${ref}:${path}`, text);
    return this;
  }

  /** A branch or tag pointing at a commit (GET /commits/:ref answers with the commit). */
  setRef(ref: string, sha: string): this {
    this.refs.set(ref, sha);
    return this;
  }

  private stored(number: number): StoredPull {
    const stored = this.pulls.get(number);
    if (!stored) throw new Error(`no pull request ${this.owner}/${this.name}#${number}`);
    return stored;
  }

  private file(number: number, index: number, input: string | PullFileInput): DiffEntry {
    const file = typeof input === 'string' ? { filename: input } : input;
    const additions = file.additions ?? 1;
    const deletions = file.deletions ?? 0;
    return {
      sha: `${String(number).padStart(8, '0')}${String(index).padStart(32, '0')}`,
      filename: file.filename,
      status: file.status ?? (file.previousFilename === undefined ? 'modified' : 'renamed'),
      additions,
      deletions,
      changes: additions + deletions,
      blob_url: `https://github.test/${this.owner}/${this.name}/blob/x/${file.filename}`,
      raw_url: `https://github.test/${this.owner}/${this.name}/raw/x/${file.filename}`,
      contents_url: `${this.github.url}/repos/${this.owner}/${this.name}/contents/${file.filename}`,
      ...(file.previousFilename === undefined ? {} : { previous_filename: file.previousFilename }),
    };
  }

  private withPull(
    number: string,
    rate: Record<string, string>,
    then: (stored: StoredPull) => ScriptedResponse,
  ): ScriptedResponse {
    const stored = this.pulls.get(Number(number));
    return stored ? then(stored) : this.github.notFound(rate);
  }

  /**
   * The PRs that hold a commit, as full PR objects. A commit no PR of this extension holds gets the
   * built-in answer (the authors given with fake.setCommit), in the same shape.
   */
  private pullsOf(request: RecordedRequest, sha: string, rate: Record<string, string>): ScriptedResponse {
    const holding = [...this.pulls.values()].filter((stored) => stored.commits.has(sha)).map((stored) => stored.pull);
    if (holding.length > 0) return this.github.list(request, rate, holding, 'oldest-first');
    const authors = this.github.commits.get(`${this.owner}/${this.name}/${sha}`)?.pulls ?? [];
    return this.github.list(
      request,
      rate,
      authors.map((login, i) => ({ number: i + 1, state: 'closed', user: this.github.user(login) })),
    );
  }

  /** A commit by SHA or by a ref set with setRef; a SHA only fake.setCommit knows is answered as the built-in route does. */
  private commit(ref: string, rate: Record<string, string>): ScriptedResponse {
    const sha = this.refs.get(ref) ?? ref;
    const known = this.github.commits.get(`${this.owner}/${this.name}/${sha}`);
    const held = [...this.pulls.values()].some((stored) => stored.commits.has(sha));
    if (!known && !held && !this.refs.has(ref)) {
      return { status: 422, headers: rate, body: { message: `No commit found for SHA: ${ref}` } };
    }
    const author = known ? known.author : 'dev';
    const committer = known ? known.committer : 'web-flow';
    return {
      headers: rate,
      body: {
        sha,
        html_url: `https://github.test/${this.owner}/${this.name}/commit/${sha}`,
        author: author === null ? null : this.github.user(author),
        committer: committer === null ? null : this.github.user(committer),
        commit: {
          message: 'change',
          author: { name: 'x', email: 'x@example.com' },
          // Only for a commit given a date, as the fake GitHub answers it.
          ...(known?.date === undefined ? {} : { committer: { name: 'x', email: 'x@example.com', date: known.date } }),
        },
      },
    };
  }

  private contents(request: RecordedRequest, path: string, rate: Record<string, string>): ScriptedResponse {
    const ref = request.url.searchParams.get('ref') ?? 'main';
    const text = this.files.get(`${ref}:${path}`);
    if (text === undefined) return this.github.notFound(rate);
    const content = Buffer.from(text, 'utf8').toString('base64');
    const name = path.split('/').pop() ?? path;
    const url = `${this.github.url}/repos/${this.owner}/${this.name}/contents/${path}?ref=${encodeURIComponent(ref)}`;
    return this.github.conditional(request, rate, {
      type: 'file',
      encoding: 'base64',
      size: Buffer.byteLength(text),
      name,
      path,
      // GitHub wraps the base64 text at 60 characters a line.
      content: (content.match(/.{1,60}/g) ?? []).join('\n') + '\n',
      sha: Buffer.from(`${ref}:${path}`).toString('hex').padEnd(40, '0').slice(0, 40),
      url,
      git_url: null,
      html_url: `https://github.test/${this.owner}/${this.name}/blob/${ref}/${path}`,
      download_url: null,
      _links: { self: url, git: null, html: null },
    });
  }
}
