import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { FakeGitHub } from '../../../test/fakes/github.ts';
import { FakeChecks } from '../../../test/fakes/github-checks.ts';
import { FakeGrafana } from '../../../test/fakes/grafana.ts';
import { FakePagerDuty } from '../../../test/fakes/pagerduty.ts';
import { FakeSlack, textFields } from '../../../test/fakes/slack.ts';
import { FakeTeams } from '../../../test/fakes/teams.ts';
import { inputErrorOf } from '../../../test/helpers/expect-input-error.ts';
import { TestSmtpServer } from '../../../test/helpers/smtp.ts';
import { Inputs } from '../../../packages/kit/src/index.ts';
import { readSettings } from '../src/settings.ts';
import { failureOf, leakedSecrets, type ActionRun } from '../../../test/helpers/run-action.ts';
import { WebhookReceiver } from '../../../test/helpers/webhook-receiver.ts';
import { runOnPullRequest } from './runner.ts';

const OWNER = 'acme';
const REPO = 'shop';
const WEBHOOK_SECRET = 'whsec-0123456789abcdef-notify';
const ACTIONS_TOKEN = 'ghs_actionsToken0000000000000000000000';
/** Everything a hostile pull request title can hold. */
const HOSTILE_TITLE =
  'Fix "quotes" & \'apostrophes\'\nsecond line `code` *bold* _it_ <!channel> <@U123> @here @octocat [x](https://evil.test) </td>';

let github: FakeGitHub;
let checks: FakeChecks;
let slack: FakeSlack;
let pagerduty: FakePagerDuty;
let grafana: FakeGrafana;
let receiver: WebhookReceiver;
let routingKey: string;
let n = 0;
let sha: string;
let pull: number;

beforeAll(async () => {
  [github, slack, pagerduty, grafana, receiver] = await Promise.all([
    FakeGitHub.start(),
    FakeSlack.start(),
    FakePagerDuty.start(),
    FakeGrafana.start(),
    WebhookReceiver.start(WEBHOOK_SECRET),
  ]);
  checks = new FakeChecks(github);
  // The workflow's GITHUB_TOKEN acts as github-actions[bot] (which cannot read /user).
  github.addUser('github-actions[bot]', ACTIONS_TOKEN);
  routingKey = pagerduty.addIntegration();
});
afterAll(() => Promise.all([github.close(), slack.close(), pagerduty.close(), grafana.close(), receiver.close()]));

beforeEach(() => {
  n++;
  sha = n.toString(16).padStart(40, 'c');
  pull = github.addIssue(OWNER, REPO, { title: HOSTILE_TITLE, login: 'dev' }).number;
});

function secrets(): string[] {
  return [slack.token, routingKey, grafana.token, WEBHOOK_SECRET, ACTIONS_TOKEN];
}

function channelInputs(): Record<string, string> {
  return {
    'github-token': ACTIONS_TOKEN,
    'slack-token': slack.token,
    'slack-channel': '#deploys',
    'slack-api-url': slack.apiUrl,
    'pagerduty-routing-key': routingKey,
    'pagerduty-api-url': pagerduty.url.href,
    'grafana-url': grafana.url.href,
    'grafana-token': grafana.token,
    'webhook-url': receiver.url.href,
    'webhook-secret': WEBHOOK_SECRET,
  };
}

/** Runs the bundle for one stage of the pull request's deployment, as the runner would. */
function stage(
  status: string,
  inputs: Record<string, string> = {},
  env: Record<string, string> = {},
): Promise<ActionRun> {
  return runOnPullRequest(
    github,
    { repository: `${OWNER}/${REPO}`, sha, pullRequest: { number: pull, title: HOSTILE_TITLE, head: { sha } } },
    { status, environment: 'production', version: 'v2.4.0', ...channelInputs(), ...inputs },
    env,
  );
}

function deliveries(run: ActionRun): { channel: string; outcome: string; detail: string }[] {
  return JSON.parse(run.outputs.deliveries ?? '[]') as { channel: string; outcome: string; detail: string }[];
}

const outcomes = (run: ActionRun) => Object.fromEntries(deliveries(run).map((d) => [d.channel, d.outcome]));

function commentsOnPull(): { body: string }[] {
  const issue = github.issues.get(`${OWNER}/${REPO}`)!.find((i) => i.number === pull)!;
  return (github.comments.get(Number(issue.id)) ?? []).map((c) => ({ body: c.body ?? '' }));
}

