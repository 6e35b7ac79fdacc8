import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { FakeGitHub } from '../../../test/fakes/github.ts';
import { expectSettingsInputError } from '../../../test/helpers/expect-input-error.ts';
import { createGitHubClient, GitHubApiError, listIssueComments, type GitHubClient } from '../../github/src/index.ts';
import { decide, evidenceHash, parseKeywords, writeAccessOn, type DecisionRules } from '../src/index.ts';

const repo = { owner: 'acme', repo: 'service' };
const SHA_A = 'a'.repeat(40);
const SHA_B = 'b'.repeat(40);
const HASH_A = evidenceHash({ sha: SHA_A, artifactDigest: 'sha256:' + '1'.repeat(64) });
const HASH_B = evidenceHash({ sha: SHA_B, artifactDigest: 'sha256:' + '1'.repeat(64) });

let github: FakeGitHub;
let client: GitHubClient;
let issue: number;
let clock: number;

beforeAll(async () => {
  github = await FakeGitHub.start();
  // Every comment a second apart, so an edit is always seen as one.
  github.now = () => new Date((clock += 1000));
});
afterAll(() => github.close());

afterEach(() => {
  jest.restoreAllMocks();
});

beforeEach(() => {
  // The client masks its token with workflow commands on stdout: keep them out of the test output.
  jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  clock = Date.parse('2026-11-27T09:00:00Z');
  client = createGitHubClient({ token: github.token, baseUrl: github.url, retries: 0, minWriteIntervalMs: 0 });
  for (const login of ['alice', 'bob', 'carol', 'dev', 'releaser', 'retrier', 'deploy-bot[bot]']) {
    github.setRole(repo.owner, repo.repo, login, 'write');
  }
  issue = github.addIssue(repo.owner, repo.repo, { title: 'production change', login: 'dev' }).number;
});

const comment = (login: string, body: string) => github.addComment(repo.owner, repo.repo, issue, { login, body });

/** The decision as the gate makes it: every comment read from the fake, permissions looked up there now. */
async function decideNow(rules: Partial<DecisionRules> = {}) {
  const comments = await listIssueComments(client, repo, issue);
  return decide(comments, {
    evidenceHash: HASH_A,
    approvers: ['alice', 'bob', 'carol', 'dev', 'retrier', 'releaser', 'deploy-bot[bot]'],
    minimumApprovals: 1,
    excluded: [
      { login: 'dev', why: 'the change author' },
      { login: 'releaser', why: 'github.actor' },
      { login: 'retrier', why: 'github.triggering_actor' },
    ],
    canWrite: writeAccessOn(client, repo),
    ...rules,
  });
}

const whyOf = (decision: Awaited<ReturnType<typeof decideNow>>, id: number | bigint) =>
  decision.ignored.find((entry) => entry.comment.id === Number(id))?.why;

