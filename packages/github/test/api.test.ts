import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { FakeGitHub } from '../../../test/fakes/github.ts';
import { fakeClock } from '../../../test/helpers/fake-clock.ts';
import {
  addLabels,
  createGitHubClient,
  dispatchWorkflow,
  ensureMarkedIssue,
  findMarkedIssue,
  getCollaboratorPermission,
  GitHubApiError,
  listIssueComments,
  listTeamMembers,
  PageCache,
  pollIssueComments,
  readEventContext,
  readStateBlock,
  updateMarkedIssue,
  withStateBlock,
  type GitHubClient,
  type GitHubClientOptions,
} from '../src/index.ts';

let github: FakeGitHub;
let client: GitHubClient;
const repo = { owner: 'acme', repo: 'service' };
const marker = { label: 'change-request', key: 'production@abc123' };

beforeAll(async () => {
  github = await FakeGitHub.start();
});
afterAll(() => github.close());
beforeEach(() => {
  jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  github.requests.length = 0;
  client = clientWith();
});
afterEach(() => {
  jest.restoreAllMocks();
});

function clientWith(options: Partial<GitHubClientOptions> = {}): GitHubClient {
  return createGitHubClient({
    token: github.token,
    baseUrl: github.url,
    retryBaseMs: 10,
    minWriteIntervalMs: 0,
    ...options,
  });
}

const requestsTo = (method: string, path: RegExp) =>
  github.requests.filter((r) => r.method === method && path.test(r.path));

/** An issue with `count` comments by alice, bob and carol in turn; comment `at` (1-based) says `body`. */
function issueWithComments(count: number, at: number, body: string): number {
  const issue = github.addIssue(repo.owner, repo.repo, { title: `deploy ${count}` });
  const people = ['alice', 'bob', 'carol'];
  for (let i = 1; i <= count; i++) {
    github.addComment(repo.owner, repo.repo, issue.number, {
      login: i === at ? 'dana' : people[i % 3]!,
      body: i === at ? body : `note ${i}`,
    });
  }
  return issue.number;
}

describe('issue comments', () => {
  it('reads every page: the comment at position 120 of 150 is found, with its author and times', async () => {
    const number = issueWithComments(150, 120, 'approve');
    const comments = await listIssueComments(client, repo, number);
    expect(comments).toHaveLength(150);
    expect(comments.findIndex((c) => c.body === 'approve')).toBe(119);
    expect(comments[119]).toMatchObject({ author: { login: 'dana', type: 'User' }, edited: false });
    expect(comments[119]!.createdAt).toBe(comments[119]!.updatedAt);
    expect(requestsTo('GET', /\/comments$/).map((r) => r.url.searchParams.get('page') ?? '1')).toEqual(['1', '2']);
  });

  it('tells an edited comment apart: edited by someone else, it keeps its author but not its updated_at', async () => {
    let now = Date.parse('2026-11-27T09:00:00Z');
    github.now = () => new Date(now);
    try {
      const number = issueWithComments(3, 2, 'deny');
      now += 60_000;
      const [, target] = github.comments.get(Number(github.issue(repo.owner, repo.repo, number)!.id))!;
      // Anyone with write access can edit a comment through the API; the fake's token user does it here.
      await client.rest.issues.updateComment({ ...repo, comment_id: Number(target!.id), body: 'approve' });
      const comments = await listIssueComments(client, repo, number);
      expect(comments[1]).toMatchObject({ body: 'approve', author: { login: 'dana' }, edited: true });
      expect(comments[1]!.updatedAt).toBe('2026-11-27T09:01:00.000Z');
      expect(comments[0]!.edited).toBe(false);
    } finally {
      github.now = () => new Date();
    }
  });

  it('a comment by a bot says so', async () => {
    const issue = github.addIssue(repo.owner, repo.repo, { title: 'bots' });
    github.addComment(repo.owner, repo.repo, issue.number, { login: 'renovate[bot]', body: 'approve' });
    const [comment] = await listIssueComments(client, repo, issue.number);
    expect(comment?.author).toEqual({ login: 'renovate[bot]', type: 'Bot' });
  });

  it('polls every page with ETags: unchanged pages are 304s that cost no rate limit, an edit on page 2 is seen', async () => {
    const number = issueWithComments(150, 120, 'approve');
    const cache = new PageCache();
    const first = await pollIssueComments(client, repo, number, cache);
    expect(first).toMatchObject({ changed: true, requests: 2, notModified: 0 });
    expect(first.items).toHaveLength(150);

    const remaining = github.rateLimitRemaining;
    const second = await pollIssueComments(client, repo, number, cache);
    expect(second).toMatchObject({ changed: false, requests: 2, notModified: 2 });
    expect(second.items).toEqual(first.items);
    expect(github.rateLimitRemaining).toBe(remaining);
    expect(
      requestsTo('GET', /\/comments$/)
        .slice(-2)
        .every((r) => r.headers['if-none-match'] !== undefined),
    ).toBe(true);

    const id = first.items[119]!.id;
    github.editComment(id, 'approve (edited)');
    const third = await pollIssueComments(client, repo, number, cache);
    expect(third).toMatchObject({ changed: true, requests: 2, notModified: 1 });
    expect(third.items[119]).toMatchObject({ id, body: 'approve (edited)' });
    expect(github.rateLimitRemaining).toBe(remaining - 1);
  });

  it('a deleted comment is gone from the next poll', async () => {
    const number = issueWithComments(5, 3, 'approve');
    const cache = new PageCache();
    const first = await pollIssueComments(client, repo, number, cache);
    github.deleteComment(first.items[2]!.id);
    const second = await pollIssueComments(client, repo, number, cache);
    expect(second.changed).toBe(true);
    expect(second.items.map((c) => c.body)).not.toContain('approve');
  });
});

