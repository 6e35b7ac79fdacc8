// The suite's main job on this machine, until the pipeline demo exists: the built actions run
// exactly as the runner runs them, against local targets. migrate plans and applies the expand
// phase of a migrations folder; db-backup takes an encrypted, verified backup of the database and
// restores it into a copy; smoke-test checks a service on
// loopback and a real Prometheus scraping it: a healthy release passes, one with 8% errors is stopped;
// approval-gate takes a normal change through its change request against a fake GitHub API on
// loopback: opened and pending, the author's own approval ignored, an approver's counted, the
// listener dispatching the continuation, whose gate passes, and the outcome closing the request.
// blue-green-switch moves a real nginx from blue to green in three weight steps, each read back,
// verifies through the live URL, and rolls back from the deployment record in a later run.
// notify-stakeholders follows one deployment through three stages on one thread: a Slack message
// (a fake Web API) edited in place with a reply per stage, mail through a real SMTP server, and a
// signed webhook checked by its receiver; the same stage sent again changes nothing.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as age from 'age-encryption';
import { FakeGitHub } from '../test/fakes/github.ts';
import { createPgDatabase, dropPgDatabase, pgQuery } from '../test/helpers/databases.ts';
import { TestServer } from '../test/helpers/http-server.ts';
import { MetricsApp, PrometheusServer } from '../test/helpers/prometheus.ts';
import { repoRoot, runBuiltAction, type ActionRun } from '../test/helpers/run-action.ts';
import { nginxInputs, runSwitch, startNginxStage } from '../actions/blue-green-switch/test/helpers.ts';
import { FakeChecks } from '../test/fakes/github-checks.ts';
import { FakeSlack } from '../test/fakes/slack.ts';
import { TestSmtpServer } from '../test/helpers/smtp.ts';
import { WebhookReceiver } from '../test/helpers/webhook-receiver.ts';

let failed = false;

const database = await createPgDatabase('demo_shop');
const copy = `${database}_copy`;
try {
  console.log('\n━━ migrate: plan (lint, plan hash), then apply the expand phase with the approved hash ━━');
  const migrations = mkdtempSync(join(tmpdir(), 'demo-migrations-'));
  writeFileSync(
    join(migrations, 'V1__add_loyalty.sql'),
    '-- migrate: phase=expand\nALTER TABLE customers ADD COLUMN loyalty_points int DEFAULT 0;\n',
  );
  writeFileSync(
    join(migrations, 'V2__index_orders.sql'),
    '-- migrate: no-transaction, phase=expand\nCREATE INDEX CONCURRENTLY orders_customer ON orders (customer_id);\n',
  );
  writeFileSync(
    join(migrations, 'V3__drop_note.sql'),
    '-- migrate: phase=contract\nALTER TABLE customers DROP COLUMN note;\n',
  );
  const dbUrl = `postgres://postgres@127.0.0.1:5432/${database}`;
  const planned = await runBuiltAction('migrate', { command: 'plan', folder: migrations, 'database-url': dbUrl });
  console.log(planned.summary.trim());
  const applied = await runBuiltAction('migrate', {
    command: 'apply',
    phase: 'expand',
    folder: migrations,
    'database-url': dbUrl,
    'expected-plan-hash': planned.outputs['plan-hash'] ?? '',
  });
  console.log(applied.summary.trim());
  if (planned.exitCode !== 0 || applied.exitCode !== 0 || applied.outputs['current-version'] !== '2') {
    failed = true;
    console.error(planned.log, applied.log);
  }

  console.log('\n━━ db-backup: back up the database, verify it, restore it into a copy ━━');
  const identity = await age.generateIdentity();
  const recipient = await age.identityToRecipient(identity);
  const store = mkdtempSync(join(tmpdir(), 'demo-backups-'));
  const url = `postgres://postgres@127.0.0.1:5432/${database}`;
  // The manifest-signing key pair: the backup job holds the private key, restores pin the public one.
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const signingKey = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const verifyKey = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const backup = await runBuiltAction('db-backup', {
    'database-url': url,
    store,
    'signing-key': signingKey,
    recipients: recipient,
    labels: 'pre-deploy',
    verify: 'true',
    identity,
  });
  console.log(backup.summary.trim());
  const restore = await runBuiltAction('db-backup', {
    command: 'restore',
    'database-url': url,
    store,
    identity,
    'verify-key': verifyKey,
    'target-database': copy,
  });
  const rows = (await pgQuery(copy, 'SELECT count(*)::int AS n FROM orders')).rows[0] as { n: number };
  console.log(
    `\nrestored ${rows.n} orders into ${copy}; exit codes ${backup.exitCode}, ${restore.exitCode}; store: ${store}`,
  );

  console.log(
    '\n━━ db-backup: a release loses rows; roll the live database back (restored aside, checked, swapped) ━━',
  );
  await pgQuery(database, 'DELETE FROM orders WHERE id > 100');
  const rollback = await runBuiltAction('db-backup', {
    command: 'restore',
    'database-url': url,
    store,
    identity,
    'verify-key': verifyKey,
    confirm: database,
  });
  console.log(rollback.summary.trim());
  const after = (await pgQuery(database, 'SELECT count(*)::int AS n FROM orders')).rows[0] as { n: number };
  const kept = rollback.outputs['replaced-database'] ?? '';
  console.log(`\n${database} has ${after.n} orders again; the damaged one is kept as ${kept}`);
  if (kept !== '') await dropPgDatabase(kept);
  if (
    backup.exitCode !== 0 ||
    restore.exitCode !== 0 ||
    rows.n !== 1200 ||
    rollback.exitCode !== 0 ||
    after.n !== 1200
  ) {
    failed = true;
    console.error(backup.log, restore.log, rollback.log);
  }
} finally {
  await dropPgDatabase(copy);
  await dropPgDatabase(database);
}

