import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { RequestError } from '@octokit/request-error';
import { FakeGitHub } from '../../../test/fakes/github.ts';
import { createGitHubClient, getIfChanged, type GitHubClient } from '../src/index.ts';

let github: FakeGitHub;
let client: GitHubClient;
const repo = { owner: 'acme', repo: 'service' };

beforeAll(async () => {
  github = await FakeGitHub.start();
});
afterAll(() => github.close());
beforeEach(() => {
  jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  github.requests.length = 0;
  client = createGitHubClient({ token: github.token, baseUrl: github.url, retryBaseMs: 10 });
});
afterEach(() => {
  jest.restoreAllMocks();
});

const createDeployment = (environment = 'staging') =>
  client.rest.repos.createDeployment({ ...repo, ref: 'main', environment, auto_merge: false, required_contexts: [] });

describe('GitHub client', () => {
  it('takes the API root from the runner (GITHUB_API_URL), as on GHES', async () => {
    process.env.GITHUB_API_URL = github.url;
    try {
      const fromEnvironment = createGitHubClient({ token: github.token });
      const { data } = await fromEnvironment.rest.repos.listDeployments(repo);
      expect(Array.isArray(data)).toBe(true);
      expect(github.requests.at(-1)?.headers.authorization).toBe(`token ${github.token}`);
    } finally {
      delete process.env.GITHUB_API_URL;
    }
  });

  it('follows pagination to the last page', async () => {
    github.seed(repo.owner, repo.repo, 'pages', 205);
    const all = await client.paginate(client.rest.repos.listDeployments, {
      ...repo,
      environment: 'pages',
      per_page: 100,
    });
    expect(all).toHaveLength(205);
    expect(new Set(all.map((d) => d.id)).size).toBe(205);
    expect(github.requests.filter((r) => r.method === 'GET')).toHaveLength(3);
  });

  it('retries an idempotent GET after a 502', async () => {
    github.inject('GET', /deployments$/, { status: 502, body: { message: 'Bad gateway' } });
    const { status } = await client.rest.repos.listDeployments(repo);
    expect(status).toBe(200);
    expect(github.requests).toHaveLength(2);
  });

  it('never replays a write after a 502: it may have landed', async () => {
    const before = github.deployments.length;
    github.inject('POST', /deployments$/, { status: 502, body: { message: 'Bad gateway' } });
    const error = await createDeployment().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestError);
    expect((error as RequestError).status).toBe(502);
    expect(github.requests).toHaveLength(1);
    expect(github.deployments).toHaveLength(before);
  });

  it('waits out a secondary rate limit for as long as Retry-After says, writes included', async () => {
    const warnings: string[] = [];
    client = createGitHubClient({ token: github.token, baseUrl: github.url, log: { warn: (m) => warnings.push(m) } });
    github.inject('POST', /deployments$/, {
      status: 403,
      headers: { 'retry-after': '1' },
      body: { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.' },
    });
    const { data } = await createDeployment('limited');
    expect(data).toMatchObject({ environment: 'limited' });
    expect(github.requests).toHaveLength(2);
    expect(github.requests[1]!.at - github.requests[0]!.at).toBeGreaterThanOrEqual(950);
    expect(warnings[0]).toMatch(/secondary rate limit on POST .*retrying in 1 s/);
  });

  it('polls with ETags: a 304 means unchanged and costs no rate limit', async () => {
    const route = 'GET /repos/{owner}/{repo}/deployments';
    const first = await getIfChanged<unknown[]>(client, route, { ...repo, environment: 'etag' }, undefined);
    expect(first.changed).toBe(true);
    expect(first.etag).toMatch(/^W\/"/);
    const remaining = github.rateLimitRemaining;
    const second = await getIfChanged<unknown[]>(client, route, { ...repo, environment: 'etag' }, first.etag);
    expect(second).toEqual({ changed: false, etag: first.etag, data: undefined });
    expect(github.requests.at(-1)?.headers['if-none-match']).toBe(first.etag);
    expect(github.rateLimitRemaining).toBe(remaining);
    await createDeployment('etag');
    const third = await getIfChanged<{ environment: string }[]>(
      client,
      route,
      { ...repo, environment: 'etag' },
      first.etag,
    );
    expect(third.changed).toBe(true);
    expect(third.data?.[0]?.environment).toBe('etag');
  });

  it('fails at once on bad credentials, without retrying or printing the token', async () => {
    const written: string[] = [];
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    const wrong = createGitHubClient({ token: 'ghp_wrongtoken123', baseUrl: github.url });
    const error = (await wrong.rest.repos.listDeployments(repo).catch((e: unknown) => e)) as RequestError;
    expect(error.status).toBe(401);
    expect(github.requests).toHaveLength(1);
    expect(written).toContain('::add-mask::ghp_wrongtoken123\n');
  });
});