describe('the approval decision over comments', () => {
  it('is approved by a listed approver naming the current evidence hash, with the deciding comment', async () => {
    comment('carol', 'looks fine to me');
    const approval = comment('alice', `Approve ${HASH_A}`);
    const decision = await decideNow();
    expect(decision).toMatchObject({ state: 'approved', approvers: ['alice'], decisionUrl: approval.html_url });
    expect(decision.ignored.map((entry) => entry.why)).toEqual(['no approve or deny keyword']);
  });

  it('stays pending when no approval comes', async () => {
    comment('carol', 'when is this going out?');
    expect(await decideNow()).toMatchObject({ state: 'pending', approvers: [] });
  });

  it('ignores self-approval by the change author, even when listed as an approver', async () => {
    const self = comment('dev', `approve ${HASH_A}`);
    const decision = await decideNow();
    expect(decision.state).toBe('pending');
    expect(whyOf(decision, self.id)).toMatch(/dev is the change author/);
  });

  it("ignores the approvals of github.actor and github.triggering_actor (a re-run's starter)", async () => {
    const actor = comment('Releaser', `approve ${HASH_A}`);
    const triggering = comment('retrier', `LGTM ${HASH_A}`);
    const decision = await decideNow();
    expect(decision.state).toBe('pending');
    expect(whyOf(decision, actor.id)).toMatch(/releaser is github\.actor/);
    expect(whyOf(decision, triggering.id)).toMatch(/retrier is github\.triggering_actor/);
  });

  it("ignores an approver's comment that someone else edited into an approval", async () => {
    github.addUser('mallory', 'ghs_mallory');
    const original = comment('alice', 'I will look at this after lunch');
    const mallory = createGitHubClient({
      token: 'ghs_mallory',
      baseUrl: github.url,
      retries: 0,
      minWriteIntervalMs: 0,
    });
    await mallory.rest.issues.updateComment({ ...repo, comment_id: Number(original.id), body: `approve ${HASH_A}` });
    const decision = await decideNow();
    expect(decision.ignored[0]?.comment.author?.login).toBe('alice');
    expect(decision).toMatchObject({ state: 'pending', approvers: [] });
    expect(whyOf(decision, original.id)).toMatch(/edited/);
  });

  it('no longer counts an approval once its comment is deleted', async () => {
    const approval = comment('alice', `approve ${HASH_A}`);
    expect((await decideNow()).state).toBe('approved');
    github.deleteComment(Number(approval.id));
    expect(await decideNow()).toMatchObject({ state: 'pending', approvers: [], ignored: [] });
  });

  it('finds the approving comment at position 120 of 150 (every page read)', async () => {
    let approval = '';
    for (let i = 1; i <= 150; i++) {
      if (i === 120) approval = comment('bob', `approved ${HASH_A}`).html_url;
      else comment('carol', `status ${i}`);
    }
    const decision = await decideNow();
    expect(decision).toMatchObject({ state: 'approved', approvers: ['bob'], decisionUrl: approval });
    expect(decision.ignored).toHaveLength(149);
  });

  it('denies when any approver denies, even after enough approvals, and names who', async () => {
    comment('alice', `approve ${HASH_A}`);
    const deny = comment('bob', 'Rejected? No: I reject this, the migration locks the orders table');
    comment('carol', `approve ${HASH_A}`);
    const decision = await decideNow();
    expect(decision).toMatchObject({ state: 'denied', deniedBy: 'bob', decisionUrl: deny.html_url });
  });

  it('takes a comment holding both an approve and a deny word as a deny', async () => {
    comment('alice', `approve ${HASH_A}? no, deny`);
    expect(await decideNow()).toMatchObject({ state: 'denied', deniedBy: 'alice', approvers: [] });
  });

  it('needs two distinct approvers when two of three are required', async () => {
    comment('alice', `approve ${HASH_A}`);
    const again = comment('alice', `approve ${HASH_A} (really)`);
    const rules = { approvers: ['alice', 'bob', 'carol'], minimumApprovals: 2 };
    const first = await decideNow(rules);
    expect(first).toMatchObject({ state: 'pending', approvers: ['alice'] });
    expect(whyOf(first, again.id)).toMatch(/already approved/);
    const second = comment('bob', `lgtm ${HASH_A}`);
    expect(await decideNow(rules)).toMatchObject({
      state: 'approved',
      approvers: ['alice', 'bob'],
      decisionUrl: second.html_url,
    });
  });

  it('ignores an approval given under an older evidence hash after a new commit', async () => {
    const old = comment('alice', `approve ${HASH_A}`);
    expect((await decideNow()).state).toBe('approved');
    const decision = await decideNow({ evidenceHash: HASH_B });
    expect(decision).toMatchObject({ state: 'pending', approvers: [] });
    expect(whyOf(decision, old.id)).toContain(`given under evidence hash ${HASH_A}, not the current ${HASH_B}`);
    comment('alice', `approve ${HASH_B}`);
    expect((await decideNow({ evidenceHash: HASH_B })).state).toBe('approved');
  });

  it('ignores an approval naming no hash, or the current hash next to another one', async () => {
    const bare = comment('alice', 'approve');
    const mixed = comment('bob', `approve ${HASH_A} or ${HASH_B}`);
    const decision = await decideNow();
    expect(decision.state).toBe('pending');
    expect(whyOf(decision, bare.id)).toMatch(/names no evidence hash/);
    expect(whyOf(decision, mixed.id)).toMatch(/given under evidence hash/);
  });

  it('ignores a bot, even one listed as an approver with write access', async () => {
    const posted = await client.rest.issues.createComment({ ...repo, issue_number: issue, body: `approve ${HASH_A}` });
    expect(posted.data.user?.login).toBe('deploy-bot[bot]');
    const decision = await decideNow();
    expect(decision.state).toBe('pending');
    expect(whyOf(decision, posted.data.id)).toMatch(/by a bot/);
  });

  it('ignores an approver without write access now, whatever they had when commenting', async () => {
    const approval = comment('carol', `approve ${HASH_A}`);
    github.setRole(repo.owner, repo.repo, 'carol', 'read');
    const readOnly = await decideNow();
    expect(readOnly.state).toBe('pending');
    expect(whyOf(readOnly, approval.id)).toMatch(/no write access/);
    github.setRole(repo.owner, repo.repo, 'carol', undefined);
    expect((await decideNow()).state).toBe('pending');
    github.setRole(repo.owner, repo.repo, 'carol', 'maintain');
    expect((await decideNow()).state).toBe('approved');
  });

  it('ignores a comment by someone not listed, and a deleted account', async () => {
    const stranger = comment('zed', `approve ${HASH_A}`);
    github.setRole(repo.owner, repo.repo, 'zed', 'admin');
    const decision = await decideNow();
    expect(whyOf(decision, stranger.id)).toMatch(/zed is not an approver/);
    const comments = (await listIssueComments(client, repo, issue)).map((c) => ({ ...c, author: undefined }));
    const ghost = await decide(comments, {
      evidenceHash: HASH_A,
      approvers: ['zed'],
      minimumApprovals: 1,
      excluded: [],
      canWrite: () => Promise.resolve(true),
    });
    expect(ghost).toMatchObject({ state: 'pending', ignored: [{ why: "the author's account was deleted" }] });
  });

  it('matches keywords as whole words, in any case, and takes configured ones', async () => {
    const partial = comment('alice', `preapproved ${HASH_A}; disapprove-ish`);
    const decision = await decideNow();
    expect(decision.state).toBe('pending');
    expect(whyOf(decision, partial.id)).toBe('no approve or deny keyword');
    comment('bob', `SHIP-IT ${HASH_A}`);
    const keywords = parseKeywords({ approve: 'ship-it', deny: 'halt' });
    expect(await decideNow({ keywords })).toMatchObject({ state: 'approved', approvers: ['bob'] });
    expect((await decideNow()).state).toBe('pending');
  });

  it('fails closed: a permission lookup GitHub refuses throws, rather than deciding', async () => {
    comment('alice', `approve ${HASH_A}`);
    github.inject('GET', /\/collaborators\/alice\/permission$/, {
      status: 403,
      body: { message: 'Resource not accessible by integration' },
    });
    await expect(decideNow()).rejects.toBeInstanceOf(GitHubApiError);
  });

  it('refuses rules no approval could pass, naming the input', async () => {
    const base: DecisionRules = {
      evidenceHash: HASH_A,
      approvers: ['alice'],
      minimumApprovals: 1,
      excluded: [],
      canWrite: () => Promise.resolve(true),
    };
    const check = async (rules: Partial<DecisionRules>, input: string, pattern: RegExp) => {
      // A decision instead of an error is thrown on as it is, and fails the check.
      const outcome = await decide([], { ...base, ...rules }).catch((error: unknown) => error);
      expectSettingsInputError(
        () => {
          throw outcome;
        },
        input,
        pattern,
        [],
      );
    };
    await check({ approvers: [] }, 'approvers', /is empty/);
    await check({ minimumApprovals: 2 }, 'minimum-approvals', /more than the 1 approver/);
    await check({ minimumApprovals: 0 }, 'minimum-approvals', /at least 1/);
  });

  it('refuses keywords that are not one word, or that both approve and deny', () => {
    expectSettingsInputError(() => parseKeywords({ approve: 'ship it!' }), 'approve-keywords', /"it!"/, []);
    expectSettingsInputError(() => parseKeywords({ approve: 'ok', deny: 'no, OK' }), 'deny-keywords', /repeats ok/, []);
  });
});
