import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { FakeGitHub } from '../../../test/fakes/github.ts';
import { FakeCommitComments } from '../../../test/fakes/github-comments.ts';
import { fakeClock } from '../../../test/helpers/fake-clock.ts';
import { createGitHubClient, type GitHubClient } from '../../github/src/index.ts';
import { DeliveryError } from '../src/channel.ts';
import {
  gitHubCommentChannel,
  gitHubCommentMarker,
  renderGitHubComment,
  type GitHubCommentConfig,
  type GitHubCommentTarget,
} from '../src/channels/github.ts';
import type { DeploymentMessage, Status } from '../src/message.ts';
import { newThread, type ThreadState } from '../src/thread.ts';
import { CHECKOUT_DEPLOYMENT, CHECKOUT_STARTED as STARTED, messageFactory, sendContext } from './support.ts';

const repo = { owner: 'acme', repo: 'service' };
const SHA = 'c0ffee'.padEnd(40, '1');
const TITLE = 'Fix "checkout" `total`\nfor <!channel> @someone *now* [x](https://evil.test) | <script>x</script> #12';
const FIVE: Status[] = ['started', 'approved', 'switched', 'verified', 'succeeded'];

const messageOf = messageFactory((status) => ({
  ...CHECKOUT_DEPLOYMENT,
  sha: SHA,
  title: TITLE,
  details: 'migrations: 2 applied\n@ops please `watch` </details> the dashboard',
  at: `2026-11-27T10:0${FIVE.indexOf(status) + 1}:00Z`,
}));

let github: FakeGitHub;
let commits: FakeCommitComments;
let client: GitHubClient;
let pr: number;

beforeAll(async () => {
  github = await FakeGitHub.start();
  commits = new FakeCommitComments(github);
});
afterAll(() => github.close());
afterEach(() => {
  jest.restoreAllMocks();
});
beforeEach(() => {
  jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  client = createGitHubClient({ token: github.token, baseUrl: github.url, retries: 0, minWriteIntervalMs: 0 });
  pr = github.addIssue(repo.owner, repo.repo, { title: 'Release 1.4.2', login: 'dev' }).number;
  github.server.requests.length = 0;
});

function contextOf(message: DeploymentMessage, thread: ThreadState) {
  return sendContext(message, thread, { audience: 'engineers' });
}

function channelOf(target: GitHubCommentTarget, extra: Partial<GitHubCommentConfig> = {}) {
  return gitHubCommentChannel({ octokit: client, repo, target, appBot: 'deploy-bot[bot]', ...extra });
}

/** Sends one stage the way the caller does: the stage joins the thread's timeline, the state is kept. */
async function stage(thread: ThreadState, status: Status, target: GitHubCommentTarget = { kind: 'issue', number: pr }) {
  const message = messageOf(status);
  const withStage: ThreadState = {
    ...thread,
    stages: [...thread.stages, { status, at: message.at, severity: message.severity }],
  };
  const result = await channelOf(target).send(contextOf(message, withStage));
  return { result, thread: { ...withStage, github: result.state as ThreadState['github'] } };
}

const writes = () => github.requests.filter((r) => r.method !== 'GET');
const issueComments = () => github.comments.get(Number(github.issue(repo.owner, repo.repo, pr)!.id)) ?? [];

