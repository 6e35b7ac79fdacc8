import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { FakeGitHub } from '../../../test/fakes/github.ts';
import { expectSettingsInputError } from '../../../test/helpers/expect-input-error.ts';
import { createGitHubClient, GitHubApiError, type GitHubClient } from '../../github/src/index.ts';
import { parseApprovers, resolveApprovers } from '../src/index.ts';

let github: FakeGitHub;
let client: GitHubClient;

beforeAll(async () => {
  github = await FakeGitHub.start();
});
afterAll(() => github.close());
beforeEach(() => {
  jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  github.requests.length = 0;
  client = createGitHubClient({ token: github.token, baseUrl: github.url, retries: 0, minWriteIntervalMs: 0 });
});
afterEach(() => {
  jest.restoreAllMocks();
});

describe('approvers', () => {
  it('parses users and org/team entries, with or without @, separated by commas or lines', () => {
    expect(parseApprovers('@Alice, bob\n acme/Platform-Leads @acme/dba')).toEqual([
      { kind: 'user', login: 'alice' },
      { kind: 'user', login: 'bob' },
      { kind: 'team', org: 'acme', slug: 'platform-leads' },
      { kind: 'team', org: 'acme', slug: 'dba' },
    ]);
  });

  it.each(['acme/team/extra', 'bad_login', '-alice', 'acme/'])('refuses "%s", naming the input', (entry) => {
    expectSettingsInputError(
      () => parseApprovers(`alice, ${entry}`),
      'approvers',
      /neither a GitHub login nor org\/team/,
      [],
    );
  });

  it('expands teams through every page of members, lowercased and deduplicated in first-seen order', async () => {
    const leads = Array.from({ length: 130 }, (_, i) => `Lead-${i}`);
    github.setTeam('acme', 'platform-leads', ['Bob', ...leads]).setTeam('acme', 'dba', ['lead-129', 'dora']);
    const logins = await resolveApprovers(client, parseApprovers('bob, alice, acme/platform-leads, acme/dba'));
    expect(logins).toEqual(['bob', 'alice', ...leads.map((login) => login.toLowerCase()), 'dora']);
    const pages = github.requests.filter((r) => r.path === '/orgs/acme/teams/platform-leads/members');
    expect(pages).toHaveLength(2);
  });

  it('fails on a team that cannot be read, rather than deciding with fewer approvers', async () => {
    await expect(resolveApprovers(client, parseApprovers('alice, acme/nobody'))).rejects.toBeInstanceOf(GitHubApiError);
    await expect(resolveApprovers(client, parseApprovers('acme/nobody'))).rejects.toThrow(/acme\/nobody/);
  });
});
