import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { FakeGitHub } from '../../../test/fakes/github.ts';
import { failureOf } from '../../../test/helpers/run-action.ts';
import { evidenceHash } from '../../../packages/approval/src/index.ts';
import { BASE, GATE_LOGIN, OWNER, REPO, SHA_A, SHA_B, commentEvent, runGate, startGitHub } from './helpers.ts';

let github: FakeGitHub;
let setClock: (iso: string) => void;
let key = 0;

beforeAll(async () => {
  ({ github, setClock } = await startGitHub());
});
afterAll(() => github.close());

beforeEach(() => {
  setClock('2026-11-27T09:00:00Z');
  key++;
});

const HASH_A = evidenceHash({ sha: SHA_A });
const HASH_B = evidenceHash({ sha: SHA_B });
const comment = (number: number, login: string, body: string) =>
  github.addComment(OWNER, REPO, number, { login, body });
const issuesWithKey = () =>
  (github.issues.get(`${OWNER}/${REPO}`) ?? []).filter((issue) => (issue.body ?? '').includes(`"key":"k${key}"`));

/** One look at the decision, without waiting: decide mode ends pending instead of polling. */
const look = (inputs: Record<string, string> = {}, env: Record<string, string> = {}) =>
  runGate(github, { inputs: { mode: 'decide', 'change-key': `k${key}`, ...inputs }, env });

/** Opens this test's change request and returns its number. */
async function open(inputs: Record<string, string> = {}): Promise<number> {
  const run = await look(inputs);
  expect(failureOf(run)).toBe('');
  expect(run.outputs.decision).toBe('pending');
  return Number(run.outputs['change-request']);
}