describe('one comment per deployment, edited in place', () => {
  it('five stages on a pull request: one comment posted, then edited, its timeline growing', async () => {
    let thread = newThread('acme/service:production:five', STARTED);
    for (const status of FIVE) ({ thread } = await stage(thread, status));
    expect(issueComments()).toHaveLength(1);
    const [comment] = issueComments();
    expect(writes().map((r) => `${r.method} ${r.path}`)).toEqual([
      `POST /repos/acme/service/issues/${pr}/comments`,
      ...FIVE.slice(1).map(() => `PATCH /repos/acme/service/issues/comments/${comment!.id}`),
    ]);
    const body = comment!.body!;
    expect(body.startsWith(gitHubCommentMarker(thread.key))).toBe(true);
    expect(body).toContain('### ✅ Deployment of checkout 1\\.4\\.2 to production succeeded');
    for (const word of ['started', 'approved', 'switched', 'verified', 'succeeded'])
      expect(body).toMatch(new RegExp(`^- .+ ${word} · `, 'm'));
    expect(body).toContain('| Backup | bk\\-20261127 |');
    expect(body).toContain('[Workflow run](https://github.test/acme/service/actions/runs/7)');
    expect(thread.github).toMatchObject({
      kind: 'issue',
      commentId: Number(comment!.id),
      target: String(pr),
      sent: FIVE,
    });
  });

  it('the same stage sent twice makes no request', async () => {
    const first = await stage(newThread('k-twice', STARTED), 'started');
    const before = github.requests.length;
    const again = await channelOf({ kind: 'issue', number: pr }).send(contextOf(messageOf('started'), first.thread));
    expect(again).toMatchObject({ outcome: 'unchanged', attempts: 0 });
    expect(github.requests.length).toBe(before);
  });

  it('a re-run that lost the thread state finds its comment by the marker and edits it, ignoring a lookalike', async () => {
    const key = 'acme/service:production:lost';
    // Someone else pasted the marker first: not the suite's comment.
    github.addComment(repo.owner, repo.repo, pr, {
      login: 'mallory',
      body: `${gitHubCommentMarker(key)}\nlooks like it`,
    });
    const first = await stage(newThread(key, STARTED), 'started');
    const ownId = first.thread.github!.commentId;
    expect(issueComments()).toHaveLength(2);

    github.server.requests.length = 0;
    const rerun = await stage(newThread(key, STARTED), 'switched');
    expect(rerun.result.outcome).toBe('delivered');
    expect(rerun.result.detail).toBe(`found comment ${ownId} on acme/service#${pr} by its marker and edited it`);
    expect(writes().map((r) => `${r.method} ${r.path}`)).toEqual([
      `PATCH /repos/acme/service/issues/comments/${ownId}`,
    ]);
    expect(issueComments().map((c) => c.user?.login)).toEqual(['mallory', 'deploy-bot[bot]']);
    expect(issueComments()[0]!.body).toContain('looks like it');
    expect(issueComments()[1]!.body).toContain('switched');
    expect(rerun.thread.github?.commentId).toBe(ownId);
  });

  it("a personal token's own login is read from GitHub", async () => {
    github.addUser('release-manager', 'ghp_releaseManagerToken000000000000000');
    client = createGitHubClient({
      token: 'ghp_releaseManagerToken000000000000000',
      baseUrl: github.url,
      retries: 0,
      minWriteIntervalMs: 0,
    });
    const key = 'k-personal';
    github.addComment(repo.owner, repo.repo, pr, {
      login: 'release-manager',
      body: `${gitHubCommentMarker(key)}\nold`,
    });
    const { result } = await stage(newThread(key, STARTED), 'started');
    expect(result.detail).toMatch(/by its marker and edited it/);
    expect(issueComments()).toHaveLength(1);
  });

  it('a comment deleted meanwhile is posted again, and the detail says so', async () => {
    const first = await stage(newThread('k-deleted', STARTED), 'started');
    github.deleteComment(first.thread.github!.commentId);
    const next = await stage(first.thread, 'switched');
    expect(next.result.detail).toMatch(
      new RegExp(
        `comment ${first.thread.github!.commentId} on acme/service#${pr} is gone or not this thread's own; posted comment \\d+ on`,
      ),
    );
    expect(issueComments()).toHaveLength(1);
    expect(next.thread.github!.commentId).toBe(Number(issueComments()[0]!.id));
  });

  it("never edits a comment a thread names that is not that thread's own (another thread's, on the same pull request)", async () => {
    const other = await stage(newThread('k-other-thread', STARTED), 'started');
    const otherBody = issueComments()[0]!.body;
    // A thread edited to point at the other thread's comment.
    const forged: ThreadState = {
      ...newThread('k-forged', STARTED),
      github: { ...other.thread.github!, sent: [] },
    };
    const next = await stage(forged, 'switched');
    expect(next.result.detail).toMatch(/is gone or not this thread's own; posted comment \d+ on/);
    expect(issueComments()).toHaveLength(2);
    expect(issueComments()[0]!.body).toBe(otherBody);
    expect(next.thread.github!.commentId).not.toBe(other.thread.github!.commentId);
  });

  it('commit comments: posted on the commit, edited in place, found again by the marker', async () => {
    const target = { kind: 'commit', sha: SHA } as const;
    let thread = newThread('k-commit', STARTED);
    ({ thread } = await stage(thread, 'started', target));
    ({ thread } = await stage(thread, 'switched', target));
    const list = commits.comments.get(`acme/service/${SHA}`)!;
    expect(list).toHaveLength(1);
    expect(list[0]!.body).toContain('switched');
    expect(thread.github).toMatchObject({ kind: 'commit', target: SHA, commentId: list[0]!.id });
    expect(writes().map((r) => `${r.method} ${r.path}`)).toEqual([
      `POST /repos/acme/service/commits/${SHA}/comments`,
      `PATCH /repos/acme/service/comments/${list[0]!.id}`,
    ]);
    const lost = await stage(newThread('k-commit', STARTED), 'succeeded', target);
    expect(lost.result.detail).toMatch(/by its marker and edited it/);
    expect(commits.comments.get(`acme/service/${SHA}`)).toHaveLength(1);
  });
});

describe('escaping', () => {
  it('a title with quotes, newlines, backticks, mentions and markdown can neither format, link nor ping', async () => {
    await stage(newThread('k-title', STARTED), 'started');
    const body = issueComments()[0]!.body!;
    expect(body).not.toMatch(/(^|[^&#\w])@(someone|ops)\b/);
    expect(body).toContain('@\u200bsomeone');
    expect(body).not.toContain('<!channel>');
    expect(body).not.toContain('<script>');
    expect(body).not.toContain('](https://evil.test)');
    expect(body).not.toMatch(/(^|[^\\])`/);
    expect(body).not.toMatch(/(^|[^\\])#12/);
    // The title stays on one line, and the details cannot close their block early.
    expect(body).toContain('Fix "checkout" \\`total\\` for \\<\\!channel\\> @\u200bsomeone');
    expect(body.match(/<\/details>/g)).toHaveLength(1);
    // Every table row still has exactly its three cell borders.
    for (const line of body.split('\n').filter((l) => l.startsWith('| '))) {
      expect(line.replace(/\\\|/g, '').match(/\|/g)).toHaveLength(3);
    }
  });

  it('rendering is stable: the same stage renders the same body', () => {
    const thread = newThread('k', STARTED);
    expect(renderGitHubComment(contextOf(messageOf('started'), thread))).toBe(
      renderGitHubComment(contextOf(messageOf('started'), thread)),
    );
  });
});

describe('failures', () => {
  it('403 explains the permission to grant, without the token', async () => {
    github.inject('POST', /\/issues\/\d+\/comments$/, {
      status: 403,
      body: { message: 'Resource not accessible by integration', documentation_url: 'https://docs.github.com/rest' },
    });
    const error = await stage(newThread('k-403', STARTED), 'started').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as Error).message).toMatch(/"pull-requests: write".*"issues: write"/);
    expect((error as Error).message).not.toContain(github.token);
  });

  it('403 on a commit names contents: write', async () => {
    github.inject('POST', /\/commits\/[0-9a-f]+\/comments$/, {
      status: 403,
      body: { message: 'Resource not accessible by integration' },
    });
    await expect(stage(newThread('k-403c', STARTED), 'started', { kind: 'commit', sha: SHA })).rejects.toThrow(
      /"contents: write"/,
    );
  });

  it('a 502 on a post that landed all the same is found, not posted twice', async () => {
    github.inject(
      'POST',
      /\/issues\/\d+\/comments$/,
      { status: 502, body: { message: 'Bad Gateway' } },
      { landed: true },
    );
    const { result } = await stage(newThread('k-502', STARTED), 'started');
    expect(result.outcome).toBe('delivered');
    expect(issueComments()).toHaveLength(1);
    expect(result.state).toMatchObject({ commentId: Number(issueComments()[0]!.id) });
  });

  it('a rate limit with Retry-After is waited out', async () => {
    const clock = fakeClock();
    client = createGitHubClient({
      token: github.token,
      baseUrl: github.url,
      retries: 0,
      minWriteIntervalMs: 0,
      clock,
      deadline: 60_000,
    });
    github.secondaryRateLimit('POST', /\/issues\/\d+\/comments$/, 2);
    const { result } = await stage(newThread('k-429', STARTED), 'started');
    expect(result.outcome).toBe('delivered');
    expect(clock.sleeps).toContain(2000);
    expect(issueComments()).toHaveLength(1);
  });

  it('a persistent 500 ends in a DeliveryError after bounded attempts', async () => {
    client = createGitHubClient({
      token: github.token,
      baseUrl: github.url,
      retries: 2,
      retryBaseMs: 1,
      minWriteIntervalMs: 0,
    });
    for (let i = 0; i < 5; i++)
      github.inject('GET', /\/issues\/\d+\/comments$/, { status: 500, body: { message: 'Server Error' } });
    const error = await stage(newThread('k-500', STARTED), 'started').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as Error).message).toMatch(/GitHub API: listing the comments of acme\/service#\d+ failed: 500/);
    expect(github.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/comments'))).toHaveLength(3);
    expect(issueComments()).toHaveLength(0);
  });
});