describe('rate limits and failures', () => {
  it('waits out a secondary rate limit on the injected clock, for as long as Retry-After says', async () => {
    const clock = fakeClock();
    const warnings: string[] = [];
    client = clientWith({ clock, log: { warn: (m) => warnings.push(m) } });
    const number = issueWithComments(2, 1, 'approve');
    github.secondaryRateLimit('GET', /\/comments$/, 45, 429);
    const started = Date.now();
    const comments = await listIssueComments(client, repo, number);
    expect(comments).toHaveLength(2);
    expect(clock.sleeps).toEqual([45_000]);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(requestsTo('GET', /\/comments$/)).toHaveLength(2);
    expect(warnings[0]).toMatch(/secondary rate limit on GET .*retrying in 45 s/);
  });

  it('refuses a rate-limit wait that would pass the deadline: one clear error, no wait', async () => {
    const clock = fakeClock();
    client = clientWith({ clock, deadline: clock.now() + 30_000 });
    const number = issueWithComments(2, 1, 'approve');
    github.secondaryRateLimit('GET', /\/comments$/, 60);
    const error = await listIssueComments(client, repo, number).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitHubApiError);
    expect((error as GitHubApiError).status).toBe(403);
    expect((error as Error).message).toMatch(
      /listing the comments of acme\/service#\d+ failed: 403 .*secondary rate limit/,
    );
    expect((error as Error).message).toMatch(/deadline.*re-run/);
    expect((error as Error).message).not.toContain(github.token);
    expect(clock.sleeps).toEqual([]);
    expect(requestsTo('GET', /\/comments$/)).toHaveLength(1);
  });

  it('waits for the primary rate limit to reset on the injected clock, and refuses when the reset is past the deadline', async () => {
    const number = issueWithComments(1, 1, 'approve');
    const exhausted = () =>
      github.inject('GET', /\/comments$/, {
        status: 403,
        headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 20) },
        body: { message: 'API rate limit exceeded for installation ID 1.' },
      });
    let clock = fakeClock();
    client = clientWith({ clock, deadline: clock.now() + 60_000 });
    exhausted();
    expect(await listIssueComments(client, repo, number)).toHaveLength(1);
    expect(clock.sleeps).toHaveLength(1);
    expect(clock.sleeps[0]).toBeGreaterThanOrEqual(19_000);
    expect(clock.sleeps[0]).toBeLessThanOrEqual(22_000);

    clock = fakeClock();
    client = clientWith({ clock, deadline: clock.now() + 10_000 });
    exhausted();
    const error = await listIssueComments(client, repo, number).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/403 API rate limit exceeded.*deadline/);
    expect(clock.sleeps).toEqual([]);
  });

  it('bad credentials: a clear error naming the token input, without the token', async () => {
    const number = issueWithComments(1, 1, 'approve');
    client = createGitHubClient({ token: 'ghp_notavalidtoken42', baseUrl: github.url });
    const error = await listIssueComments(client, repo, number).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitHubApiError);
    expect((error as GitHubApiError).status).toBe(401);
    expect((error as Error).message).toMatch(/401 Bad credentials.*check the token input/);
    expect((error as Error).message).not.toContain('ghp_notavalidtoken42');
    expect(requestsTo('GET', /\/comments$/)).toHaveLength(1);
  });

  it('a write meets a secondary rate limit, waits on the clock and lands once', async () => {
    const clock = fakeClock();
    client = clientWith({ clock });
    github.secondaryRateLimit('POST', /\/dispatches$/, 5);
    const before = github.dispatches.length;
    await dispatchWorkflow(client, repo, { workflow: 'deploy.yml', ref: 'main' });
    expect(github.dispatches.length - before).toBe(1);
    expect(clock.sleeps).toEqual([5_000]);
  });

  it('never retries a workflow dispatch after a 502: one request, and the error says to look before re-trying', async () => {
    const before = github.dispatches.length;
    github.inject('POST', /\/dispatches$/, { status: 502, body: { message: 'Bad gateway' } }, { landed: true });
    const error = await dispatchWorkflow(client, repo, { workflow: 'deploy.yml', ref: 'main' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GitHubApiError);
    expect((error as GitHubApiError).status).toBe(502);
    expect((error as Error).message).toMatch(
      /dispatching workflow deploy\.yml .*502 Bad gateway.*may have landed.*Actions tab/,
    );
    expect(requestsTo('POST', /\/dispatches$/)).toHaveLength(1);
    // It had landed: exactly one run was started, none by a replay.
    expect(github.dispatches.length - before).toBe(1);
  });

  it('a dispatch whose connection dies is not sent again: no answer, and the error says it may have landed', async () => {
    const before = github.dispatches.length;
    github.inject('POST', /\/dispatches$/, { reset: true }, { landed: true });
    const error = await dispatchWorkflow(client, repo, { workflow: 'deploy.yml', ref: 'main' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GitHubApiError);
    expect((error as GitHubApiError).status).toBeUndefined();
    expect((error as Error).message).toMatch(/no answer.*may have landed/);
    expect(requestsTo('POST', /\/dispatches$/)).toHaveLength(1);
    expect(github.dispatches.length - before).toBe(1);
  });

  it('without a deadline, a wait longer than the cap (15 minutes) is refused rather than slept', async () => {
    const clock = fakeClock();
    client = clientWith({ clock });
    const number = issueWithComments(1, 1, 'approve');
    github.secondaryRateLimit('GET', /\/comments$/, 3600);
    const error = await listIssueComments(client, repo, number).catch((e: unknown) => e);
    expect((error as GitHubApiError).status).toBe(403);
    expect(clock.sleeps).toEqual([]);
  });

  it('retries a read after a 502 and reports a read that keeps failing as GitHub trouble', async () => {
    const number = issueWithComments(1, 1, 'approve');
    github.inject('GET', /\/comments$/, { status: 502, body: { message: 'Bad gateway' } });
    expect(await listIssueComments(client, repo, number)).toHaveLength(1);
    for (let i = 0; i < 4; i++) github.inject('GET', /\/comments$/, { status: 503, body: { message: 'Unavailable' } });
    const error = await listIssueComments(client, repo, number).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/503 Unavailable.*githubstatus/);
  });

  it('spaces writes on the injected clock when asked', async () => {
    const clock = fakeClock();
    client = clientWith({ clock, minWriteIntervalMs: 1000 });
    await dispatchWorkflow(client, repo, { workflow: 'a.yml', ref: 'main' });
    await dispatchWorkflow(client, repo, { workflow: 'b.yml', ref: 'main' });
    expect(clock.sleeps).toEqual([1000]);
  });
});

