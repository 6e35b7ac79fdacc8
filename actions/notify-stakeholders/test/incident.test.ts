import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { FakeGitHub, type FakeIssue } from '../../../test/fakes/github.ts';
import { FakeChecks } from '../../../test/fakes/github-checks.ts';
import { inputErrorOf } from '../../../test/helpers/expect-input-error.ts';
import { failureOf, leakedSecrets, type ActionRun } from '../../../test/helpers/run-action.ts';
import { Inputs } from '../../../packages/kit/src/index.ts';
import { incidentKey, POST_MORTEM_MARK } from '../../../packages/notify/src/index.ts';
import { renderStateBlock } from '../../../packages/github/src/index.ts';
import { readSettings } from '../src/settings.ts';
import { switchRecordPayload } from '../../../test/helpers/deployment-records.ts';
import { runOnPullRequest } from './runner.ts';

const OWNER = 'acme';
const REPO = 'shop';
const ACTIONS_TOKEN = 'ghs_incidentActionsToken000000000000000';
const MALLORY_TOKEN = 'ghp_malloryToken00000000000000000000000';
const BOT = 'github-actions[bot]';

let github: FakeGitHub;
let n = 0;
let sha: string;
let pull: number;

beforeAll(async () => {
  github = await FakeGitHub.start();
  // The thread is kept in a check run on the commit, as in a workflow.
  new FakeChecks(github);
  github.addUser(BOT, ACTIONS_TOKEN);
  github.addUser('mallory', MALLORY_TOKEN);
});
afterAll(() => github.close());

beforeEach(() => {
  n++;
  sha = (0xabc000 + n).toString(16).padStart(40, 'd');
  pull = github.addIssue(OWNER, REPO, { title: 'Ship the new checkout', login: 'dev' }).number;
});

/** One stage of this test's deployment, the runner's way, with the GitHub comment as the only channel. */
function stage(status: string, inputs: Record<string, string> = {}): Promise<ActionRun> {
  return runOnPullRequest(
    github,
    { repository: `${OWNER}/${REPO}`, sha, pullRequest: { number: pull, title: 'Ship the new checkout' } },
    {
      status,
      environment: 'production',
      service: 'shop',
      version: 'v2.4.0',
      'github-token': ACTIONS_TOKEN,
      incident: 'auto',
      ...inputs,
    },
  );
}

/** The incident issues of this repository (labelled incident), oldest first. */
function incidents(): FakeIssue[] {
  return (github.issues.get(`${OWNER}/${REPO}`) ?? []).filter((issue) =>
    issue.labels.some((label) => (typeof label === 'string' ? label : label.name) === 'incident'),
  );
}

const labelsOf = (issue: FakeIssue) =>
  issue.labels.map((label) => (typeof label === 'string' ? label : (label.name ?? ''))).sort();

function issueNumbered(number: string | undefined): FakeIssue {
  const issue = github.issue(OWNER, REPO, Number(number));
  if (issue === undefined) throw new Error(`no issue ${number}`);
  return issue;
}

/** The timeline table's rows: time, event, detail. */
function timelineRows(body: string): { time: string; event: string; detail: string }[] {
  const section = body.split('### Timeline')[1]!.split('\n\n')[1]!;
  return section
    .split('\n')
    .slice(2)
    .map((row) => {
      const [time, event, detail] = row
        .slice(2, -2)
        .split(/(?<!\\) \| /)
        .map((text) => text.replace(/\\(.)/g, '$1'));
      return { time: time!, event: event!, detail: detail! };
    });
}

