import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { FakeGitHub } from '../../../test/fakes/github.ts';
import { FakeChecks } from '../../../test/fakes/github-checks.ts';
import { FakePulls } from '../../../test/fakes/github-pulls.ts';
import { expectInputError } from '../../../test/helpers/expect-input-error.ts';
import { failureOf, runBuiltAction, type ActionRun } from '../../../test/helpers/run-action.ts';
import { checklistEvidenceHash } from '../../../packages/approval/src/index.ts';

const OWNER = 'acme';
const REPO = 'service';
let github: FakeGitHub;
let checks: FakeChecks;
let pulls: FakePulls;
let n = 0;
let sha: string;
let number: number;

const RULES = `items:
  tests-passing: { required-checks: [{ name: build, app: github-actions }] }
  review-approved: { approvals: 1 }
  task-list: true
  paths:
    - { name: documentation, when: "src/**", require: ["docs/**", CHANGELOG.md] }
environments:
  production:
    items:
      custom: [{ name: release-label, label: release }]`;

beforeAll(async () => {
  github = await FakeGitHub.start();
  checks = new FakeChecks(github);
  pulls = new FakePulls(github);
  for (const login of ['alice', 'dev']) github.setRole(OWNER, REPO, login, 'write');
  github.setRole(OWNER, REPO, 'lead', 'maintain');
});
afterAll(() => github.close());

/** A pull request by dev whose head passes everything: build green, alice's approval, tasks done, docs changed. */
beforeEach(() => {
  n++;
  sha = n.toString(16).padStart(40, 'a');
  number = github.addIssue(OWNER, REPO, { title: `change ${n}`, login: 'dev' }).number;
  pulls.addPull({
    number,
    author: 'dev',
    headSha: sha,
    body: '## Checklist\n- [x] tests\n- [x] docs\n\n```\n- [ ] not a task: inside a code block\n```\n',
    labels: ['release'],
    files: ['src/app.ts', 'docs/app.md'],
  });
  checks.addCheckRun(OWNER, REPO, sha, { name: 'build', app: 'github-actions', conclusion: 'success' });
  pulls.addReview(number, { login: 'alice', state: 'APPROVED' });
});

const pullEvent = (): { name: string; payload: Record<string, unknown> } => ({
  name: 'pull_request',
  payload: { pull_request: { number, head: { sha } } },
});

function verify(inputs: Record<string, string> = {}, event = pullEvent()): Promise<ActionRun> {
  const folder = mkdtempSync(join(tmpdir(), 'checklist-event-'));
  const eventPath = join(folder, 'event.json');
  writeFileSync(eventPath, JSON.stringify(event.payload));
  return runBuiltAction(
    'verify-checklist',
    { 'github-token': github.token, environment: 'production', rules: RULES, ...inputs },
    {
      env: {
        GITHUB_API_URL: github.url,
        GITHUB_EVENT_PATH: eventPath,
        GITHUB_EVENT_NAME: event.name,
        GITHUB_SHA: sha,
        GITHUB_WORKSPACE: folder,
      },
    },
  );
}

const items = (run: ActionRun) =>
  (JSON.parse(run.outputs.evidence!) as { items: { id: string; outcome: string; code: string }[] }).items;