describe('teams, permissions, dispatches', () => {
  it('lists every member of a team across pages', async () => {
    const members = Array.from({ length: 230 }, (_, i) => `member-${i}`);
    github.setTeam('acme', 'release-approvers', members);
    const listed = await listTeamMembers(client, 'acme', 'release-approvers');
    expect(listed).toEqual(members);
    const gets = requestsTo('GET', /\/members$/);
    expect(gets).toHaveLength(3);
    expect(gets[0]!.url.searchParams.get('per_page')).toBe('100');
  });

  it('a team it cannot see is a clear error naming the team and the permission to grant', async () => {
    const error = await listTeamMembers(client, 'acme', 'no-such-team').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitHubApiError);
    expect((error as Error).message).toMatch(/acme\/no-such-team.*members: read/);
  });

  it('reads a collaborator permission now: write and maintain can write, triage cannot, a stranger has none', async () => {
    github.setRole('acme', 'service', 'alice', 'write');
    github.setRole('acme', 'service', 'bob', 'maintain');
    github.setRole('acme', 'service', 'carol', 'triage');
    expect(await getCollaboratorPermission(client, repo, 'alice')).toEqual({
      permission: 'write',
      roleName: 'write',
      canWrite: true,
    });
    expect(await getCollaboratorPermission(client, repo, 'bob')).toMatchObject({
      roleName: 'maintain',
      canWrite: true,
    });
    expect(await getCollaboratorPermission(client, repo, 'carol')).toMatchObject({
      permission: 'read',
      canWrite: false,
    });
    expect(await getCollaboratorPermission(client, repo, 'mallory')).toEqual({
      permission: 'none',
      roleName: 'none',
      canWrite: false,
    });
    github.setRole('acme', 'service', 'alice', undefined);
    expect((await getCollaboratorPermission(client, repo, 'alice')).canWrite).toBe(false);
  });

  it('records a workflow dispatch once, with its ref and inputs', async () => {
    const before = github.dispatches.length;
    await dispatchWorkflow(client, repo, {
      workflow: 'deploy.yml',
      ref: 'main',
      inputs: { 'change-request': '12', sha: 'abc123', 'evidence-hash': 'sha256:ff' },
    });
    expect(github.dispatches.slice(before)).toEqual([
      expect.objectContaining({
        workflow: 'deploy.yml',
        ref: 'main',
        inputs: { 'change-request': '12', sha: 'abc123', 'evidence-hash': 'sha256:ff' },
      }),
    ]);
    expect(requestsTo('POST', /\/dispatches$/)).toHaveLength(1);
  });
});