/** A deployment record made through the API by `token`, with statuses at the given times. */
async function deploymentRecord(
  token: string,
  statuses: { state: string; description: string; at: Date }[],
  createdAt: Date,
  environment = 'production',
): Promise<number> {
  const api = (path: string, body: unknown) =>
    fetch(`${github.url}/repos/${OWNER}/${REPO}${path}`, {
      method: 'POST',
      headers: { authorization: `token ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then((response) => response.json() as Promise<{ id: number }>);
  const { id } = await api('/deployments', {
    ref: sha,
    environment,
    payload: switchRecordPayload({ sha }),
  });
  github.deployments.find((d) => d.id === id)!.created_at = createdAt.toISOString();
  for (const status of statuses) await api(`/deployments/${id}/statuses`, status);
  // The fake stamps statuses with the time they were posted: give each the time it stands for.
  github.statuses.get(id)!.forEach((status, index) => (status.created_at = statuses[index]!.at.toISOString()));
  return id;
}

function expectNoLeak(run: ActionRun): void {
  expect(leakedSecrets(run, [ACTIONS_TOKEN, MALLORY_TOKEN])).toEqual([]);
}

describe('a rolled-back production deployment', () => {
  it('opens one P2 incident with the record in its timeline, and a re-run or a later stage updates it', async () => {
    const minutes = (m: number) => new Date(Date.now() - m * 60_000);
    // Posted out of order on purpose: the timeline sorts by time, not by arrival.
    const deploymentId = await deploymentRecord(
      ACTIONS_TOKEN,
      [
        { state: 'in_progress', description: 'switch to green', at: minutes(30) },
        { state: 'inactive', description: 'rolled back by deployment 99', at: minutes(2) },
        { state: 'success', description: 'green live', at: minutes(25) },
      ],
      minutes(31),
    );
    const before = incidents().length;
    const switched = await stage('switched');
    expect(failureOf(switched)).toBe('');
    expect(switched.outputs.incident).toBe('');

    const run = await stage('rolled-back', { 'deployment-id': String(deploymentId), 'backup-id': 'bk-2026-11-27' });
    expect(failureOf(run)).toBe('');
    expect(run.annotations.filter((a) => a.level === 'warning')).toEqual([]);
    expect(incidents()).toHaveLength(before + 1);
    expect(run.outputs['incident-severity']).toBe('P2');
    const issue = issueNumbered(run.outputs.incident);
    expect(run.outputs['incident-url']).toBe(issue.html_url);
    expect(issue.user?.login).toBe(BOT);
    expect(issue.title).toBe('[P2] production: shop v2.4.0 rolled back');
    expect(labelsOf(issue)).toEqual(['incident', 'severity:P2']);
    const body = issue.body ?? '';
    expect(body).toContain('users were served by the failed release, and it was rolled back');
    expect(body).toContain('https://github.com/acme/shop/actions/runs/4242');
    expect(body).toMatch(/Backup \| bk\\-2026\\-11\\-27/);
    expect(body).toContain(`| Deployment record | ${deploymentId} |`);

    const rows = timelineRows(body);
    const times = rows.map((row) => Date.parse(row.time.replace(' UTC', 'Z').replace(' ', 'T')));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(rows.map((row) => row.event)).toEqual([
      `deployment ${deploymentId} recorded`,
      'deployment in progress',
      'deployment success',
      'deployment inactive',
      'switched',
      'rolled back',
    ]);
    expect(rows[3]!.detail).toBe('rolled back by deployment 99');

    for (const heading of [
      '## Post-mortem',
      '### Summary',
      '### Impact',
      '### Detection',
      '### Root cause (5 whys)',
      '### What went well',
      '### What went badly',
      '### Action items',
      '| Action | Owner | Due date | Tracking issue |',
    ]) {
      expect(body).toContain(heading);
    }
    // Every channel links to the incident; the summary says it was opened.
    const comments = github.comments.get(Number(github.issue(OWNER, REPO, pull)!.id)) ?? [];
    expect(comments.at(-1)!.body).toContain(issue.html_url);
    expect(run.summary).toMatch(new RegExp(`Incident \\[#${issue.number}\\]\\(${issue.html_url}\\) \\(P2\\) opened`));
    expectNoLeak(run);

    // People write their post-mortem; the same stage again changes nothing and opens nothing.
    issue.body = body.replace('_What happened, in two or three sentences._', 'The new checkout timed out.');
    const edited = issue.body;
    const again = await stage('rolled-back', { 'deployment-id': String(deploymentId), 'backup-id': 'bk-2026-11-27' });
    expect(failureOf(again)).toBe('');
    expect(again.outputs.incident).toBe(run.outputs.incident);
    expect(incidents()).toHaveLength(before + 1);
    expect(issue.body).toBe(edited);
    expectNoLeak(again);
  });

  it('goes from P1 (failed after traffic moved) to P2 when the rollback lands, on the same issue', async () => {
    const before = incidents().length;
    await stage('switched');
    const failed = await stage('failed', { 'incident-labels': 'team:checkout' });
    expect(failureOf(failed)).toBe('');
    expect(failed.outputs['incident-severity']).toBe('P1');
    const issue = issueNumbered(failed.outputs.incident);
    expect(labelsOf(issue)).toEqual(['incident', 'severity:P1', 'team:checkout']);
    expect(issue.title).toBe('[P1] production: shop v2.4.0 failed');
    expect(issue.body).toContain('no rollback succeeded');
    // Someone adds a label of their own: it stays.
    type Label = Exclude<(typeof issue.labels)[number], string>;
    issue.labels.push({ ...(issue.labels[0] as Label), name: 'customer-facing' });

    const rolledBack = await stage('rolled-back', { 'incident-labels': 'team:checkout' });
    expect(failureOf(rolledBack)).toBe('');
    expect(rolledBack.outputs.incident).toBe(failed.outputs.incident);
    expect(rolledBack.outputs['incident-severity']).toBe('P2');
    expect(incidents()).toHaveLength(before + 1);
    expect(labelsOf(issue)).toEqual(['customer-facing', 'incident', 'severity:P2', 'team:checkout']);
    expect(issue.title).toBe('[P2] production: shop v2.4.0 rolled back');
    expect(timelineRows(issue.body ?? '').map((row) => row.event)).toEqual(['switched', 'failed', 'rolled back']);
    expect(rolledBack.summary).toMatch(/Incident \[#\d+\]\(.*\) \(P2\) updated/);
    expectNoLeak(rolledBack);
  });

  it('is P1 when the database was restored, and P3/P4 by what changed before a failure', async () => {
    const restored = await stage('rolled-back', { 'database-restored': 'true', 'backup-id': 'bk-1' });
    expect(restored.outputs['incident-severity']).toBe('P1');
    expect(issueNumbered(restored.outputs.incident).body).toMatch(/Data written after the pre-deploy backup bk\\-1/);

    sha = sha.replace(/^d/, 'e');
    await stage('migrated');
    const p3 = await stage('failed');
    expect(p3.outputs['incident-severity']).toBe('P3');
    expect(issueNumbered(p3.outputs.incident).body).toContain('No user traffic reached the failed release');

    sha = sha.replace(/^e/, 'f');
    const p4 = await stage('failed', { 'incident-severity': 'p2' });
    expect(p4.outputs['incident-severity']).toBe('P2');
    expect(issueNumbered(p4.outputs.incident).body).toContain("the policy's rule gives P4");
  });
});

describe('no incident', () => {
  it('for a staging failure, a production success or incident: never', async () => {
    const before = incidents().length;
    for (const [status, inputs] of [
      ['failed', { environment: 'staging' }],
      ['rolled-back', { environment: 'prod-eu' }],
      ['succeeded', {}],
      ['failed', { incident: 'never' }],
    ] as const) {
      const run = await stage(status, inputs);
      expect(failureOf(run)).toBe('');
      expect(run.outputs.incident).toBe('');
      expect(run.outputs['incident-url']).toBe('');
    }
    expect(incidents()).toHaveLength(before);
  });
});

describe('a forged thread', () => {
  function forged(key: string, incident: { number: number; repository: string }): string {
    return JSON.stringify({
      version: 1,
      key,
      startedAt: new Date().toISOString(),
      stages: [],
      incident: { ...incident, severity: 'P4' },
    });
  }

  it("never edits someone else's issue, another thread's incident or another repository's: it opens its own", async () => {
    const keys = [0, 1, 2].map((index) => `forged-${n}-${index}`);
    const marker = (key: string) => renderStateBlock(incidentKey(key), { severity: 'P4' });
    const victims = [
      // Someone's issue, even one carrying the thread's marker.
      github.addIssue(OWNER, REPO, { title: 'Payments roadmap', body: `plans\n${marker(keys[0]!)}`, login: 'dev' }),
      // The suite's own issue of another thread (a change request, an older incident).
      github.addIssue(OWNER, REPO, {
        title: 'Change request',
        body: renderStateBlock(incidentKey('another thread'), {}),
        labels: ['incident'],
        login: BOT,
      }),
      // The suite's own issue in another repository, with this thread's marker.
      github.addIssue(OWNER, 'other', { title: 'Elsewhere', body: marker(keys[2]!), labels: ['incident'], login: BOT }),
    ];
    const snapshot = victims.map((issue) => JSON.stringify(issue));
    const targets = [
      { number: victims[0]!.number, repository: `${OWNER}/${REPO}` },
      { number: victims[1]!.number, repository: `${OWNER}/${REPO}` },
      { number: victims[2]!.number, repository: `${OWNER}/other` },
    ];
    const opened = new Set<string>();
    for (const [index, target] of targets.entries()) {
      const threadKey = keys[index]!;
      const run = await stage('failed', {
        'keep-thread': 'false',
        'thread-key': threadKey,
        thread: forged(threadKey, target),
      });
      expect(failureOf(run)).toBe('');
      expect(run.outputs.incident).not.toBe('');
      expect(Number(run.outputs.incident)).not.toBe(target.number);
      const issue = issueNumbered(run.outputs.incident);
      expect(issue.user?.login).toBe(BOT);
      opened.add(run.outputs.incident!);
      expect(JSON.parse(run.outputs.thread!)).toMatchObject({
        incident: { number: issue.number, repository: `${OWNER}/${REPO}` },
      });
      expectNoLeak(run);
    }
    expect(opened.size).toBe(3);
    expect(victims.map((issue) => JSON.stringify(issue))).toEqual(snapshot);
  });
});

describe('a deployment record', () => {
  it("made by another account is left out with a warning; one by the token's login counts", async () => {
    const at = new Date(Date.now() - 60_000);
    const foreign = await deploymentRecord(MALLORY_TOKEN, [{ state: 'success', description: 'green live', at }], at);
    const run = await stage('failed', { 'deployment-id': String(foreign) });
    expect(failureOf(run)).toBe('');
    const warnings = run.annotations.filter((a) => a.level === 'warning').map((a) => a.message);
    expect(warnings.some((w) => w.includes(`made by mallory, not ${BOT}`))).toBe(true);
    const issue = issueNumbered(run.outputs.incident);
    expect(timelineRows(issue.body ?? '').map((row) => row.event)).toEqual(['failed']);
    // Its "success" would have said traffic moved (P1): left out, the thread alone says P4.
    expect(run.outputs['incident-severity']).toBe('P4');
  });
});

describe('hostile text', () => {
  it('is harmless in the incident: no mention, no reference, no HTML, no link', async () => {
    const run = await stage('failed', {
      service: '@acme/payments #1 <script>alert(1)</script>',
      version: '**v9** [x](https://evil.test) #2',
      details: 'ping @acme/oncall about #3\n<img src=x onerror=alert(1)>\n| a | b |\n# heading',
      impact: '<b>none</b> @here',
    });
    expect(failureOf(run)).toBe('');
    const issue = issueNumbered(run.outputs.incident);
    // A title is plain text on GitHub, but a mention or a reference in it still links.
    for (const text of [issue.title, issue.body ?? '']) {
      expect(text).not.toMatch(/@(?!\u200b)/);
      expect(text).not.toMatch(/#(?!\u200b|#|\s)/);
    }
    expect(issue.body).not.toMatch(/(?<!\\)<(script|img|b)\b/i);
    expect(issue.body).not.toMatch(/\]\(https:\/\/evil/);
    expect(issue.body).not.toMatch(/^# heading/m);
    expect(issue.body).toContain('\\<script\\>');
    // The details' table cells stay text: the only tables are the suite's own.
    expect(issue.body).not.toMatch(/^\| a \| b \|$/m);
    expect(issue.body).toContain(POST_MORTEM_MARK);
    expectNoLeak(run);
  });
});

describe('bad input', () => {
  const base = { status: 'failed', environment: 'production' };
  it.each<[string, Record<string, string>, string, RegExp]>([
    ['an unknown incident mode', { incident: 'always' }, 'incident', /one of auto, never.*Example: incident: never/s],
    [
      'a severity outside P1..P4',
      { 'incident-severity': 'critical' },
      'incident-severity',
      /P1, P2, P3 or P4.*Example: incident-severity: P2/s,
    ],
    ['a deployment id that is not a number', { 'deployment-id': 'latest' }, 'deployment-id', /positive whole number/],
    ['database-restored that is not a boolean', { 'database-restored': 'yes' }, 'database-restored', /true or false/],
    ['a label over 50 characters', { 'incident-labels': 'x'.repeat(51) }, 'incident-labels', /at most 50/],
  ])('refuses %s, naming the input with an example', (_, values, input, pattern) => {
    const error = inputErrorOf(() => readSettings(new Inputs((name) => ({ ...base, ...values })[name])));
    expect(error.input).toBe(input);
    expect(error.message).toMatch(pattern);
    expect(error.message).toContain('Example:');
  });

  it("fails the step the runner's way before anything is opened", async () => {
    const before = incidents().length;
    const run = await stage('failed', { 'incident-severity': 'P0' });
    expect(run.exitCode).toBe(1);
    expect(failureOf(run)).toMatch(/^Input 'incident-severity' .*Example: incident-severity: P2/s);
    expect(incidents()).toHaveLength(before);
    expectNoLeak(run);
  });
});
