import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { systemClock } from '@deploy-suite/kit';
import { FakeGitHub } from '../../../test/fakes/github.ts';
import { FakePulls, type PullInput } from '../../../test/fakes/github-pulls.ts';
import { createGitHubClient, type GitHubClient } from '../../github/src/index.ts';
import type { ChecklistContext, ItemResult } from '../src/item.ts';
import { codeownersRegExp, ownerRuleFor, parseCodeowners, reviewApproved } from '../src/items/review-approved.ts';
import { changedFilesOf, findPullRequest } from '../src/pull.ts';

const repo = { owner: 'acme', repo: 'service' };
const HEAD = 'a'.repeat(40);
const OLD_HEAD = 'b'.repeat(40);

let github: FakeGitHub;
let pulls: FakePulls;
let client: GitHubClient;
let time: number;

beforeAll(async () => {
  github = await FakeGitHub.start();
  pulls = new FakePulls(github, repo);
  // Every review a second after the last one.
  github.now = () => new Date((time += 1000));
});
afterAll(() => github.close());
afterEach(() => {
  jest.restoreAllMocks();
});

beforeEach(() => {
  jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  client = createGitHubClient({ token: github.token, baseUrl: github.url, retries: 0, minWriteIntervalMs: 0 });
  time = Date.parse('2026-11-27T09:00:00Z');
  pulls.pulls.clear();
  pulls.files.clear();
  github.teams.clear();
});

function addPull(input: Partial<PullInput> = {}) {
  return pulls.addPull({ number: 42, author: 'dev', headSha: HEAD, ...input });
}
const review = (
  login: string,
  state: 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'DISMISSED',
  commitId?: string,
) => pulls.addReview(42, { login, state, ...(commitId === undefined ? {} : { commitId }) });

/** The context as the action builds it: the PR found for a push of the SHA, its files read on demand. */
async function judge(rule: Record<string, unknown> = {}, sha = HEAD): Promise<ItemResult> {
  const pull = await findPullRequest(client, repo, { eventName: 'push', payload: {} }, sha);
  const context: ChecklistContext = {
    octokit: client,
    repo,
    sha,
    environment: 'production',
    artifactDigest: undefined,
    pull,
    changedFiles: () => (pull ? changedFilesOf(client, repo, pull) : Promise.resolve([])),
    workspace: '/nonexistent',
    clock: systemClock,
    log: () => {},
  };
  const result = await reviewApproved.evaluate(reviewApproved.schema.parse(rule), context);
  if (Array.isArray(result)) throw new Error('one result expected');
  return result;
}