describe('issues found by a marker', () => {
  const other = { owner: 'acme', repo: 'marked' };

  it('opens the issue once; a re-run finds and reuses it', async () => {
    const first = await ensureMarkedIssue(client, other, marker, {
      title: 'Deploy abc123 to production',
      body: 'Change request',
      data: { sha: 'abc123', approvals: [] },
      labels: ['env:production', 'risk:low'],
    });
    expect(first.created).toBe(true);
    expect(first.issue.labels).toEqual(['change-request', 'env:production', 'risk:low']);
    expect(first.issue.data).toEqual({ sha: 'abc123', approvals: [] });
    const again = await ensureMarkedIssue(client, other, marker, { title: 'x', body: 'y', data: {} });
    expect(again).toEqual({ issue: first.issue, created: false });
    expect(requestsTo('POST', /\/issues$/)).toHaveLength(1);
    expect(github.issues.get('acme/marked')).toHaveLength(1);
  });

  it('a create whose answer was lost is looked for, not sent again', async () => {
    const lost = { owner: 'acme', repo: 'lost' };
    github.inject('POST', /\/issues$/, { status: 502, body: { message: 'Bad gateway' } }, { landed: true });
    const { issue, created } = await ensureMarkedIssue(client, lost, marker, { title: 't', body: 'b', data: 1 });
    expect(created).toBe(true);
    expect(issue.data).toBe(1);
    expect(requestsTo('POST', /\/issues$/)).toHaveLength(1);
    expect(github.issues.get('acme/lost')).toHaveLength(1);
  });

  it('a create that failed and did not land is a clear error', async () => {
    const failed = { owner: 'acme', repo: 'failed' };
    github.inject('POST', /\/issues$/, { status: 502, body: { message: 'Bad gateway' } });
    const error = await ensureMarkedIssue(client, failed, marker, { title: 't', body: 'b', data: 1 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GitHubApiError);
    expect((error as Error).message).toMatch(/opening the issue "t" in acme\/failed failed: 502/);
    expect(github.issues.get('acme/failed') ?? []).toHaveLength(0);
  });

  it('ignores a lookalike opened by someone else when the author is named', async () => {
    const spoofed = { owner: 'acme', repo: 'spoofed' };
    github.addIssue(spoofed.owner, spoofed.repo, {
      title: 'looks right',
      body: withStateBlock('', marker.key, { approved: true }),
      labels: [marker.label],
      login: 'mallory',
    });
    const mine = { ...marker, author: 'deploy-bot[bot]' };
    expect(await findMarkedIssue(client, spoofed, mine)).toBeUndefined();
    const { issue, created } = await ensureMarkedIssue(client, spoofed, mine, { title: 'real', body: '', data: {} });
    expect(created).toBe(true);
    expect(issue.author).toBe('deploy-bot[bot]');
    expect(await findMarkedIssue(client, spoofed, mine)).toMatchObject({ number: issue.number });
  });

  it('when two runs raced, the newer twin is closed as a duplicate and the older one used', async () => {
    const raced = { owner: 'acme', repo: 'raced' };
    // The other run's issue lands between our look and our create.
    github.inject('GET', /\/issues$/, { status: 200, body: [] });
    const older = github.addIssue(raced.owner, raced.repo, {
      title: 'other run',
      body: withStateBlock('', marker.key, 'theirs'),
      labels: [marker.label],
    });
    const { issue, created } = await ensureMarkedIssue(client, raced, marker, {
      title: 'ours',
      body: '',
      data: 'ours',
    });
    expect(created).toBe(false);
    expect(issue.number).toBe(older.number);
    expect(github.issue(raced.owner, raced.repo, older.number + 1)?.state).toBe('closed');
  });

  it('two runs at once end with one open issue, and both use it', async () => {
    const both = { owner: 'acme', repo: 'both' };
    const runs = await Promise.all(
      ['first', 'second'].map((run) =>
        ensureMarkedIssue(clientWith(), both, marker, { title: run, body: '', data: run }),
      ),
    );
    expect(new Set(runs.map((r) => r.issue.number)).size).toBe(1);
    const open = github.issues.get('acme/both')!.filter((issue) => issue.state === 'open');
    expect(open).toHaveLength(1);
    expect(open[0]!.number).toBe(runs[0]!.issue.number);
    // Both looked before either created: the race was real, and the twin was closed as a duplicate.
    expect(requestsTo('POST', /\/issues$/)).toHaveLength(2);
    expect(github.issues.get('acme/both')).toHaveLength(2);
  });

  it('updates the block in place, keeping the body, and reads it back; labels add up', async () => {
    const { issue } = await ensureMarkedIssue(client, { owner: 'acme', repo: 'update' }, marker, {
      title: 'Deploy',
      body: 'Human text',
      data: { step: 'request' },
    });
    const target = { owner: 'acme', repo: 'update' };
    const updated = await updateMarkedIssue(client, target, issue.number, marker.key, {
      data: { step: 'approved', note: 'ends with --> and <b>' },
      state: 'closed',
    });
    expect(updated).toMatchObject({ state: 'closed', data: { step: 'approved', note: 'ends with --> and <b>' } });
    expect(updated.body.startsWith('Human text')).toBe(true);
    expect(updated.body.match(/deploy-suite:state/g)).toHaveLength(1);
    await addLabels(client, target, issue.number, ['outcome:success', 'change-request']);
    expect((await findMarkedIssue(client, target, marker))?.labels).toEqual(['change-request', 'outcome:success']);
  });

  it('a block that does not parse, or has no key, is no block', () => {
    expect(readStateBlock('<!-- deploy-suite:state {"key": nope} -->')).toBeUndefined();
    expect(readStateBlock('<!-- deploy-suite:state {"data": 1} -->')).toBeUndefined();
    expect(readStateBlock('plain')).toBeUndefined();
    expect(readStateBlock(withStateBlock('a', 'k', [1, '-->']))).toEqual({ key: 'k', data: [1, '-->'] });
  });
});

describe('event context', () => {
  it('reads the actor and the triggering actor, which differ on a re-run', () => {
    const source = { eventName: 'workflow_dispatch', actor: 'alice', payload: {} };
    expect(readEventContext(source, { GITHUB_TRIGGERING_ACTOR: 'bob' })).toMatchObject({
      eventName: 'workflow_dispatch',
      actor: 'alice',
      triggeringActor: 'bob',
    });
    expect(readEventContext(source, {}).triggeringActor).toBe('alice');
    const fromRun = { ...source, payload: { workflow_run: { triggering_actor: { login: 'carol' } } } };
    expect(readEventContext(fromRun, {}).triggeringActor).toBe('carol');
  });
});
