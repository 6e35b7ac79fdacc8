import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { FakeGitHub } from '../../../test/fakes/github.ts';
import { expectInputError } from '../../../test/helpers/expect-input-error.ts';
import { failureOf } from '../../../test/helpers/run-action.ts';
import { evidenceHash } from '../../../packages/approval/src/index.ts';
import { GATE_TOKEN, OUTSIDE_WINDOW, OWNER, REPO, SHA_A, commentEvent, runGate, startGitHub } from './helpers.ts';

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

const labelsOf = (number: number) =>
  github.issue(OWNER, REPO, number)!.labels.map((label) => (typeof label === 'string' ? label : label.name));
const ROLLBACK = {
  'rollback-backup-id': 'shop-2026-12-09T14-55Z',
  'rollback-backup-verified': 'true',
  'previous-colour': 'blue',
  'previous-colour-running': 'true',
};

describe('approval-gate: windows, notice and change types', () => {
  it('fails a standard change outside its window and reports the next window', async () => {
    const run = await runGate(github, {
      now: OUTSIDE_WINDOW,
      inputs: { 'change-type': 'standard', 'change-key': `k${key}` },
    });
    expect(run.exitCode).toBe(1);
    expect(failureOf(run)).toMatch(/^Change refused by the policy: outside every maintenance window standard changes/);
    expect(run.outputs['next-window-start']).toBe('2027-01-03T02:00:00.000Z');
    expect(run.outputs.approved).toBe('false');
    // The request is open all the same: its notice period has started.
    expect(run.outputs['change-request-url']).toMatch(/^https:\/\/github\.test\/acme\/service\/issues\/\d+$/);
  });

  it('with outside-window: wait, waits for the window to open and then goes ahead', async () => {
    const run = await runGate(github, {
      now: '2026-12-06T01:59:50Z',
      inputs: { 'change-type': 'standard', 'change-key': `k${key}`, 'outside-window': 'wait', timeout: '30s' },
    });
    expect(failureOf(run)).toBe('');
    expect(run.outputs).toMatchObject({ approved: 'true', decision: 'pre-approved' });
    expect(run.log).toContain('Waiting for the maintenance window opening 2026-12-06T02:00:00.000Z');
    expect(run.durationMs).toBeGreaterThan(3000);
    const number = Number(run.outputs['change-request']);
    expect(github.issue(OWNER, REPO, number)!.body).toContain('"how":"standard"');
  });

  it('with outside-window: wait, fails at once when the window opens after the timeout', async () => {
    const run = await runGate(github, {
      now: '2026-12-06T01:00:00Z',
      inputs: { 'change-type': 'standard', 'change-key': `k${key}`, 'outside-window': 'wait', timeout: '10m' },
    });
    expect(run.exitCode).toBe(1);
    expect(failureOf(run)).toMatch(
      /must wait for the maintenance window opening 2026-12-06T02:00:00.000Z, after this step's timeout/,
    );
    expect(run.durationMs).toBeLessThan(30_000);
  });

  it("fails a planned change whose request lacks 7 days' notice", async () => {
    setClock('2026-12-05T09:00:00Z');
    const run = await runGate(github, { inputs: { 'change-key': `k${key}` } });
    expect(run.exitCode).toBe(1);
    expect(failureOf(run)).toMatch(/lacks 7d notice: request opened 1[67]h \d+m before the window/);
    expect(run.outputs['next-window-start']).toBe('2027-01-03T02:00:00.000Z');
  });

  it('refuses an emergency without a rollback plan', async () => {
    const run = await runGate(github, {
      now: OUTSIDE_WINDOW,
      inputs: { 'change-type': 'emergency', 'change-key': `k${key}`, 'rollback-backup-id': 'shop-1' },
    });
    expect(run.exitCode).toBe(1);
    expect(failureOf(run)).toContain(
      'emergency change refused, rollback plan incomplete: backup shop-1 is not verified',
    );
    expect(failureOf(run)).toContain('rollback plan incomplete: no previous colour');
  });

  it('lets an emergency with a rollback plan through now, and keeps its post-approval record open until approved', async () => {
    const run = await runGate(github, {
      now: OUTSIDE_WINDOW,
      inputs: { 'change-type': 'emergency', 'change-key': `k${key}`, ...ROLLBACK },
    });
    expect(failureOf(run)).toBe('');
    expect(run.outputs).toMatchObject({ approved: 'true', decision: 'emergency', risk: 'high' });
    const number = Number(run.outputs['change-request']);
    expect(labelsOf(number)).toEqual(expect.arrayContaining(['type:emergency', 'needs-post-approval', 'risk:high']));
    const body = github.issue(OWNER, REPO, number)!.body!;
    expect(body).toContain('"postApproval":"required"');
    expect(body).toContain('window: outside every maintenance window');

    // The deployment finished: the record stays open, still waiting for its approval.
    const done = await runGate(github, {
      now: OUTSIDE_WINDOW,
      inputs: { command: 'record-outcome', 'change-request': String(number), outcome: 'succeeded' },
    });
    expect(failureOf(done)).toBe('');
    expect(github.issue(OWNER, REPO, number)!.state).toBe('open');

    // An approver approves after the fact: the label goes, and the finished change is closed.
    github.addComment(OWNER, REPO, number, { login: 'alice', body: `approve ${evidenceHash({ sha: SHA_A })}` });
    const decided = await runGate(github, {
      inputs: { command: 'decide' },
      event: commentEvent(number, 'alice', labelsOf(number) as string[]),
    });
    expect(failureOf(decided)).toBe('');
    // High risk asks two approvals; one is not enough.
    expect(decided.outputs.decision).toBe('pending');
    github.addComment(OWNER, REPO, number, { login: 'bob', body: `approve ${evidenceHash({ sha: SHA_A })}` });
    const approved = await runGate(github, {
      inputs: { command: 'decide' },
      event: commentEvent(number, 'bob', labelsOf(number) as string[]),
    });
    expect(approved.outputs.decision).toBe('post-approved');
    expect(labelsOf(number)).not.toContain('needs-post-approval');
    expect(github.issue(OWNER, REPO, number)!.state).toBe('closed');
  });

  it('records the outcome of a normal change and closes its request', async () => {
    const opened = await runGate(github, { inputs: { mode: 'environment', 'change-key': `k${key}` } });
    expect(failureOf(opened)).toBe('');
    expect(opened.outputs).toMatchObject({ approved: 'true', decision: 'environment' });
    const number = Number(opened.outputs['change-request']);
    const run = await runGate(github, {
      inputs: {
        command: 'record-outcome',
        'change-request': String(number),
        outcome: 'rolled-back',
        'outcome-detail': 'error rate 7% after the switch; switched back to blue',
      },
    });
    expect(failureOf(run)).toBe('');
    const issue = github.issue(OWNER, REPO, number)!;
    expect(issue.state).toBe('closed');
    expect(issue.body).toContain('"result":"rolled-back"');
    // A closed request approves nothing: a re-run of the gate fails.
    const rerun = await runGate(github, { inputs: { mode: 'environment', 'change-key': `k${key}` } });
    expect(failureOf(rerun)).toMatch(/is done \(rolled-back\): a closed change request approves nothing/);
  });

  it('refuses to record an outcome on an issue the gate did not open', async () => {
    const issue = github.addIssue(OWNER, REPO, { title: 'x', body: 'y', labels: ['change-request'], login: 'dev' });
    const run = await runGate(github, {
      inputs: { command: 'record-outcome', 'change-request': String(issue.number), outcome: 'succeeded' },
    });
    expect(run.exitCode).toBe(1);
    expect(failureOf(run)).toMatch(/was opened by dev, not by github-actions\[bot\]/);
  });
});