const service = await TestServer.start();
service
  .route('GET', '/health', { body: { status: 'ok', version: '1.4.2' } })
  .route('GET', '/', { body: '<html><title>Shop</title>Welcome</html>', headers: { 'content-type': 'text/html' } })
  .route('GET', '/api/me', (request) => ({
    status: request.headers.authorization === 'Bearer demo-token-123' ? 200 : 401,
  }));
const metrics = await MetricsApp.start();
metrics.set('green', { perScrape: 500, errorRatio: 0.004 }).set('blue', { perScrape: 500, errorRatio: 0.08 });
console.log('\nStarting Prometheus on loopback and waiting for a few scrapes…');
const prometheus = await PrometheusServer.start([metrics.server.url]);
try {
  await prometheus.waitFor('count_over_time(app_requests_total{service="green",code="200"}[10s])', (v) => v >= 4);
  const checks = `
- name: health
  url: /health
  expect: { status: 200, json: { status: ok }, max-latency: 1s }
- name: home page
  url: /
  expect: { status: 2xx, body-contains: Welcome, headers: { content-type: text/html } }
- name: signed-in API
  url: /api/me
  headers: { Authorization: Bearer demo-token-123 }
`;
  const errorRate = (colour: string) =>
    `sum(rate(app_requests_total{service="${colour}",code=~"5.."}[$window])) / sum(rate(app_requests_total{service="${colour}"}[$window]))`;
  const smoke = (colour: string): Promise<ActionRun> =>
    runBuiltAction('smoke-test', {
      'base-url': service.url.href,
      checks,
      'soak-duration': '2s',
      'soak-interval': '500ms',
      'prometheus-url': prometheus.url.href,
      window: '10s',
      metrics: `- name: error rate (${colour})\n  query: ${JSON.stringify(errorRate(colour))}\n  min-samples: 100\n  samples-query: sum(increase(app_requests_total{service="${colour}"}[$window]))`,
    });

  for (const [colour, expected] of [
    ['green', 'pass'],
    ['blue', 'fail'],
  ] as const) {
    console.log(`\n━━ smoke-test against the ${colour} release ━━`);
    const run = await smoke(colour);
    console.log(run.summary.trim());
    console.log(`\nexit code ${run.exitCode}, outputs: passed=${run.outputs.passed} verdict=${run.outputs.verdict}`);
    if (run.outputs.verdict !== expected) {
      failed = true;
      console.error(`expected ${expected}; log:\n${run.log}`);
    }
  }
} finally {
  await prometheus.stop();
  await metrics.server.close();
  await service.close();
}
console.log('\n━━ approval-gate: a normal change in its window, approved while no runner waits ━━');
const github = await FakeGitHub.start();
try {
  const [owner, repo] = ['acme', 'service'];
  const token = 'ghs_demogatetoken000000000000000000000000';
  const sha = '4f1c2a9d'.repeat(5);
  const base = '9e8d7c6b'.repeat(5);
  github.addUser('github-actions[bot]', token);
  for (const login of ['alice', 'bob', 'dev']) github.setRole(owner, repo, login, 'write');
  github.setComparison(owner, repo, base, sha, [{ filename: 'src/checkout.ts', additions: 24, deletions: 6 }]);
  // GitHub's clock: the change request is opened on 27 November, nine days before the window it
  // uses (the first Sunday of December, 02:00-04:00 UTC), in which the action's own clock runs.
  let clock = Date.parse('2026-11-27T09:00:00Z');
  github.now = () => new Date((clock += 1000));
  const events = mkdtempSync(join(tmpdir(), 'demo-gate-events-'));
  const gate = (
    step: string,
    inputs: Record<string, string>,
    event: { name: string; actor: string; payload: Record<string, unknown> },
  ): Promise<ActionRun> => {
    const eventPath = join(events, `${step}.json`);
    writeFileSync(eventPath, JSON.stringify(event.payload));
    return runBuiltAction(
      'approval-gate',
      {
        'github-token': token,
        'token-login': 'github-actions[bot]',
        approvers: 'alice, bob, dev',
        policy: 'time-zone: UTC',
        ...inputs,
      },
      {
        env: {
          GITHUB_API_URL: github.url,
          GITHUB_EVENT_NAME: event.name,
          GITHUB_EVENT_PATH: eventPath,
          GITHUB_ACTOR: event.actor,
          GITHUB_TRIGGERING_ACTOR: event.actor,
          NODE_OPTIONS: `--import ${join(repoRoot, 'test', 'helpers', 'fake-now.ts')}`,
          FAKE_NOW: '2026-12-06T02:30:00Z',
        },
      },
    );
  };
  const deployInputs = { mode: 'decide', environment: 'production', sha, 'base-sha': base };
  const comment = (login: string, number: number) => ({
    name: 'issue_comment',
    actor: login,
    payload: {
      action: 'created',
      issue: { number, labels: [{ name: 'change-request' }] },
      comment: { user: { login, type: 'User' } },
      repository: { default_branch: 'main' },
    },
  });
  const listen = (login: string, number: number) =>
    gate(`listen-${login}`, { command: 'decide', 'continue-workflow': 'deploy.yml' }, comment(login, number));
  const show = (run: ActionRun, title: string, ok: boolean) => {
    console.log(`\n── ${title} ──\n${run.summary.trim()}`);
    const decided =
      run.outputs.decision === undefined ? '' : `, approved=${run.outputs.approved} decision=${run.outputs.decision}`;
    console.log(`\nexit code ${run.exitCode}${decided}`);
    if (!ok) {
      failed = true;
      console.error(`not what it should have done; log:\n${run.log}`);
    }
  };

  const push = { name: 'push', actor: 'dev', payload: { head_commit: { author: { username: 'dev' } } } };
  const opened = await gate('push', deployInputs, push);
  show(
    opened,
    'deploy.yml on push: the gate opens the change request and ends pending',
    opened.outputs.decision === 'pending',
  );
  const number = Number(opened.outputs['change-request']);
  const hash = opened.outputs['evidence-hash'] ?? '';

  github.addComment(owner, repo, number, { login: 'dev', body: `approve ${hash}` });
  const self = await listen('dev', number);
  show(
    self,
    "the listener on dev's comment: the change author's own approval is ignored",
    self.outputs.decision === 'pending',
  );

  github.addComment(owner, repo, number, { login: 'alice', body: `Approve ${hash}, checked the compare.` });
  const approved = await listen('alice', number);
  const dispatch = github.dispatches[0];
  const dispatched = (dispatch?.inputs ?? {}) as Record<string, string>;
  const dispatchedSha = dispatched.sha ?? '';
  show(
    approved,
    "the listener on alice's comment: approved, the continuation dispatched",
    approved.outputs.decision === 'approved' && github.dispatches.length === 1 && dispatchedSha === sha,
  );

  const continuation = await gate(
    'dispatch',
    { ...deployInputs, sha: dispatchedSha },
    {
      name: 'workflow_dispatch',
      actor: 'github-actions[bot]',
      payload: { inputs: dispatched },
    },
  );
  show(
    continuation,
    "deploy.yml's continuation: the gate recomputes the evidence and passes at once",
    continuation.outputs.approved === 'true' &&
      continuation.outputs.approvers === 'alice' &&
      continuation.outputs['evidence-hash'] === hash,
  );

  const recorded = await gate(
    'outcome',
    { command: 'record-outcome', 'change-request': String(number), outcome: 'succeeded' },
    push,
  );
  const closed = github.issue(owner, repo, number)?.state === 'closed';
  show(recorded, 'record-outcome after the deployment: the request is closed', recorded.exitCode === 0 && closed);
} finally {
  await github.close();
}

