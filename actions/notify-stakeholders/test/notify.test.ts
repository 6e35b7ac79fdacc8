import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { FakeGitHub } from '../../../test/fakes/github.ts';
import { FakeChecks } from '../../../test/fakes/github-checks.ts';
import { FakeGrafana } from '../../../test/fakes/grafana.ts';
import { FakePagerDuty } from '../../../test/fakes/pagerduty.ts';
import { FakeSlack } from '../../../test/fakes/slack.ts';
import { failureOf, leakedSecrets, runBuiltAction, type ActionRun } from '../../../test/helpers/run-action.ts';
import { WebhookReceiver } from '../../../test/helpers/webhook-receiver.ts';

const OWNER = 'acme';
const REPO = 'shop';
const WEBHOOK_SECRET = 'whsec-0123456789abcdef-notify';
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
  routingKey = pagerduty.addIntegration();
});
afterAll(() => Promise.all([github.close(), slack.close(), pagerduty.close(), grafana.close(), receiver.close()]));

beforeEach(() => {
  n++;
  sha = n.toString(16).padStart(40, 'c');
  pull = github.addIssue(OWNER, REPO, { title: HOSTILE_TITLE, login: 'dev' }).number;
});

function secrets(): string[] {
  return [slack.token, routingKey, grafana.token, WEBHOOK_SECRET, github.token];
}

function channelInputs(): Record<string, string> {
  return {
    'github-token': github.token,
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
  const folder = mkdtempSync(join(tmpdir(), 'notify-event-'));
  const eventPath = join(folder, 'event.json');
  writeFileSync(eventPath, JSON.stringify({ pull_request: { number: pull, title: HOSTILE_TITLE, head: { sha } } }));
  return runBuiltAction(
    'notify-stakeholders',
    { status, environment: 'production', version: 'v2.4.0', ...channelInputs(), ...inputs },
    {
      env: {
        GITHUB_API_URL: github.url,
        GITHUB_REPOSITORY: `${OWNER}/${REPO}`,
        GITHUB_EVENT_PATH: eventPath,
        GITHUB_EVENT_NAME: 'pull_request',
        GITHUB_SHA: sha,
        GITHUB_WORKSPACE: folder,
        ...env,
      },
    },
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