describe('one deployment, one thread', () => {
  it('updates one Slack message and one GitHub comment through five stages, and a re-run of a stage sends nothing new', async () => {
    const before = slack.channelMessages('C0DEPLOYS1').length;
    for (const status of ['started', 'approved', 'migrated', 'switched', 'succeeded']) {
      const run = await stage(status);
      expect(failureOf(run)).toBe('');
      expect(run.annotations.filter((a) => a.level === 'warning')).toEqual([]);
      expect(outcomes(run)).toMatchObject({
        slack: 'delivered',
        github: 'delivered',
        grafana: 'delivered',
        webhook: 'delivered',
      });
      expect(leakedSecrets(run, secrets())).toEqual([]);
    }
    const mains = slack.channelMessages('C0DEPLOYS1').slice(before);
    expect(mains).toHaveLength(1);
    expect(JSON.stringify(mains[0])).toMatch(/succeeded/);
    expect(slack.replies('C0DEPLOYS1', mains[0]!.ts)).toHaveLength(5);
    expect(commentsOnPull()).toHaveLength(1);
    expect(commentsOnPull()[0]!.body).toMatch(/succeeded/);
    // The thread lives in one check run on the commit, edited in place.
    const kept = (checks.runs.get(`${OWNER}/${REPO}/${sha}`) ?? []).filter(
      (r) => r.name === 'Deployment notifications: production',
    );
    expect(kept).toHaveLength(1);
    // Grafana shows the deployment as a region; PagerDuty got a change event and no alert.
    const region = [...grafana.annotations.values()].filter(
      (a) => a.tags.includes(`environment:production`) && a.text.includes('v2.4.0'),
    );
    expect(region.at(-1)!.timeEnd).toBeGreaterThan(region.at(-1)!.time);
    expect(pagerduty.changes.filter((c) => JSON.stringify(c).includes(sha.slice(0, 7)))).toHaveLength(1);

    // The same final stage again (a re-run of the job): nothing is posted, edited or paged.
    const slackCalls = slack.log.length;
    const pdRequests = pagerduty.requests.length;
    const webhookDeliveries = receiver.deliveries.length;
    const again = await stage('succeeded');
    expect(failureOf(again)).toBe('');
    expect(Object.values(outcomes(again)).every((o) => o === 'unchanged')).toBe(true);
    expect(slack.log.length).toBe(slackCalls);
    expect(pagerduty.requests.length).toBe(pdRequests);
    expect(receiver.deliveries.length).toBe(webhookDeliveries);
    expect(commentsOnPull()).toHaveLength(1);
  });

  it('carries the thread through the thread output when the commit cannot keep it', async () => {
    const first = await stage('started', { 'keep-thread': 'false' });
    expect(failureOf(first)).toBe('');
    const thread = first.outputs.thread!;
    expect(JSON.parse(thread)).toMatchObject({ version: 1, slack: { channel: 'C0DEPLOYS1' } });
    const second = await stage('switched', { 'keep-thread': 'false', thread });
    expect(failureOf(second)).toBe('');
    expect(second.outputs['slack-ts']).toBe(first.outputs['slack-ts']);
    expect(second.outputs['github-comment-id']).toBe(first.outputs['github-comment-id']);
    expect(commentsOnPull()).toHaveLength(1);
  });
});

describe('failures', () => {
  it('pages PagerDuty (critical) when production fails, and a Slack outage leaves the step green with a warning', async () => {
    // A Slack of its own, down for the whole step.
    const down = await FakeSlack.start();
    down.inject({ kind: 'error', status: 503 }, { times: 1000 });
    try {
      const run = await stage('failed', { timeout: '20s', 'slack-api-url': down.apiUrl });
      expect(run.exitCode).toBe(0);
      expect(outcomes(run)).toMatchObject({
        slack: 'failed',
        github: 'delivered',
        pagerduty: 'delivered',
        webhook: 'delivered',
      });
      const warnings = run.annotations.filter((a) => a.level === 'warning').map((a) => a.message);
      expect(warnings.some((w) => /slack/i.test(w))).toBe(true);
      expect(run.outputs.failed).toBe('slack');
      const alert = [...pagerduty.alerts.values()].find((a) => JSON.stringify(a).includes(sha.slice(0, 7)));
      expect(alert).toMatchObject({ status: 'triggered' });
      expect(JSON.stringify(alert)).toContain('critical');
      expect(leakedSecrets(run, secrets())).toEqual([]);
    } finally {
      await down.close();
    }
  });
});