console.log('\n━━ blue-green-switch: blue → green in three steps on a real nginx, then a rollback from the record ━━');
const stage = await startNginxStage();
try {
  const inputs = nginxInputs(stage, 'production');
  const liveColour = async () => (await fetch(`${stage.nginx.url}/`)).headers.get('x-colour') ?? 'none';
  const show = (run: ActionRun, title: string, ok: boolean) => {
    console.log(`\n── ${title} ──\n${run.summary.trim()}`);
    console.log(
      `\nexit code ${run.exitCode}, live=${run.outputs.live} previous=${run.outputs.previous} switched=${run.outputs.switched} deployment-id=${run.outputs['deployment-id']}`,
    );
    if (!ok) {
      failed = true;
      console.error(`not what it should have done; log:\n${run.log}`);
    }
  };

  const switched = await runSwitch(stage.github, {
    ...inputs,
    to: 'green',
    weights: '10, 50, 100',
    'step-pause': '1s',
  });
  const afterSwitch = await liveColour();
  show(
    switched,
    'switch to green: 10%, 50%, 100%, each read back from nginx, then verified through the live URL',
    switched.exitCode === 0 && switched.outputs.live === 'green' && afterSwitch === 'green',
  );
  console.log(`the live URL now answers from ${afterSwitch}`);

  // A later workflow: no outputs from the switch's job, only the environment's deployment record.
  const rolledBack = await runSwitch(stage.github, { ...inputs, command: 'rollback' }, { env: { GITHUB_RUN_ID: '2' } });
  const afterRollback = await liveColour();
  const record = stage.github.deployments.find((d) => String(d.id) === rolledBack.outputs['deployment-id']);
  show(
    rolledBack,
    'rollback from a later run: the deployment record says blue was live before, so blue goes back',
    rolledBack.exitCode === 0 &&
      rolledBack.outputs.live === 'blue' &&
      afterRollback === 'blue' &&
      (record?.payload as { rolledBack?: number } | undefined)?.rolledBack ===
        Number(switched.outputs['deployment-id']),
  );
  console.log(`the live URL now answers from ${afterRollback}`);
} finally {
  await stage.close();
}

