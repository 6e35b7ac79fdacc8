import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { FakeGitHub } from '../../../test/fakes/github.ts';
import { FakePulls } from '../../../test/fakes/github-pulls.ts';
import { createGitHubClient, GitHubApiError, type GitHubClient } from '../../github/src/index.ts';
import { changedFilesOf, findPullRequest, resolveSha } from '../src/pull.ts';

const repo = { owner: 'acme', repo: 'service' };
const sha = (c: string) => c.repeat(40);

let github: FakeGitHub;
let pulls: FakePulls;
let client: GitHubClient;

beforeAll(async () => {
  github = await FakeGitHub.start();
  pulls = new FakePulls(github, repo);
});
afterAll(() => github.close());
afterEach(() => {
  jest.restoreAllMocks();
});

beforeEach(() => {
  jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  pulls.pulls.clear();
  pulls.refs.clear();
  client = createGitHubClient({ token: github.token, baseUrl: github.url, retries: 0, minWriteIntervalMs: 0 });
});

describe('finding the pull request that holds the SHA', () => {
  it('pull_request: reads the PR again, so its body and labels are the current ones', async () => {
    pulls.addPull({ number: 5, author: 'dev', headSha: sha('a'), body: 'old', labels: ['x'] });
    pulls.edit(5, { body: '- [x] docs updated', labels: ['deploy', 'db'] });
    const event = { eventName: 'pull_request', payload: { pull_request: { number: 5, head: { sha: sha('a') } } } };
    expect(await resolveSha(client, repo, event)).toBe(sha('a'));
    expect(await findPullRequest(client, repo, event, sha('a'))).toEqual({
      number: 5,
      url: 'https://github.test/acme/service/pull/5',
      author: 'dev',
      body: '- [x] docs updated',
      headSha: sha('a'),
      baseRef: 'main',
      labels: ['deploy', 'db'],
      draft: false,
    });
  });

  it('pull_request_target: the same, and a bot PR with no body has an empty body', async () => {
    pulls.addPull({ number: 9, author: 'dependabot[bot]', headSha: sha('b'), body: null, draft: true });
    const event = {
      eventName: 'pull_request_target',
      payload: { pull_request: { number: 9, head: { sha: sha('b') } } },
    };
    expect(await resolveSha(client, repo, event)).toBe(sha('b'));
    expect(await findPullRequest(client, repo, event, sha('b'))).toMatchObject({
      number: 9,
      author: 'dependabot[bot]',
      body: '',
      draft: true,
    });
  });

  it('push: the open PR whose head is the SHA comes before a merged PR that contains it', async () => {
    pulls.addPull({ number: 1, author: 'old', headSha: sha('1'), commits: [sha('c')], mergeCommitSha: sha('2') });
    pulls.addPull({ number: 2, author: 'dev', headSha: sha('c') });
    const event = { eventName: 'push', payload: {}, sha: sha('c') };
    expect(await resolveSha(client, repo, event)).toBe(sha('c'));
    expect((await findPullRequest(client, repo, event, sha('c')))?.number).toBe(2);
  });

  it('push of a merge commit: the merged PR that contains it', async () => {
    pulls.addPull({ number: 3, author: 'dev', headSha: sha('d'), mergeCommitSha: sha('e') });
    pulls.addPull({ number: 4, author: 'other', headSha: sha('f'), state: 'closed', commits: [sha('e')] });
    const found = await findPullRequest(client, repo, { eventName: 'push', payload: {} }, sha('e'));
    expect(found).toMatchObject({ number: 3, author: 'dev', headSha: sha('d') });
  });

  it('push with no pull request: undefined (an open PR holding it only as an older commit does not count)', async () => {
    pulls.addPull({ number: 6, author: 'dev', headSha: sha('6'), commits: [sha('7')] });
    expect(await findPullRequest(client, repo, { eventName: 'push', payload: {} }, sha('8'))).toBeUndefined();
    expect(await findPullRequest(client, repo, { eventName: 'push', payload: {} }, sha('7'))).toBeUndefined();
  });

  it('a commit only the built-in route knows (fake.setCommit) gives no complete PR: undefined, not a crash', async () => {
    github.setCommit(repo.owner, repo.repo, sha('9'), { author: 'dev', pulls: ['dev'] });
    expect(await findPullRequest(client, repo, { eventName: 'push', payload: {} }, sha('9'))).toBeUndefined();
  });

  it('workflow_dispatch with a ref: the ref resolved to its full SHA, the PR through the commits API', async () => {
    pulls.addPull({ number: 12, author: 'dev', headSha: sha('4'), mergeCommitSha: sha('5') });
    pulls.setRef('release-1', sha('5'));
    const event = { eventName: 'workflow_dispatch', payload: { ref: 'refs/heads/main' }, sha: sha('0') };
    const resolved = await resolveSha(client, repo, event, 'release-1');
    expect(resolved).toBe(sha('5'));
    expect((await findPullRequest(client, repo, event, resolved))?.number).toBe(12);
    // Without a ref the run's own commit is deployed.
    expect(await resolveSha(client, repo, event, '  ')).toBe(sha('0'));
  });

  it('workflow_dispatch with a ref that does not exist fails naming it', async () => {
    const event = { eventName: 'workflow_dispatch', payload: {}, sha: sha('0') };
    const error = await resolveSha(client, repo, event, 'no-such-branch').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitHubApiError);
    expect((error as Error).message).toMatch(/no-such-branch/);
  });

  it('merge_group: the PR named by the queue branch; the SHA is the queue head', async () => {
    pulls.addPull({ number: 123, author: 'dev', headSha: sha('a') });
    const event = {
      eventName: 'merge_group',
      payload: {
        merge_group: { head_sha: sha('b'), head_ref: `refs/heads/gh-readonly-queue/main/pr-123-${sha('a')}` },
      },
    };
    expect(await resolveSha(client, repo, event)).toBe(sha('b'));
    expect((await findPullRequest(client, repo, event, sha('b')))?.number).toBe(123);
  });

  it('workflow_run: the run’s first PR, else the commits API', async () => {
    pulls.addPull({ number: 7, author: 'dev', headSha: sha('c') });
    pulls.addPull({ number: 8, author: 'dev', headSha: sha('d') });
    const withPulls = {
      eventName: 'workflow_run',
      payload: { workflow_run: { head_sha: sha('c'), pull_requests: [{ number: 7 }] } },
    };
    expect(await resolveSha(client, repo, withPulls)).toBe(sha('c'));
    expect((await findPullRequest(client, repo, withPulls, sha('c')))?.number).toBe(7);
    const fromFork = {
      eventName: 'workflow_run',
      payload: { workflow_run: { head_sha: sha('d'), pull_requests: [] } },
    };
    expect((await findPullRequest(client, repo, fromFork, sha('d')))?.number).toBe(8);
  });

  it('an event without a full SHA is refused, not guessed', async () => {
    await expect(resolveSha(client, repo, { eventName: 'push', payload: {}, sha: 'abc123' })).rejects.toThrow(
      /not a full commit SHA/,
    );
    await expect(resolveSha(client, repo, { eventName: 'pull_request', payload: {} })).rejects.toThrow(
      /pull_request\.head\.sha/,
    );
  });

  it('a PR number in the event that GitHub does not know is an error, not "no PR"', async () => {
    const event = { eventName: 'pull_request', payload: { pull_request: { number: 404 } } };
    await expect(findPullRequest(client, repo, event, sha('a'))).rejects.toThrow(GitHubApiError);
  });
});

describe('the changed files of a PR', () => {
  it('reads every page, and a renamed file counts by both names', async () => {
    const files = Array.from({ length: 250 }, (_, i) => `src/file-${String(i).padStart(3, '0')}.ts`);
    pulls.addPull({
      number: 20,
      author: 'dev',
      headSha: sha('a'),
      files: [...files, { filename: 'docs/new.md', previousFilename: 'docs/old.md' }],
    });
    const before = github.requests.length;
    const changed = await changedFilesOf(client, repo, { number: 20 });
    expect(changed).toHaveLength(252);
    expect(changed).toContain('src/file-249.ts');
    expect(changed.slice(-2)).toEqual(['docs/new.md', 'docs/old.md']);
    expect(github.requests.slice(before).filter((r) => r.path.endsWith('/pulls/20/files'))).toHaveLength(3);
  });
});