describe('approval-gate: who counts', () => {
  it('passes on the approval of a listed approver, bound to the evidence hash', async () => {
    const number = await open();
    const approval = comment(number, 'alice', `approve ${HASH_A}`);
    const run = await look();
    expect(failureOf(run)).toBe('');
    expect(run.outputs).toMatchObject({
      approved: 'true',
      decision: 'approved',
      approvers: 'alice',
      'evidence-hash': HASH_A,
      'decision-url': approval.html_url,
      'change-request': String(number),
    });
    const issue = github.issue(OWNER, REPO, number)!;
    expect(issue.labels.map((label) => (typeof label === 'string' ? label : label.name))).toEqual(
      expect.arrayContaining(['change-request', 'type:normal', 'env:production', 'risk:medium']),
    );
    expect(issue.body).toContain(`/compare/${BASE}...${SHA_A}`);
    expect(issue.body).toContain('"state":"approved"');
  });

  it("ignores the change author's, the actor's and the triggering actor's approvals", async () => {
    const number = await open();
    comment(number, 'dev', `approve ${HASH_A}`);
    comment(number, 'releaser', `approve ${HASH_A}`);
    comment(number, 'retrier', `lgtm ${HASH_A}`);
    const run = await look({}, { GITHUB_TRIGGERING_ACTOR: 'retrier' });
    expect(failureOf(run)).toBe('');
    expect(run.outputs).toMatchObject({ approved: 'false', decision: 'pending', approvers: '' });
    expect(run.summary).toContain('dev is the change author, who cannot approve or deny their own change');
    expect(run.summary).toContain('releaser is github.actor');
    expect(run.summary).toContain('retrier is github.triggering_actor');
  });

  it("ignores the commit author's approval in a dispatched continuation that knows nobody from its event", async () => {
    const number = await open();
    // Someone with write access takes the author out of the record's list of who may not approve.
    const issue = github.issue(OWNER, REPO, number)!;
    issue.body = issue.body!.replace(/\{"login":"dev","why":"the change author"\},?/g, '').replace(',]', ']');
    expect(issue.body).not.toContain('"login":"dev"');
    expect(Number((await look()).outputs['change-request'])).toBe(number);
    comment(number, 'dev', `approve ${HASH_A}`);
    // The continuation: started by the bot that dispatched it, with no author in its event.
    const run = await runGate(github, {
      inputs: { mode: 'decide', 'change-key': `k${key}` },
      event: { name: 'workflow_dispatch', payload: { inputs: { 'change-request': String(number) } } },
      env: { GITHUB_ACTOR: 'github-actions[bot]', GITHUB_TRIGGERING_ACTOR: 'github-actions[bot]' },
    });
    expect(failureOf(run)).toBe('');
    expect(run.outputs.decision).toBe('pending');
    expect(run.summary).toContain('dev is the change author');
  });

  it("ignores the requester's approval after they take their name off the record, and refuses an edited list", async () => {
    const number = await open();
    const issue = github.issue(OWNER, REPO, number)!;
    issue.body = issue.body!.replace(/\{"login":"releaser","why":"[^"]*"\},?/g, '').replace(',]', ']');
    expect(issue.body).not.toContain('"login":"releaser"');
    comment(number, 'releaser', `approve ${HASH_A}`);
    const listened = await runGate(github, {
      inputs: { command: 'decide', 'continue-workflow': 'deploy.yml' },
      event: commentEvent(number, 'releaser'),
    });
    expect(failureOf(listened)).toBe('');
    expect(listened.outputs.decision).toBe('pending');
    expect(listened.summary).toContain('releaser is github.actor');
    // Editing the gate's own comment that names the requesters stops every decision.
    const notes = github.comments.get(Number(issue.id))!;
    const requesters = notes.find((c) => c.body!.includes('deploy-suite:requesters'))!;
    github.editComment(Number(requesters.id), requesters.body!.replace('releaser', 'nobody'));
    const refused = await runGate(github, {
      inputs: { command: 'decide', 'continue-workflow': 'deploy.yml' },
      event: commentEvent(number, 'releaser'),
    });
    expect(refused.exitCode).toBe(1);
    expect(failureOf(refused)).toMatch(/comment recording who requested this change was edited/);
  });

  it('counts an approval only when the keyword opens the comment', async () => {
    const number = await open();
    comment(number, 'alice', `I can't approve ${HASH_A} until the lock timeout is fixed`);
    const run = await look();
    expect(run.outputs.decision).toBe('pending');
    expect(run.summary).toContain('no approve or deny keyword');
  });

  it('fails when the change request was closed after its approval: closing it cancels the change', async () => {
    const number = await open();
    comment(number, 'alice', `approve ${HASH_A}`);
    github.issue(OWNER, REPO, number)!.state = 'closed';
    const run = await look();
    expect(run.exitCode).toBe(1);
    expect(run.outputs.approved).toBe('false');
  });

  it("ignores an approver's comment that someone else edited into an approval", async () => {
    const number = await open();
    const said = comment(number, 'alice', 'looks risky, let me check');
    github.editComment(Number(said.id), `approve ${HASH_A}`);
    const run = await look();
    expect(run.outputs.decision).toBe('pending');
    expect(run.summary).toContain('edited after it was posted');
  });

  it('finds the approving comment at position 120 of 150', async () => {
    const number = await open();
    for (let i = 1; i <= 150; i++) {
      comment(number, i % 2 === 0 ? 'bob' : 'carol', i === 120 ? `Approved ${HASH_A}` : `comment ${i}`);
    }
    const run = await look();
    expect(failureOf(run)).toBe('');
    expect(run.outputs).toMatchObject({ decision: 'approved', approvers: 'bob' });
  });

  it('lets a deny end the gate whatever approvals came first', async () => {
    const number = await open();
    comment(number, 'alice', `approve ${HASH_A}`);
    comment(number, 'bob', 'Denied: the migration locks the orders table');
    const run = await look();
    expect(run.exitCode).toBe(1);
    expect(failureOf(run)).toMatch(/^Change denied by bob: https:\/\/github\.test\//);
    expect(run.outputs).toMatchObject({ approved: 'false', decision: 'denied' });
    expect(github.issue(OWNER, REPO, number)!.body).toContain('"state":"denied"');
  });

  it('needs two of three approvers when minimum-approvals is 2', async () => {
    const inputs = { approvers: 'alice, bob, carol', 'minimum-approvals': '2' };
    const number = await open(inputs);
    comment(number, 'alice', `approve ${HASH_A}`);
    comment(number, 'alice', `approve ${HASH_A} (again)`);
    expect((await look(inputs)).outputs).toMatchObject({ decision: 'pending', approvers: 'alice' });
    comment(number, 'carol', `LGTM ${HASH_A}`);
    const run = await look(inputs);
    expect(run.outputs).toMatchObject({ approved: 'true', decision: 'approved', approvers: 'alice,carol' });
  });

  it('ignores an approval given under an older evidence hash after a new commit', async () => {
    const number = await open();
    comment(number, 'alice', `approve ${HASH_A}`);
    const run = await look({ sha: SHA_B });
    expect(failureOf(run)).toBe('');
    expect(run.outputs).toMatchObject({
      decision: 'pending',
      'evidence-hash': HASH_B,
      'change-request': String(number),
    });
    expect(run.summary).toContain(`given under evidence hash ${HASH_A}, not the current ${HASH_B}`);
    const notes = github.comments.get(Number(github.issue(OWNER, REPO, number)!.id))!;
    expect(notes.some((c) => c.user?.login === GATE_LOGIN && c.body!.includes(`\`${HASH_B}\` replaces`))).toBe(true);
    comment(number, 'alice', `approve ${HASH_B}`);
    expect((await look({ sha: SHA_B })).outputs.decision).toBe('approved');
  });

  it('reuses the change request on a re-run, never opening a second one', async () => {
    const number = await open();
    const again = await look({}, { GITHUB_RUN_ATTEMPT: '2', GITHUB_TRIGGERING_ACTOR: 'retrier' });
    expect(again.outputs['change-request']).toBe(String(number));
    expect(issuesWithKey()).toHaveLength(1);
    // The re-run's triggering actor joins the people who may not approve this change.
    expect(github.issue(OWNER, REPO, number)!.body).toContain('"login":"retrier"');
  });

  it('never reads a look-alike change request opened by someone else', async () => {
    const number = await open();
    const real = github.issue(OWNER, REPO, number)!;
    key++;
    github.addIssue(OWNER, REPO, {
      title: 'spoof',
      body: (real.body ?? '')
        .replace(/"key":"k\d+"/, `"key":"k${key}"`)
        .replace('"state":"requested"', '"state":"approved"'),
      labels: ['change-request'],
      login: 'dev',
    });
    const run = await look();
    expect(Number(run.outputs['change-request'])).not.toBe(number);
    expect(run.outputs.decision).toBe('pending');
    expect(issuesWithKey().filter((issue) => issue.user?.login === GATE_LOGIN)).toHaveLength(1);
  });
});

describe('approval-gate: waiting', () => {
  /**
   * The number of the change request a gate started in the background opened, once the gate is
   * waiting on it: it has looked at least twice with a conditional read while nothing happened.
   */
  async function waitingOnItsRequest(): Promise<number> {
    let number: number | undefined;
    for (let i = 0; i < 200 && number === undefined; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      number = issuesWithKey()[0]?.number;
    }
    if (number === undefined) throw new Error('the gate opened no change request');
    const conditionalLooks = () =>
      github.requests.filter(
        (r) => r.path === `/repos/${OWNER}/${REPO}/issues/${number}` && r.headers['if-none-match'] !== undefined,
      ).length;
    for (let i = 0; i < 300 && conditionalLooks() < 2; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    return number;
  }

  it('fails at the timeout: a timeout never approves', async () => {
    const run = await runGate(github, {
      inputs: { 'change-key': `k${key}`, timeout: '3s', 'poll-interval': '1s' },
    });
    expect(run.exitCode).toBe(1);
    expect(failureOf(run)).toMatch(/^No decision before the timeout: 0 of 1 approvals under sha256:/);
    expect(run.outputs).toMatchObject({ approved: 'false', decision: 'refused' });
  });

  it('passes when the approval arrives while it waits, reading only what changed', async () => {
    const running = runGate(github, {
      inputs: { 'change-key': `k${key}`, timeout: '40s', 'poll-interval': '1s' },
    });
    const number = await waitingOnItsRequest();
    const before = github.requests.length;
    comment(number, 'bob', `approve ${HASH_A}`);
    const run = await running;
    expect(failureOf(run)).toBe('');
    expect(run.outputs).toMatchObject({ approved: 'true', approvers: 'bob' });
    const looks = github.requests.slice(0, before).filter((r) => r.path === `/repos/${OWNER}/${REPO}/issues/${number}`);
    // While nothing happened, each look was one conditional read of the issue, answered 304.
    expect(looks.length).toBeGreaterThan(1);
    expect(looks.slice(1).every((r) => r.headers['if-none-match'] !== undefined)).toBe(true);
  });

  it('fails when the change request is closed while it waits', async () => {
    const running = runGate(github, {
      inputs: { 'change-key': `k${key}`, timeout: '40s', 'poll-interval': '1s' },
    });
    const number = await waitingOnItsRequest();
    github.issue(OWNER, REPO, number)!.state = 'closed';
    github.issue(OWNER, REPO, number)!.updated_at = new Date().toISOString();
    const run = await running;
    expect(run.exitCode).toBe(1);
    expect(failureOf(run)).toMatch(/was closed while waiting for approval/);
  });
});

describe('approval-gate: the decision listener (command: decide)', () => {
  const listen = (number: number, commenter: string, labels?: string[]) =>
    runGate(github, {
      inputs: { command: 'decide', 'continue-workflow': 'deploy.yml' },
      event: commentEvent(number, commenter, labels),
    });

  it('dispatches the continuation exactly once when two approvals arrive together', async () => {
    const number = await open();
    comment(number, 'alice', `approve ${HASH_A}`);
    comment(number, 'bob', `approve ${HASH_A}`);
    const dispatched = github.dispatches.length;
    const runs = await Promise.all([listen(number, 'alice'), listen(number, 'bob')]);
    for (const run of runs) expect(failureOf(run)).toBe('');
    expect(github.dispatches.slice(dispatched)).toEqual([
      expect.objectContaining({
        workflow: 'deploy.yml',
        ref: 'main',
        inputs: { 'change-request': String(number), sha: SHA_A, 'evidence-hash': HASH_A },
        by: GATE_LOGIN,
      }),
    ]);
    expect(runs.map((run) => run.outputs.decision).sort()).toEqual([
      'approved',
      expect.stringMatching(/^(claimed-elsewhere|ignored)$/),
    ]);
    // The continuation's gate finds the approvals and passes at once.
    expect((await look()).outputs).toMatchObject({ approved: 'true', decision: 'approved' });
    // A later comment changes nothing: the request is decided.
    comment(number, 'carol', `approve ${HASH_A}`);
    const late = await listen(number, 'carol');
    expect(late.outputs.decision).toBe('ignored');
    expect(github.dispatches.length).toBe(dispatched + 1);
  });

  it('costs no API request for a comment on an unrelated issue or by a bot', async () => {
    const number = await open();
    const before = github.requests.length;
    const unrelated = await listen(number, 'alice', ['bug']);
    const bot = await listen(number, 'renovate[bot]');
    expect(failureOf(unrelated)).toBe('');
    expect(failureOf(bot)).toBe('');
    expect(unrelated.outputs.decision).toBe('ignored');
    expect(bot.outputs.decision).toBe('ignored');
    expect(github.requests.length).toBe(before);
  });

  it('takes its claim back when the dispatch fails, so the next comment dispatches', async () => {
    const number = await open();
    comment(number, 'alice', `approve ${HASH_A}`);
    const dispatched = github.dispatches.length;
    github.inject('POST', /\/dispatches$/, { status: 500, body: { message: 'Server Error' } });
    const failed = await listen(number, 'alice');
    expect(failed.exitCode).toBe(1);
    expect(github.dispatches.length).toBe(dispatched);
    comment(number, 'bob', `approve ${HASH_A}`);
    const retried = await listen(number, 'bob');
    expect(failureOf(retried)).toBe('');
    expect(retried.outputs.decision).toBe('approved');
    expect(github.dispatches.length).toBe(dispatched + 1);
  });

  it('records a deny and dispatches nothing', async () => {
    const number = await open();
    comment(number, 'carol', 'reject');
    const dispatched = github.dispatches.length;
    const run = await listen(number, 'carol');
    expect(run.outputs.decision).toBe('denied');
    expect(github.dispatches.length).toBe(dispatched);
    expect(github.issue(OWNER, REPO, number)!.body).toContain('"state":"denied"');
  });
});
