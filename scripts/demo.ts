// The suite's main job on this machine, until the pipeline demo exists: the built actions run
// exactly as the runner runs them, against local targets. migrate plans and applies the expand
// phase of a migrations folder; db-backup takes an encrypted, verified backup of the database and
// restores it into a copy; smoke-test checks a service on
// loopback and a real Prometheus scraping it: a healthy release passes, one with 8% errors is stopped.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as age from 'age-encryption';
import { createPgDatabase, dropPgDatabase, pgQuery } from '../test/helpers/databases.ts';
import { TestServer } from '../test/helpers/http-server.ts';
import { MetricsApp, PrometheusServer } from '../test/helpers/prometheus.ts';
import { runBuiltAction, type ActionRun } from '../test/helpers/run-action.ts';

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
console.log(
  failed
    ? '\nDemo did not go as expected.'
    : '\nDemo done: the backup was verified and restored; the healthy release passed, the faulty one was stopped.',
);
process.exit(failed ? 1 : 0);