describe('verify-checklist', () => {
  it('passes when every item holds for the exact SHA, and hands on evidence whose hash approval-gate records', async () => {
    const run = await verify();
    expect(failureOf(run)).toBe('');
    expect(run.outputs).toMatchObject({ verdict: 'pass', sha, 'pull-request': String(number) });
    expect(items(run).map((item) => [item.id, item.outcome])).toEqual([
      ['tests-passing', 'pass'],
      ['review-approved', 'pass'],
      ['task-list', 'pass'],
      ['paths:documentation', 'pass'],
      ['custom:release-label', 'pass'],
    ]);
    expect(run.outputs['evidence-hash']).toBe(checklistEvidenceHash(JSON.parse(run.outputs.evidence!)));
    // The same evidence gives the same hash: nothing of the run's own time is in it.
    const again = await verify();
    expect(again.outputs['evidence-hash']).toBe(run.outputs['evidence-hash']);
    expect(run.summary).toContain('| ✅ | Tests passing |');
  });

  it('fails on a failing check, naming the item and its reason code', async () => {
    checks.addCheckRun(OWNER, REPO, sha, { name: 'integration tests', conclusion: 'failure' });
    const run = await verify();
    expect(run.exitCode).toBe(1);
    expect(failureOf(run)).toMatch(/^Checklist failed for [0-9a-f]{12}: .*\(check-failed\)/);
    expect(run.outputs.verdict).toBe('fail');
    expect(run.summary).toContain('| ❌ |');
  });

  it("does not count the author's own approval or one on an older head", async () => {
    pulls.addReview(number, { login: 'dev', state: 'APPROVED' });
    pulls.push(number, 'f'.repeat(40));
    sha = 'f'.repeat(40);
    checks.addCheckRun(OWNER, REPO, sha, { name: 'build', app: 'github-actions', conclusion: 'success' });
    const run = await verify();
    expect(run.exitCode).toBe(1);
    expect(items(run).find((item) => item.id === 'review-approved')).toMatchObject({
      outcome: 'fail',
      code: 'not-enough-approvals',
    });
  });

  it("does not count the author's approval on the current head either", async () => {
    pulls.addReview(number, { login: 'dev', state: 'APPROVED' });
    const run = await verify({ rules: 'items:\n  review-approved: { approvals: 2 }' });
    expect(run.exitCode).toBe(1);
    expect(items(run).find((item) => item.id === 'review-approved')).toMatchObject({ code: 'not-enough-approvals' });
  });

  it("does not let a pull request's approvals cover an older commit of it", async () => {
    const older = sha;
    pulls.push(number, 'e'.repeat(40));
    const run = await verify({}, { name: 'pull_request', payload: { pull_request: { number, head: { sha: older } } } });
    expect(run.exitCode).toBe(1);
    expect(items(run).find((item) => item.id === 'review-approved')).toMatchObject({ code: 'not-pr-head' });
  });

  it('refuses a pull request that changes the rules it would be judged by', async () => {
    pulls.addPull({
      number: number + 1000,
      author: 'dev',
      headSha: 'd'.repeat(40),
      files: ['.github/deploy-checklist.yml'],
    });
    const folder = mkdtempSync(join(tmpdir(), 'checklist-workspace-'));
    const eventPath = join(folder, 'event.json');
    writeFileSync(
      eventPath,
      JSON.stringify({ pull_request: { number: number + 1000, head: { sha: 'd'.repeat(40) } } }),
    );
    mkdirSync(join(folder, '.github'));
    writeFileSync(join(folder, '.github/deploy-checklist.yml'), 'items:\n  task-list: true\n');
    const run = await runBuiltAction(
      'verify-checklist',
      { 'github-token': github.token, environment: 'production' },
      {
        env: {
          GITHUB_API_URL: github.url,
          GITHUB_EVENT_PATH: eventPath,
          GITHUB_EVENT_NAME: 'pull_request',
          GITHUB_SHA: 'd'.repeat(40),
          GITHUB_WORKSPACE: folder,
        },
      },
    );
    expect(run.exitCode).toBe(1);
    expect(failureOf(run)).toMatch(/changes \.github\/deploy-checklist\.yml, the checklist's own rules/);
  });

  it('lets a maintainer waive a failed item, and refuses a waiver by the author or one that expired', async () => {
    checks.addCheckRun(OWNER, REPO, sha, { name: 'integration tests', conclusion: 'failure' });
    github.addComment(OWNER, REPO, number, {
      login: 'dev',
      body: '/waive tests-passing until 2099-01-01 because flaky',
    });
    github.addComment(OWNER, REPO, number, {
      login: 'lead',
      body: '/waive tests-passing until 2020-01-01 because old',
    });
    const refused = await verify();
    expect(refused.exitCode).toBe(1);
    expect(refused.summary).toContain('granted by the change author');
    expect(refused.summary).toContain('expired 2020-01-01');
    github.addComment(OWNER, REPO, number, {
      login: 'lead',
      body: '/waive tests-passing until 2099-01-01 because the integration environment is down (INC-42)',
    });
    const waived = await verify();
    expect(failureOf(waived)).toBe('');
    expect(items(waived).find((item) => item.id === 'tests-passing')).toMatchObject({ outcome: 'waived' });
    expect(waived.outputs.evidence).toContain('"grantedBy":"lead"');
    expect(waived.summary).toContain('waived by lead until 2099-01-01');
  });

  it('finds the pull request of a push through the commits API', async () => {
    const run = await verify({}, { name: 'push', payload: { after: sha } });
    expect(failureOf(run)).toBe('');
    expect(run.outputs['pull-request']).toBe(String(number));
  });

  it('handles a bot pull request with no body by the rules, not by failing blindly', async () => {
    pulls.edit(number, { body: null });
    const run = await verify();
    expect(failureOf(run)).toBe('');
    expect(items(run).find((item) => item.id === 'task-list')).toMatchObject({ outcome: 'pass', code: 'no-task-list' });
  });

  it('is accepted by approval-gate, which records the same checklist hash', async () => {
    const run = await verify();
    github.addUser('github-actions[bot]', 'ghs_gatetoken0000000000000000000000000');
    const gate = await runBuiltAction(
      'approval-gate',
      {
        'github-token': 'ghs_gatetoken0000000000000000000000000',
        environment: 'production',
        'change-type': 'standard',
        'outside-window': 'fail',
        policy: 'time-zone: UTC\nnotice: 0s',
        sha,
        'checklist-evidence': run.outputs.evidence!,
        'change-key': `checklist-${n}`,
      },
      // Outside a window the gate refuses, but it has opened the change request with the evidence by then.
      { env: { GITHUB_API_URL: github.url } },
    );
    const body = github.issue(OWNER, REPO, Number(gate.outputs['change-request']))!.body!;
    expect(body).toContain(`"checklistEvidenceHash":"${run.outputs['evidence-hash']}"`);
  });
});

describe('verify-checklist: bad input', () => {
  it.each([
    ['an unknown item', 'items:\n  security-scan: true', /names the unknown item "security-scan"/],
    ['rules that do not parse', 'items:\n  tests-passing: { required: true', /is not valid YAML/],
    ['a negative number of approvals', 'items:\n  review-approved: { approvals: -1 }', /review-approved\.approvals/],
    [
      'a pattern that is not a valid glob',
      'items:\n  paths: [{ name: docs, when: "src/[", require: docs/** }]',
      /paths/,
    ],
    ['a maximum age of "3 fortnights"', 'items:\n  backup-ready: { max-age: 3 fortnights }', /backup-ready\.max-age/],
  ])('%s', async (_name, rules, pattern) => {
    const run = await verify({ rules });
    expectInputError(run, 'rules', pattern, [github.token]);
  });
});