describe('approval-gate: bad input', () => {
  const secrets = [GATE_TOKEN];
  const folder = mkdtempSync(join(tmpdir(), 'gate-policy-'));
  const broken = join(folder, 'policy.yml');
  writeFileSync(broken, 'time-zone: UTC\nwindows:\n  - on: first sunday\n    time: "02:00-04:00\n');

  it.each([
    [
      'no approvers for a normal change',
      { approvers: '' },
      'approvers',
      /is required: a normal change needs at least one approver/,
    ],
    [
      'minimum approvals above the approvers',
      { approvers: 'alice, bob', 'minimum-approvals': '3' },
      'minimum-approvals',
      /is 3, more than the 2 approver/,
    ],
    [
      'a window at 25:00',
      { policy: 'time-zone: UTC\nwindows:\n  - { on: first sunday, time: "25:00-04:00" }' },
      'policy',
      /hours 00-23/,
    ],
    [
      'a window over 4 hours',
      { policy: 'time-zone: UTC\nwindows:\n  - { on: first sunday, time: "01:00-06:00" }' },
      'policy',
      /at most 4 hours long/,
    ],
    [
      'an unknown time zone',
      { policy: 'time-zone: Mars/Olympus_Mons' },
      'policy',
      /not a time zone Intl knows: "Mars\/Olympus_Mons"/,
    ],
    [
      'an unknown change type',
      { 'change-type': 'urgent' },
      'change-type',
      /must be one of standard, normal, emergency, got "urgent"/,
    ],
    ['a policy file that does not parse', { policy: '', 'policy-file': broken }, 'policy-file', /is not valid YAML: /],
    ['a token-less run', { 'github-token': '' }, 'github-token', /is required/],
    ['a short SHA', { sha: 'abc1234' }, 'sha', /must be a full commit SHA/],
    [
      'checklist evidence that is not JSON',
      { 'checklist-evidence': '{passed: yes' },
      'checklist-evidence',
      /is not JSON/,
    ],
  ])('%s', async (_name, inputs, input, pattern) => {
    const before = github.requests.length;
    const run = await runGate(github, { inputs: { 'change-key': `k${key}`, ...inputs } });
    expectInputError(run, input, pattern, secrets);
    // Refused before any request: nothing half-done on GitHub.
    expect(github.requests.length).toBe(before);
  });
});