describe('review approved: approvals on the current head by others than the author', () => {
  it('passes with an approval on the head, with approvers, head and review ids as evidence', async () => {
    addPull();
    review('carol', 'COMMENTED');
    const approval = review('bob', 'APPROVED');
    const result = await judge();
    expect(result).toMatchObject({
      id: 'review-approved',
      status: 'pass',
      code: 'ok',
      url: 'https://github.test/acme/service/pull/42',
      observedAt: approval.submitted_at,
    });
    expect(result.evidence).toMatchObject({
      pull: 42,
      headSha: HEAD,
      author: 'dev',
      approvers: ['bob'],
      reviewIds: [approval.id],
    });
    expect((await judge()).evidence).toEqual(result.evidence);
  });

  it('does not count an approval on an older head', async () => {
    addPull({ headSha: OLD_HEAD });
    review('bob', 'APPROVED');
    pulls.push(42, HEAD);
    const result = await judge();
    expect(result).toMatchObject({ status: 'fail', code: 'not-enough-approvals' });
    expect(result.reason).toMatch(/0 of 1 approvals .*1 on an older head not counted/);
    expect(result.evidence.staleApprovals).toEqual([expect.objectContaining({ login: 'bob', commitId: OLD_HEAD })]);
    // Approved again on the new head: now it counts.
    review('bob', 'APPROVED');
    expect(await judge()).toMatchObject({ status: 'pass' });
  });

  it("does not count the author's own approval", async () => {
    addPull();
    review('dev', 'APPROVED');
    const result = await judge();
    expect(result).toMatchObject({ status: 'fail', code: 'not-enough-approvals' });
    expect(result.reason).toContain("the author's own not counted");
  });

  it('compares logins without case', async () => {
    addPull({ author: 'Dev' });
    review('dev', 'APPROVED');
    expect(await judge()).toMatchObject({ code: 'not-enough-approvals' });
  });

  it('changes requested then approved by the same reviewer clears the request', async () => {
    addPull();
    review('bob', 'CHANGES_REQUESTED');
    expect(await judge()).toMatchObject({ status: 'fail', code: 'changes-requested' });
    review('bob', 'APPROVED');
    expect(await judge()).toMatchObject({ status: 'pass', evidence: { approvers: ['bob'] } });
  });

  it('a request for changes by someone else stays outstanding, even with enough approvals', async () => {
    addPull();
    review('carol', 'CHANGES_REQUESTED', OLD_HEAD);
    review('bob', 'APPROVED');
    review('carol', 'COMMENTED');
    const result = await judge();
    expect(result).toMatchObject({ status: 'fail', code: 'changes-requested' });
    expect(result.reason).toContain('"carol"');
  });

  it('a dismissed review clears its request for changes', async () => {
    addPull();
    review('carol', 'CHANGES_REQUESTED');
    review('bob', 'APPROVED');
    review('carol', 'DISMISSED');
    expect(await judge()).toMatchObject({ status: 'pass', evidence: { approvers: ['bob'] } });
  });

  it('an approval later dismissed does not count; a comment after an approval keeps it', async () => {
    addPull();
    review('bob', 'APPROVED');
    review('bob', 'COMMENTED');
    review('erin', 'APPROVED');
    review('erin', 'DISMISSED');
    expect(await judge({ approvals: 2 })).toMatchObject({ code: 'not-enough-approvals' });
    expect(await judge({ approvals: 1 })).toMatchObject({ status: 'pass', evidence: { approvers: ['bob'] } });
  });

  it('needs as many approvals as the rule asks; 0 passes without any', async () => {
    addPull();
    review('bob', 'APPROVED');
    expect(await judge({ approvals: 2 })).toMatchObject({ code: 'not-enough-approvals' });
    review('erin', 'APPROVED');
    expect(await judge({ approvals: 2 })).toMatchObject({ status: 'pass', evidence: { approvers: ['bob', 'erin'] } });
    pulls.pulls.clear();
    addPull();
    expect(await judge({ approvals: 0 })).toMatchObject({ status: 'pass' });
  });

  it('reads every page of reviews', async () => {
    addPull();
    for (let i = 0; i < 130; i++) review(`commenter-${i}`, 'COMMENTED');
    review('bob', 'APPROVED');
    const before = github.requests.length;
    expect(await judge()).toMatchObject({ status: 'pass' });
    expect(github.requests.slice(before).filter((r) => r.path.endsWith('/pulls/42/reviews'))).toHaveLength(2);
  });

  it('fails with no-pull-request when no PR holds the SHA', async () => {
    expect(await judge({}, 'd'.repeat(40))).toMatchObject({ status: 'fail', code: 'no-pull-request' });
  });

  it('fails with unavailable when the reviews cannot be read', async () => {
    addPull();
    review('bob', 'APPROVED');
    github.inject('GET', /\/pulls\/42\/reviews$/, { status: 500, body: { message: 'boom' } });
    const result = await judge();
    expect(result).toMatchObject({ status: 'fail', code: 'unavailable' });
    expect(result.reason).toMatch(/reviews of #42/);
  });
});

describe('review approved with code owners', () => {
  const CODEOWNERS = [
    '# owners',
    '*           @lead',
    '/src/api/   @alice   # the API',
    'docs/*      @acme/docs',
    '*.md        @acme/docs @carol',
    '/generated/',
  ].join('\n');

  beforeEach(() => {
    github.setTeam('acme', 'docs', ['bob', 'frank']);
  });

  it('passes when every owned file has an approving owner (a person, or a member of an owning team)', async () => {
    addPull({ files: ['src/api/handler.ts', 'docs/guide.md', 'generated/client.ts'] });
    pulls.setFile('.github/CODEOWNERS', HEAD, CODEOWNERS);
    review('alice', 'APPROVED');
    review('bob', 'APPROVED');
    const result = await judge({ codeowners: true });
    expect(result).toMatchObject({ status: 'pass', code: 'ok' });
    expect(result.evidence.codeowners).toEqual({
      file: '.github/CODEOWNERS',
      files: [
        { file: 'docs/guide.md', owners: ['@acme/docs', '@carol'], line: 5, approvedBy: ['bob (@acme/docs)'] },
        { file: 'generated/client.ts', owners: [], line: 6, approvedBy: [] },
        { file: 'src/api/handler.ts', owners: ['@alice'], line: 3, approvedBy: ['alice'] },
      ],
    });
  });

  it('fails with codeowner-missing when an owned file has no approving owner', async () => {
    addPull({ files: ['src/api/handler.ts', 'docs/guide.md', 'README.md', 'src/lib/x.ts'] });
    pulls.setFile('CODEOWNERS', HEAD, CODEOWNERS);
    review('alice', 'APPROVED');
    const result = await judge({ codeowners: true });
    expect(result).toMatchObject({ status: 'fail', code: 'codeowner-missing' });
    expect(result.reason).toMatch(/^3 changed files have no approval from a code owner/);
    expect(result.reason).toContain('"docs/guide.md" (owners "@acme/docs", "@carol")');
    expect(result.reason).toContain('"src/lib/x.ts" (owners "@lead")');
  });

  it("a code owner's approval on an older head does not count for the owner either", async () => {
    addPull({ files: ['src/api/handler.ts'] });
    pulls.setFile('.github/CODEOWNERS', HEAD, CODEOWNERS);
    review('alice', 'APPROVED', OLD_HEAD);
    review('bob', 'APPROVED');
    expect(await judge({ codeowners: true })).toMatchObject({ code: 'codeowner-missing' });
  });

  it('fails when no CODEOWNERS file exists at the SHA (one on another ref does not count)', async () => {
    addPull({ files: ['src/api/handler.ts'] });
    pulls.setFile('.github/CODEOWNERS', 'main', CODEOWNERS);
    review('alice', 'APPROVED');
    const result = await judge({ codeowners: true });
    expect(result).toMatchObject({ status: 'fail', code: 'codeowner-missing' });
    expect(result.reason).toMatch(/no CODEOWNERS file/);
  });

  it('fails with unavailable when an owning team cannot be read', async () => {
    addPull({ files: ['docs/guide.md'] });
    pulls.setFile('docs/CODEOWNERS', HEAD, 'docs/ @acme/writers\n');
    review('bob', 'APPROVED');
    const result = await judge({ codeowners: true });
    expect(result).toMatchObject({ status: 'fail', code: 'unavailable' });
    expect(result.reason).toMatch(/acme\/writers/);
  });
});

describe('CODEOWNERS patterns', () => {
  const owns = (pattern: string, path: string) => codeownersRegExp(pattern).test(path);

  it.each([
    ['*', 'a/b/c.ts', true],
    ['*.js', 'src/deep/x.js', true],
    ['*.js', 'src/deep/x.ts', false],
    ['/build/logs/', 'build/logs/a/b.log', true],
    ['/build/logs/', 'x/build/logs/a.log', false],
    ['apps/', 'deep/apps/x.ts', true],
    ['docs/*', 'docs/getting-started.md', true],
    ['docs/*', 'docs/build-app/troubleshooting.md', false],
    ['/docs', 'docs/a/b.md', true],
    ['**/logs', 'a/b/logs/x.txt', true],
    ['src/**/test.ts', 'src/a/b/test.ts', true],
    ['src/**/test.ts', 'src/test.ts', true],
    ['Makefile', 'tools/Makefile', true],
    ['a?c', 'abc', true],
    ['a?c', 'a/c', false],
  ])('%s on %s: %s', (pattern, path, expected) => {
    expect(owns(pattern, path)).toBe(expected);
  });

  it('the last matching rule owns a file; comments, blank lines and negations are skipped', () => {
    const rules = parseCodeowners('# c\n\n*  @all\n!secret @nobody\n/src/ @team/src # trailing\n/src/vendor/\n');
    expect(rules.map((rule) => [rule.pattern, rule.owners, rule.line])).toEqual([
      ['*', ['@all'], 3],
      ['/src/', ['@team/src'], 5],
      ['/src/vendor/', [], 6],
    ]);
    expect(ownerRuleFor(rules, 'src/a.ts')?.owners).toEqual(['@team/src']);
    expect(ownerRuleFor(rules, 'src/vendor/lib.js')?.owners).toEqual([]);
    expect(ownerRuleFor(rules, 'README')?.owners).toEqual(['@all']);
  });
});

describe('the review-approved rule', () => {
  it('has defaults', () => {
    expect(reviewApproved.schema.parse({})).toEqual({ required: true, approvals: 1, codeowners: false });
  });

  it.each([
    [{ approvals: -1 }, /0 or more/],
    [{ approvals: 1.5 }, /whole number/],
    [{ approvals: 'two' }, /whole number/],
    [{ codeowners: 'yes' }, /codeowners/],
    [{ approval: 2 }, /approval/],
  ])('refuses %j', (rule, message) => {
    const parsed = reviewApproved.schema.safeParse(rule);
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toMatch(message);
  });
});