console.log('\n━━ notify-stakeholders: one deployment, one thread, three channels ━━');
{
  const webhookSecret = 'demo-webhook-secret-0123456789';
  const [github, slack, smtp, receiver] = await Promise.all([
    FakeGitHub.start(),
    FakeSlack.start(),
    TestSmtpServer.start({ tls: 'starttls' }),
    WebhookReceiver.start(webhookSecret),
  ]);
  try {
    new FakeChecks(github);
    const folder = mkdtempSync(join(tmpdir(), 'demo-notify-'));
    const caFile = join(folder, 'smtp-ca.pem');
    writeFileSync(caFile, smtp.ca);
    const sha = 'feed'.padEnd(40, '0');
    const notify = (status: string) =>
      runBuiltAction(
        'notify-stakeholders',
        {
          status,
          environment: 'production',
          version: 'v2.4.0',
          title: 'Gift cards at checkout',
          'github-token': github.token,
          'github-comment': 'none',
          'slack-token': slack.token,
          'slack-channel': '#deploys',
          'slack-api-url': slack.apiUrl,
          'smtp-host': smtp.host,
          'smtp-port': String(smtp.port),
          'smtp-ca-file': caFile,
          'email-from': 'deploys@example.com',
          'email-to': 'stakeholders@example.com',
          'webhook-url': receiver.url.href,
          'webhook-secret': webhookSecret,
        },
        { env: { GITHUB_API_URL: github.url, GITHUB_SHA: sha } },
      );
    for (const status of ['started', 'switched', 'succeeded', 'succeeded']) {
      const run = await notify(status);
      console.log(`\n── ${status} ──\n${run.summary.trim()}`);
      if (run.exitCode !== 0 || run.outputs.failed !== '') {
        failed = true;
        console.error(`not what it should have done; log:\n${run.log}`);
      }
    }
    const mains = slack.channelMessages('C0DEPLOYS1');
    const replies = mains.length === 1 ? slack.replies('C0DEPLOYS1', mains[0]!.ts).length : 0;
    console.log(
      `\nSlack: ${mains.length} message, ${replies} replies in its thread; mail: ${smtp.received.length} (stakeholders hear the start and the finish); webhook: ${receiver.deliveries.length} signed deliveries, ${receiver.rejected.length} refused`,
    );
    if (mains.length !== 1 || replies !== 3 || smtp.received.length !== 2 || receiver.deliveries.length !== 3)
      failed = true;
  } finally {
    await Promise.all([github.close(), slack.close(), smtp.close(), receiver.close()]);
  }
}

console.log(
  failed
    ? '\nDemo did not go as expected.'
    : "\nDemo done: the backup was verified and restored; the healthy release passed, the faulty one was stopped; the change went ahead on an approver's word, not its author's, and its request was closed; green went live in three verified steps and blue came back from the record; the deployment was one Slack thread, two mails and three signed webhooks.",
);
process.exit(failed ? 1 : 0);