describe('a hostile pull request title', () => {
  it('arrives intact and harmless on every channel', async () => {
    const [teams, smtp] = await Promise.all([FakeTeams.start(), TestSmtpServer.start({ tls: 'starttls' })]);
    const folder = mkdtempSync(join(tmpdir(), 'notify-ca-'));
    const caFile = join(folder, 'smtp-ca.pem');
    writeFileSync(caFile, smtp.ca);
    const webhook = slack.addWebhook();
    const workflow = teams.addWorkflow();
    try {
      const run = await stage('failed', {
        'slack-webhook-url': webhook.href,
        'teams-webhook-url': workflow.href,
        'smtp-host': smtp.host,
        'smtp-port': String(smtp.port),
        'smtp-ca-file': caFile,
        'email-from': 'deploys@example.com',
        'email-to': 'ops@example.com, product@example.com',
      });
      expect(failureOf(run)).toBe('');
      const all = outcomes(run);
      expect(Object.keys(all).sort()).toEqual(
        ['email', 'github', 'grafana', 'pagerduty', 'slack', 'slack-webhook', 'teams', 'webhook'].sort(),
      );
      expect(Object.values(all).every((o) => o === 'delivered')).toBe(true);
      // Nothing pinged anyone in Slack (the fake flags mention markup in any text field).
      expect(slack.violations).toEqual([]);
      const slackText = JSON.stringify(slack.webhookPayloads.at(-1)!.body);
      expect(slackText).toContain('&lt;!channel&gt;');
      // Teams got an Adaptive Card with the title as text and no mention entity.
      const card = JSON.stringify(teams.cards.at(-1)!.card);
      expect(card).toContain('apostrophes');
      expect(card).not.toContain('msteams');
      // Email: both recipients, over STARTTLS, the title in the text and escaped in the HTML.
      const mail = smtp.received.at(-1)!;
      expect(mail.secure).toBe(true);
      expect(mail.to.sort()).toEqual(['ops@example.com', 'product@example.com']);
      expect(mail.text).toContain('<!channel>');
      expect(mail.html).not.toContain('<!channel>');
      expect(mail.html).not.toContain('</td>"');
      // The webhook receiver checked the signature; the title is the JSON string it was.
      const delivery = receiver.deliveries.at(-1)!;
      expect(delivery.body.message.title).toBe(HOSTILE_TITLE);
      // GitHub: no raw mention of @octocat and no link to evil.test.
      const body = commentsOnPull()[0]!.body;
      expect(body).not.toMatch(/(^|[^\\w&#])@octocat/);
      expect(body).not.toMatch(/\]\(https:\/\/evil/);
      // PagerDuty's summary is one line.
      const alert = [...pagerduty.alerts.values()].find((a) => JSON.stringify(a).includes(sha.slice(0, 7)));
      expect(JSON.stringify(alert)).not.toMatch(/second line\\n/);
      expect(
        textFields(slack.channelMessages('C0DEPLOYS1').at(-1)).some(([, text]) => text.includes('apostrophes')),
      ).toBe(true);
      expect(leakedSecrets(run, [...secrets(), webhook.pathname, 'fakeSignatureSecret'])).toEqual([]);
    } finally {
      await Promise.all([teams.close(), smtp.close()]);
    }
  });
});

describe('bad input', () => {
  const base = { status: 'started', environment: 'production' };
  const cases: [string, Record<string, string>, string, RegExp][] = [
    [
      'a Slack webhook URL that is not https',
      { 'slack-webhook-url': 'http://hooks.slack.com/services/T/B/x' },
      'slack-webhook-url',
      /https/,
    ],
    [
      'a Teams connector URL',
      { 'teams-webhook-url': 'https://acme.webhook.office.com/webhookb2/abc@def/IncomingWebhook/123/456' },
      'teams-webhook-url',
      /retired.*Workflows/,
    ],
    [
      'an address without @',
      { 'smtp-host': 'smtp.example.com', 'email-from': 'd@example.com', 'email-to': 'ops.example.com' },
      'email-to',
      /not an address/,
    ],
    ['an unknown channel', { routing: 'routes: [{ to: [sms] }]' }, 'routing', /unknown channel "sms"/],
    [
      'a routing rule for an unknown severity',
      { routing: 'routes: [{ when: { severity: [urgent] }, to: [slack] }]' },
      'routing',
      /unknown severity/,
    ],
    [
      'a template naming an unknown field',
      { template: '{{service}} {{sevrity}}' },
      'template',
      /unknown field \{\{sevrity\}\}/,
    ],
    ['an unknown status', { status: 'done' }, 'status', /one of scheduled, started/],
    ['a scheduled notice without its window', { status: 'scheduled' }, 'window-start', /required for status scheduled/],
    [
      'SMTP in clear to another host',
      {
        'smtp-host': 'smtp.example.com',
        'smtp-security': 'none',
        'email-from': 'd@example.com',
        'email-to': 'o@example.com',
      },
      'smtp-security',
      /loopback/,
    ],
    [
      'a short webhook secret',
      { 'webhook-url': 'https://hooks.example.com/x', 'webhook-secret': 'short' },
      'webhook-secret',
      /16 characters/,
    ],
    ['a malformed PagerDuty key', { 'pagerduty-routing-key': 'not-a-key' }, 'pagerduty-routing-key', /32/],
    [
      'a thread of another key',
      {
        'thread-key': 'a',
        thread: JSON.stringify({ version: 1, key: 'b', startedAt: '2026-11-27T10:00:00Z', stages: [] }),
      },
      'thread',
      /belongs to thread "b"/,
    ],
  ];
  it.each(cases)('refuses %s, naming the input with an example', (_, values, input, pattern) => {
    const error = inputErrorOf(() => readSettings(new Inputs((name) => ({ ...base, ...values })[name])));
    expect(error.input).toBe(input);
    expect(error.message).toMatch(pattern);
    expect(error.message).toContain('Example:');
  });

  it("fails the step the runner's way, without echoing a secret URL", async () => {
    const secretUrl = 'https://acme.webhook.office.com/webhookb2/abc@def/IncomingWebhook/s3cr3tpart/456';
    const run = await stage('started', { 'teams-webhook-url': secretUrl });
    expect(run.exitCode).toBe(1);
    expect(failureOf(run)).toMatch(/^Input 'teams-webhook-url' .*retired/);
    expect(leakedSecrets(run, ['s3cr3tpart', ...secrets()])).toEqual([]);
  });
});
