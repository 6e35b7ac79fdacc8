import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { FakeChecks } from '../../../test/fakes/github-checks.ts';
import { FakeGitHub } from '../../../test/fakes/github.ts';
import { folderHash, readMigrations } from '../../db/src/migrate/index.ts';
import { createGitHubClient, type GitHubClient } from '../../github/src/index.ts';
import { parsePolicy, POLICY_EXAMPLE } from '../../policy/src/index.ts';
import type { ChecklistContext, ItemKind, ItemResult, PullRequest } from '../src/item.ts';
import { backupReady } from '../src/items/backup-ready.ts';
import { custom } from '../src/items/custom.ts';
import { migrationsTested } from '../src/items/migrations-tested.ts';
import { noFreeze } from '../src/items/no-freeze.ts';
import { noIncidents } from '../src/items/no-incidents.ts';
import { paths } from '../src/items/paths.ts';
import { stagingPassed } from '../src/items/staging-passed.ts';
import { taskList } from '../src/items/task-list.ts';

const repo = { owner: 'acme', repo: 'service' };
const SHA = 'a'.repeat(40);
const OTHER_SHA = 'b'.repeat(40);
const DIGEST = 'sha256:' + '1'.repeat(64);
const HOUR = 3_600_000;

let github: FakeGitHub;
let checks: FakeChecks;
let client: GitHubClient;
let workspace: string;

beforeAll(async () => {
  github = await FakeGitHub.start();
  checks = new FakeChecks(github);
});
afterAll(() => github.close());

beforeEach(() => {
  // The client masks its token with workflow commands on stdout: keep them out of the test output.
  jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  client = createGitHubClient({ token: github.token, baseUrl: github.url, retries: 0, minWriteIntervalMs: 0 });
  checks.runs.clear();
  checks.statuses.clear();
  github.deployments.length = 0;
  github.statuses.clear();
  github.issues.clear();
  workspace = mkdtempSync(join(tmpdir(), 'checklist-items-'));
});
afterEach(() => {
  jest.restoreAllMocks();
  rmSync(workspace, { recursive: true, force: true });
});

function pullRequest(overrides: Partial<PullRequest> = {}): PullRequest {
  return {
    number: 7,
    url: 'https://github.test/acme/service/pull/7',
    author: 'dev',
    body: '',
    headSha: SHA,
    baseRef: 'main',
    labels: [],
    draft: false,
    ...overrides,
  };
}

function contextWith(overrides: Partial<ChecklistContext> & { files?: string[]; now?: number } = {}): ChecklistContext {
  const { files = [], now, ...rest } = overrides;
  return {
    octokit: client,
    repo,
    sha: SHA,
    environment: 'production',
    artifactDigest: undefined,
    pull: pullRequest(),
    changedFiles: () => Promise.resolve(files),
    workspace,
    clock: { now: () => now ?? Date.now(), sleep: () => Promise.resolve() },
    log: () => {},
    ...rest,
  };
}

/** Parses the rule with the item's schema (as the rules file is) and evaluates it; one result. */
async function run<Rule>(kind: ItemKind<Rule>, rule: unknown, context: ChecklistContext): Promise<ItemResult> {
  const result = await kind.evaluate(kind.schema.parse(rule), context);
  if (Array.isArray(result)) throw new Error('expected one result');
  return result;
}

async function runAll<Rule>(kind: ItemKind<Rule>, rule: unknown, context: ChecklistContext): Promise<ItemResult[]> {
  const result = await kind.evaluate(kind.schema.parse(rule), context);
  return Array.isArray(result) ? result : [result];
}

const refused = (kind: ItemKind<unknown>, rule: unknown): string => {
  const parsed = kind.schema.safeParse(rule);
  if (parsed.success) throw new Error(`accepted ${JSON.stringify(rule)}`);
  return parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
};

// --- migrations-tested --------------------------------------------------------------------------

describe('migrations-tested', () => {
  const write = (files: Record<string, string>) => {
    mkdirSync(join(workspace, 'db/migrations'), { recursive: true });
    for (const [name, sql] of Object.entries(files)) writeFileSync(join(workspace, 'db/migrations', name), sql);
  };
  const hashOf = async () => folderHash(await readMigrations(join(workspace, 'db/migrations')));
  const evidence = (hash: string, passed = true) =>
    JSON.stringify({
      folderHash: hash,
      database: 'migtest_1',
      migrations: 2,
      undoFiles: 0,
      appliedTwice: false,
      undoneAll: false,
      schemaMatches: passed,
      passed,
    });
  const changed = ['src/app.ts', 'db/migrations/V2__add_index.sql'];

  beforeEach(() =>
    write({
      'V1__create_orders.sql': 'CREATE TABLE orders (id int);\n',
      'V2__add_index.sql': 'CREATE INDEX orders_id ON orders (id);\n',
    }),
  );

  it('passes with no-migrations when nothing under the folder changed', async () => {
    const result = await run(migrationsTested, {}, contextWith({ files: ['src/app.ts', 'db/migrationsX/V1__a.sql'] }));
    expect(result).toMatchObject({ id: 'migrations-tested', status: 'pass', code: 'no-migrations', required: true });
  });

  it("passes when migrate test's evidence on the SHA has this folder's hash", async () => {
    const hash = await hashOf();
    checks.addCheckRun('acme', 'service', SHA, {
      name: 'migrate test',
      conclusion: 'success',
      output: { title: 'Migrations tested', summary: 'ok', text: evidence(hash) },
    });
    const result = await run(migrationsTested, { 'max-age': '1d' }, contextWith({ files: changed }));
    expect(result).toMatchObject({ status: 'pass', code: 'ok' });
    expect(result.evidence).toMatchObject({ folderHash: hash, tested: { folderHash: hash, passed: true } });
    expect(result.url).toMatch(/\/runs\/\d+$/);
    expect(result.observedAt).toBeDefined();
  });

  it('does not take the evidence from a check run another app made under the same name', async () => {
    const hash = await hashOf();
    checks.addCheckRun('acme', 'service', SHA, {
      name: 'migrate test',
      app: 'some-installed-app',
      conclusion: 'success',
      output: { text: evidence(hash) },
    });
    expect(await run(migrationsTested, {}, contextWith({ files: changed }))).toMatchObject({
      status: 'fail',
      code: 'no-evidence',
    });
    // Naming the app that runs the tests takes it.
    expect(await run(migrationsTested, { app: 'some-installed-app' }, contextWith({ files: changed }))).toMatchObject({
      status: 'pass',
    });
  });

  it('reads the evidence from a fenced block in the summary too', async () => {
    const hash = await hashOf();
    checks.addCheckRun('acme', 'service', SHA, {
      name: 'db check',
      output: { summary: `## Migrations tested\n\n\`\`\`json\n${evidence(hash)}\n\`\`\`\n` },
    });
    const result = await run(migrationsTested, { check: 'db check' }, contextWith({ files: changed }));
    expect(result).toMatchObject({ status: 'pass', code: 'ok' });
  });

  it('fails with hash-mismatch when the evidence is of other migrations', async () => {
    const tested = await hashOf();
    write({ 'V3__drop_column.sql': 'ALTER TABLE orders DROP COLUMN id;\n' });
    checks.addCheckRun('acme', 'service', SHA, { name: 'migrate test', output: { text: evidence(tested) } });
    const result = await run(
      migrationsTested,
      {},
      contextWith({ files: [...changed, 'db/migrations/V3__drop_column.sql'] }),
    );
    expect(result).toMatchObject({ status: 'fail', code: 'hash-mismatch' });
    expect(result.evidence).toMatchObject({ folderHash: await hashOf(), tested: { folderHash: tested } });
  });

  it('fails with no-evidence when the check run is missing, still running or says nothing', async () => {
    expect(await run(migrationsTested, {}, contextWith({ files: changed }))).toMatchObject({ code: 'no-evidence' });
    checks.addCheckRun('acme', 'service', SHA, { name: 'migrate test', status: 'in_progress' });
    expect(await run(migrationsTested, {}, contextWith({ files: changed }))).toMatchObject({ code: 'no-evidence' });
    checks.addCheckRun('acme', 'service', SHA, { name: 'migrate test', output: { text: 'all good, trust me' } });
    expect(await run(migrationsTested, {}, contextWith({ files: changed }))).toMatchObject({
      status: 'fail',
      code: 'no-evidence',
    });
  });

  it('does not take evidence from another SHA', async () => {
    checks.addCheckRun('acme', 'service', OTHER_SHA, {
      name: 'migrate test',
      output: { text: evidence(await hashOf()) },
    });
    expect(await run(migrationsTested, {}, contextWith({ files: changed }))).toMatchObject({ code: 'no-evidence' });
  });

  it('fails with evidence-failed when the test failed or the check run did not succeed', async () => {
    checks.addCheckRun('acme', 'service', SHA, {
      name: 'migrate test',
      output: { text: evidence(await hashOf(), false) },
    });
    expect(await run(migrationsTested, {}, contextWith({ files: changed }))).toMatchObject({ code: 'evidence-failed' });
    // The newest run (a re-run) speaks.
    checks.addCheckRun('acme', 'service', SHA, {
      name: 'migrate test',
      conclusion: 'failure',
      output: { text: evidence(await hashOf()) },
    });
    const result = await run(migrationsTested, {}, contextWith({ files: changed }));
    expect(result).toMatchObject({ code: 'evidence-failed', evidence: { checkRun: { conclusion: 'failure' } } });
  });

  it('fails with too-old when the test is older than max-age', async () => {
    const now = Date.parse('2026-11-27T12:00:00Z');
    checks.addCheckRun('acme', 'service', SHA, {
      name: 'migrate test',
      completedAt: new Date(now - 3 * HOUR).toISOString(),
      output: { text: evidence(await hashOf()) },
    });
    const old = await run(migrationsTested, { 'max-age': '2h' }, contextWith({ files: changed, now }));
    expect(old).toMatchObject({ status: 'fail', code: 'too-old', observedAt: '2026-11-27T09:00:00.000Z' });
    const fresh = await run(migrationsTested, { 'max-age': '4h' }, contextWith({ files: changed, now }));
    expect(fresh).toMatchObject({ status: 'pass', code: 'ok' });
  });

  it('fails with unavailable when GitHub or the changed files cannot be read', async () => {
    github.inject('GET', /check-runs$/, { status: 500, body: { message: 'boom' } });
    expect(await run(migrationsTested, {}, contextWith({ files: changed }))).toMatchObject({
      status: 'fail',
      code: 'unavailable',
    });
    const broken = contextWith({ changedFiles: () => Promise.reject(new Error('compare failed')) });
    expect(await run(migrationsTested, {}, broken)).toMatchObject({ status: 'fail', code: 'unavailable' });
  });

  it('refuses bad rules', () => {
    expect(refused(migrationsTested, { 'max-age': '3 fortnights' })).toMatch(/max-age: must be a positive duration/);
    expect(refused(migrationsTested, { 'max-age': -5 })).toMatch(/max-age/);
    expect(refused(migrationsTested, { folder: '../elsewhere' })).toMatch(/folder/);
    expect(refused(migrationsTested, { chek: 'x' })).toMatch(/chek/);
    expect(migrationsTested.schema.parse({})).toEqual({
      required: true,
      folder: 'db/migrations',
      check: 'migrate test',
      app: 'github-actions',
    });
  });
});

// --- backup-ready -------------------------------------------------------------------------------

describe('backup-ready', () => {
  const now = Date.parse('2026-11-27T12:00:00Z');
  const listed = (hoursAgo: number, verified: boolean, id = `b-${hoursAgo}`, labels: string[] = []) => ({
    id,
    completedAt: new Date(now - hoursAgo * HOUR).toISOString(),
    labels,
    sizeBytes: 1024,
    verified,
  });

  it("passes with a verified backup younger than max-age, from db-backup list's output text", async () => {
    const output = JSON.stringify([listed(1, false), listed(3, true, 'nightly'), listed(30, true)]);
    const result = await run(backupReady, { backups: output }, contextWith({ now }));
    expect(result).toMatchObject({
      id: 'backup-ready',
      status: 'pass',
      code: 'ok',
      observedAt: listed(3, true).completedAt,
    });
    expect(result.evidence).toMatchObject({ backup: { id: 'nightly', verified: true }, maxAgeMs: 24 * HOUR });
  });

  it('gives the same result, and so the same evidence hash, an hour later while still in date', async () => {
    const backups = [listed(3, true, 'nightly')];
    const first = await run(backupReady, { backups }, contextWith({ now }));
    const later = await run(backupReady, { backups }, contextWith({ now: now + HOUR }));
    expect(later).toEqual(first);
  });

  it('fails with too-old when the newest verified backup is older than max-age', async () => {
    const result = await run(backupReady, { backups: [listed(1, false), listed(30, true)] }, contextWith({ now }));
    expect(result).toMatchObject({ status: 'fail', code: 'too-old' });
    expect(
      await run(backupReady, { backups: [listed(30, true)], 'max-age': '2d' }, contextWith({ now })),
    ).toMatchObject({
      code: 'ok',
    });
  });

  it('fails with not-verified, no-backups or unavailable', async () => {
    expect(await run(backupReady, { backups: [listed(1, false)] }, contextWith({ now }))).toMatchObject({
      code: 'not-verified',
    });
    expect(await run(backupReady, { backups: '[]' }, contextWith({ now }))).toMatchObject({ code: 'no-backups' });
    expect(await run(backupReady, {}, contextWith({ now }))).toMatchObject({ status: 'fail', code: 'unavailable' });
    expect(await run(backupReady, { backups: '' }, contextWith({ now }))).toMatchObject({ code: 'unavailable' });
  });

  it('counts only backups carrying the labels', async () => {
    const backups = [listed(1, true, 'other', ['orders-staging']), listed(2, true, 'mine', ['orders', 'pre-deploy'])];
    const result = await run(backupReady, { backups, labels: ['orders'] }, contextWith({ now }));
    expect(result.evidence).toMatchObject({ backup: { id: 'mine' } });
    expect(await run(backupReady, { backups, labels: ['billing'] }, contextWith({ now }))).toMatchObject({
      code: 'no-backups',
    });
  });

  it('refuses bad rules', () => {
    expect(refused(backupReady, { 'max-age': '3 fortnights' })).toMatch(/max-age/);
    expect(refused(backupReady, { 'max-age': '-1h' })).toMatch(/max-age/);
    expect(refused(backupReady, { backups: 'not json' })).toMatch(/not JSON/);
    // prune's output has no verified field: not a catalog this item can read.
    expect(refused(backupReady, { backups: [{ id: 'x', completedAt: '2026-11-27T00:00:00Z', reasons: [] }] })).toMatch(
      /verified/,
    );
  });
});

// --- staging-passed -----------------------------------------------------------------------------

describe('staging-passed', () => {
  async function deploy(sha: string, states: ('success' | 'failure' | 'inactive' | 'in_progress')[], extra = {}) {
    const { data } = await client.rest.repos.createDeployment({
      ...repo,
      ref: sha,
      environment: 'staging',
      auto_merge: false,
      required_contexts: [],
      ...extra,
    });
    const id = (data as { id: number }).id;
    for (const state of states) await client.rest.repos.createDeploymentStatus({ ...repo, deployment_id: id, state });
    return id;
  }

  it('passes with a successful deployment of this SHA to staging', async () => {
    const id = await deploy(SHA, ['in_progress', 'success']);
    const result = await run(stagingPassed, {}, contextWith());
    expect(result).toMatchObject({ id: 'staging-passed', status: 'pass', code: 'ok' });
    expect(result.evidence).toMatchObject({ deployment: { id, sha: SHA, state: 'success', matchedBy: 'sha' } });
  });

  it('does not count a staging deployment that was rolled back', async () => {
    const id = await deploy(SHA, ['in_progress', 'success']);
    await client.rest.repos.createDeploymentStatus({
      ...repo,
      deployment_id: id,
      state: 'inactive',
      description: 'rolled back by deployment 9',
    });
    expect(await run(stagingPassed, {}, contextWith())).toMatchObject({ status: 'fail', code: 'failed' });
  });

  it('gives the same result an hour later: no age of the evidence in what is hashed', async () => {
    await deploy(SHA, ['success']);
    const now = Date.now();
    const first = await run(stagingPassed, {}, contextWith({ now }));
    const later = await run(stagingPassed, {}, contextWith({ now: now + HOUR }));
    expect(later).toEqual(first);
  });

  it('does not count a staging deployment of another SHA', async () => {
    await deploy(OTHER_SHA, ['success']);
    const result = await run(stagingPassed, {}, contextWith());
    expect(result).toMatchObject({ status: 'fail', code: 'no-deployment' });
  });

  it('does not count a deployment of this SHA to another environment', async () => {
    await client.rest.repos.createDeployment({ ...repo, ref: SHA, environment: 'qa', required_contexts: [] });
    expect(await run(stagingPassed, {}, contextWith())).toMatchObject({ code: 'no-deployment' });
  });

  it('fails with failed when no deployment of this SHA succeeded', async () => {
    await deploy(SHA, ['in_progress', 'failure']);
    const result = await run(stagingPassed, {}, contextWith());
    expect(result).toMatchObject({ status: 'fail', code: 'failed', evidence: { newest: { state: 'failure' } } });
  });

  it('counts a success that a newer deployment made inactive', async () => {
    await deploy(SHA, ['success', 'inactive']);
    await deploy(OTHER_SHA, ['success']);
    expect(await run(stagingPassed, {}, contextWith())).toMatchObject({ status: 'pass', code: 'ok' });
  });

  it('fails with too-old when the deployment is older than max-age', async () => {
    await deploy(SHA, ['success']);
    const later = contextWith({ now: Date.now() + 8 * 24 * HOUR });
    expect(await run(stagingPassed, {}, later)).toMatchObject({ status: 'fail', code: 'too-old' });
    expect(await run(stagingPassed, { 'max-age': '9d' }, later)).toMatchObject({ status: 'pass' });
  });

  it('with an artifact digest, counts the same artifact and not the same SHA with another artifact', async () => {
    await deploy(SHA, ['success'], { payload: { artifactDigest: 'sha256:' + '2'.repeat(64) } });
    const withDigest = contextWith({ artifactDigest: DIGEST });
    expect(await run(stagingPassed, {}, withDigest)).toMatchObject({ code: 'no-deployment' });
    await deploy(OTHER_SHA, ['success'], { payload: { artifactDigest: DIGEST } });
    const result = await run(stagingPassed, {}, withDigest);
    expect(result).toMatchObject({ status: 'pass', evidence: { deployment: { matchedBy: 'artifact-digest' } } });
  });

  it('with smoke-check, needs that check run to have passed on the SHA', async () => {
    await deploy(SHA, ['success']);
    const rule = { 'smoke-check': 'smoke staging' };
    expect(await run(stagingPassed, rule, contextWith())).toMatchObject({ status: 'fail', code: 'smoke-failed' });
    checks.addCheckRun('acme', 'service', SHA, { name: 'smoke staging', conclusion: 'failure' });
    expect(await run(stagingPassed, rule, contextWith())).toMatchObject({ code: 'smoke-failed' });
    checks.addCheckRun('acme', 'service', SHA, { name: 'smoke staging', conclusion: 'success' });
    expect(await run(stagingPassed, rule, contextWith())).toMatchObject({ status: 'pass', code: 'ok' });
  });

  it('fails with unavailable when the Deployments API fails', async () => {
    github.inject('GET', /deployments$/, { status: 502, body: { message: 'bad gateway' } });
    const result = await run(stagingPassed, {}, contextWith());
    expect(result).toMatchObject({ status: 'fail', code: 'unavailable' });
    expect(result.reason).toMatch(/deployments to staging/);
  });

  it('reads every page of deployments', async () => {
    await deploy(SHA, ['success']);
    github.seed('acme', 'service', 'staging', 120);
    // Newest first: the deployment of this SHA is on the second page, after 120 of another ref.
    expect(await run(stagingPassed, {}, contextWith())).toMatchObject({ status: 'pass' });
  });

  it('refuses bad rules', () => {
    expect(refused(stagingPassed, { 'max-age': '3 fortnights' })).toMatch(/max-age/);
    expect(refused(stagingPassed, { 'max-age': -1 })).toMatch(/max-age/);
    expect(refused(stagingPassed, { environment: '' })).toMatch(/environment/);
  });
});

// --- no-incidents -------------------------------------------------------------------------------

describe('no-incidents', () => {
  const incident = (labels: string[], title = 'orders down') => github.addIssue('acme', 'service', { title, labels });

  it('passes with no open incident of a blocking severity', async () => {
    incident(['incident', 'P3']);
    incident(['bug', 'P1']);
    const closed = incident(['incident', 'P1']);
    (closed as { state: string }).state = 'closed';
    const result = await run(noIncidents, {}, contextWith());
    expect(result).toMatchObject({ id: 'no-incidents', status: 'pass', code: 'ok', evidence: { incidents: [] } });
  });

  it('finds an incident whose label differs only in case, as GitHub does', async () => {
    incident(['Incident', 'P1']);
    expect(await run(noIncidents, {}, contextWith())).toMatchObject({ status: 'fail', code: 'open-incident' });
  });

  it('fails with open-incident, listing P1 and severity:P2 incidents', async () => {
    incident(['incident', 'P1']);
    incident(['incident', 'P4']);
    incident(['incident', 'severity:P2'], 'payments\n::error::forged');
    const result = await run(noIncidents, {}, contextWith());
    expect(result).toMatchObject({ status: 'fail', code: 'open-incident' });
    expect(result.evidence.incidents).toEqual([
      { number: 1, severity: 'P1' },
      { number: 3, severity: 'P2' },
    ]);
    expect(result.reason).toContain('#1');
    expect(result.reason).not.toContain('\n');
  });

  it('with service-label, counts only that service', async () => {
    incident(['incident', 'P1', 'service:billing']);
    expect(await run(noIncidents, { 'service-label': 'service:orders' }, contextWith())).toMatchObject({ code: 'ok' });
    expect(await run(noIncidents, { 'service-label': 'service:billing' }, contextWith())).toMatchObject({
      code: 'open-incident',
    });
  });

  it('reads every page', async () => {
    incident(['incident', 'sev/p1'], 'oldest');
    for (let i = 0; i < 120; i++) incident(['incident', 'P3'], `minor ${i}`);
    const result = await run(noIncidents, { severities: ['P1'] }, contextWith());
    expect(result).toMatchObject({ code: 'open-incident', evidence: { incidents: [{ number: 1, severity: 'P1' }] } });
  });

  it('fails with unavailable when the issues cannot be listed', async () => {
    github.inject('GET', /\/issues$/, { status: 500, body: { message: 'boom' } });
    expect(await run(noIncidents, {}, contextWith())).toMatchObject({ status: 'fail', code: 'unavailable' });
  });

  it('refuses bad rules', () => {
    expect(refused(noIncidents, { severities: [] })).toMatch(/severities/);
    expect(refused(noIncidents, { label: '' })).toMatch(/label/);
  });
});

// --- no-freeze ----------------------------------------------------------------------------------

describe('no-freeze', () => {
  const policy = parsePolicy(POLICY_EXAMPLE);

  it('fails with frozen inside a freeze, with its reason', async () => {
    const result = await run(noFreeze(policy), {}, contextWith({ now: Date.parse('2026-12-24T10:00:00Z') }));
    expect(result).toMatchObject({ id: 'no-freeze', status: 'fail', code: 'frozen' });
    expect(result.reason).toMatch(/year end/);
    expect(result.evidence).toMatchObject({ freeze: { from: '12-20', to: '01-02', reason: 'year end' } });
  });

  it('passes outside a freeze, and with no policy', async () => {
    const now = Date.parse('2026-11-27T10:00:00Z');
    expect(await run(noFreeze(policy), {}, contextWith({ now }))).toMatchObject({ status: 'pass', code: 'ok' });
    expect(await run(noFreeze(), {}, contextWith({ now }))).toMatchObject({ status: 'fail', code: 'no-policy' });
  });

  it("reads the policy from the rule's own text", async () => {
    const rule = { policy: 'time-zone: UTC\nfreezes:\n  - { from: "2026-11-26", to: "2026-11-28", reason: launch }' };
    const result = await run(noFreeze(), rule, contextWith({ now: Date.parse('2026-11-27T10:00:00Z') }));
    expect(result).toMatchObject({ code: 'frozen', evidence: { freeze: { kind: 'dates', reason: 'launch' } } });
    expect(refused(noFreeze(), { policy: 'time-zone: Mars/Olympus' })).toMatch(/policy/);
  });
});

// --- paths --------------------------------------------------------------------------------------

describe('paths', () => {
  const rules = [
    { name: 'documentation', when: ['src/**'], require: ['docs/**', 'CHANGELOG.md'] },
    { name: 'configuration', when: 'config/schema.ts', require: 'deploy/config/', required: false },
  ];

  it('gives one result per rule: ok and not-applicable', async () => {
    const results = await runAll(paths, rules, contextWith({ files: ['src/a.ts', 'CHANGELOG.md'] }));
    expect(results.map(({ id, status, code, required }) => ({ id, status, code, required }))).toEqual([
      { id: 'paths:documentation', status: 'pass', code: 'ok', required: true },
      { id: 'paths:configuration', status: 'pass', code: 'not-applicable', required: false },
    ]);
  });

  it('fails with missing-change when the required files did not change', async () => {
    const [docs, config] = await runAll(paths, rules, contextWith({ files: ['src/a/b.ts', 'config/schema.ts'] }));
    expect(docs).toMatchObject({ status: 'fail', code: 'missing-change', evidence: { matchedFiles: ['src/a/b.ts'] } });
    expect(docs!.reason).toMatch(/documentation: not needed because/);
    expect(config).toMatchObject({ status: 'fail', code: 'missing-change', required: false });
    const [, fixed] = await runAll(
      paths,
      rules,
      contextWith({ files: ['config/schema.ts', 'deploy/config/prod.yml'] }),
    );
    expect(fixed).toMatchObject({ code: 'ok' });
  });

  it('is excused by a line in the PR body, not by one inside a code block', async () => {
    const quoted = '```\ndocumentation: not needed because it is an example\n```\n';
    const inCode = contextWith({ files: ['src/a.ts'], pull: pullRequest({ body: quoted }) });
    expect((await runAll(paths, rules, inCode))[0]).toMatchObject({ code: 'missing-change' });
    const body = 'Refactor.\n\n- Documentation: not needed because nothing user-facing changed\n';
    const [docs] = await runAll(paths, rules, contextWith({ files: ['src/a.ts'], pull: pullRequest({ body }) }));
    expect(docs).toMatchObject({
      status: 'pass',
      code: 'excused',
      evidence: { excuse: 'nothing user-facing changed' },
    });
    const noReason = contextWith({ files: ['src/a.ts'], pull: pullRequest({ body: 'documentation: not needed' }) });
    expect((await runAll(paths, rules, noReason))[0]).toMatchObject({ code: 'missing-change' });
  });

  it('takes a custom unless-body expression', async () => {
    const rule = [{ name: 'docs', when: 'src/**', require: 'docs/', 'unless-body': '^no-docs: .+' }];
    const body = 'no-docs: internal only';
    expect(
      (await runAll(paths, rule, contextWith({ files: ['src/x.ts'], pull: pullRequest({ body }) })))[0],
    ).toMatchObject({
      code: 'excused',
    });
    expect((await runAll(paths, rule, contextWith({ files: ['src/x.ts'], pull: undefined })))[0]).toMatchObject({
      code: 'missing-change',
    });
  });

  it('refuses invalid globs and bad rules', () => {
    expect(refused(paths, [{ name: 'docs', when: 'src/{a,b}/**', require: 'docs/**' }])).toMatch(/not a valid glob/);
    expect(refused(paths, [{ name: 'docs', when: 'src/**', require: ['docs/[abc]'] }])).toMatch(/not a valid glob/);
    expect(refused(paths, [{ name: 'docs', when: '', require: 'docs/**' }])).toMatch(/not a valid glob: is empty/);
    expect(refused(paths, [{ name: 'docs', when: '../x/**', require: 'docs/**' }])).toMatch(/not a valid glob/);
    expect(refused(paths, [{ name: 'docs', when: [], require: 'docs/**' }])).toMatch(/when/);
    expect(refused(paths, [{ name: 'docs', when: 'a', require: 'b', 'unless-body': '(' }])).toMatch(
      /regular expression/,
    );
    expect(
      refused(paths, [
        { name: 'd', when: 'a', require: 'b' },
        { name: 'd', when: 'c', require: 'e' },
      ]),
    ).toMatch(/twice/);
  });
});

// --- task-list ----------------------------------------------------------------------------------

describe('task-list', () => {
  const withBody = (body: string, overrides: Partial<PullRequest> = {}) =>
    contextWith({ pull: pullRequest({ body, ...overrides }) });

  it('passes when every item is checked', async () => {
    const body = '## Checklist\n- [x] Tests added\n* [X] Docs updated\n1. [x] Reviewed\n';
    expect(await run(taskList, {}, withBody(body))).toMatchObject({
      id: 'task-list',
      status: 'pass',
      code: 'ok',
      evidence: { items: 3, checked: 3 },
    });
  });

  it('sees an open item inside a blockquote, and no excuse in an item that merely mentions N/A values', async () => {
    const result = await run(
      taskList,
      {},
      withBody('> - [ ] Run the migration\n- [ ] Handle N/A-values in the report\n'),
    );
    expect(result).toMatchObject({ status: 'fail', code: 'unchecked' });
    expect(result.evidence.unchecked).toEqual(['Run the migration', 'Handle N/A-values in the report']);
  });

  it('fails with unchecked, naming the open items', async () => {
    const result = await run(taskList, {}, withBody('- [x] Tests\n- [ ] Update the runbook\n  - [ ] nested step\n'));
    expect(result).toMatchObject({ status: 'fail', code: 'unchecked' });
    expect(result.evidence.unchecked).toEqual(['Update the runbook', 'nested step']);
    expect(result.reason).toContain('Update the runbook');
  });

  it('ignores checkboxes inside fenced and indented code blocks and comments', async () => {
    const body = [
      'Template example:',
      '```md',
      '- [ ] not a task',
      '```',
      '~~~~',
      '* [ ] nor this',
      '```',
      '- [ ] still inside the tilde fence',
      '~~~~',
      '',
      '    - [ ] indented code',
      '',
      '<!--',
      '- [ ] commented out',
      '-->',
      '- [x] the real task',
    ].join('\n');
    expect(await run(taskList, {}, withBody(body))).toMatchObject({
      status: 'pass',
      code: 'ok',
      evidence: { items: 1 },
    });
  });

  it('counts struck-through and N/A items only with a reason', async () => {
    const excused = '- [ ] ~~Update docs~~ not user-facing\n- [ ] Migration plan N/A: no schema change\n- [x] Tests\n';
    const result = await run(taskList, {}, withBody(excused));
    expect(result).toMatchObject({ status: 'pass', code: 'ok' });
    expect(result.evidence.excused).toEqual([
      { text: '~~Update docs~~ not user-facing', reason: 'not user-facing' },
      { text: 'Migration plan N/A: no schema change', reason: 'no schema change' },
    ]);
    expect(await run(taskList, {}, withBody('- [ ] ~~Update docs~~\n'))).toMatchObject({ code: 'unchecked' });
    const bare = await run(taskList, {}, withBody('- [ ] Migration plan N/A\n'));
    expect(bare).toMatchObject({ code: 'unchecked' });
    expect(bare.reason).toMatch(/without a reason/);
    // "NA" is a word (a region), not a mark: the item stays open.
    expect(await run(taskList, {}, withBody('- [ ] Deploy to NA - after EU\n'))).toMatchObject({ code: 'unchecked' });
    expect(await run(taskList, {}, withBody('- [ ] Runbook (n/a because no new alerts)\n'))).toMatchObject({
      code: 'ok',
      evidence: { excused: [{ reason: 'no new alerts' }] },
    });
  });

  it('passes a bot PR with an empty body as no-task-list, unless the rules forbid it', async () => {
    const bot = withBody('', { author: 'dependabot[bot]' });
    expect(await run(taskList, {}, bot)).toMatchObject({ status: 'pass', code: 'no-task-list' });
    expect(await run(taskList, { 'allow-empty': false }, bot)).toMatchObject({ status: 'fail', code: 'no-task-list' });
  });

  it('fails with no-pull-request when no PR holds the SHA', async () => {
    expect(await run(taskList, {}, contextWith({ pull: undefined }))).toMatchObject({
      status: 'fail',
      code: 'no-pull-request',
    });
    expect(await run(taskList, { required: false }, contextWith({ pull: undefined }))).toMatchObject({
      required: false,
    });
  });

  it('refuses bad rules', () => {
    expect(refused(taskList, { 'allow-empty': 'sometimes' })).toMatch(/allow-empty/);
  });
});

// --- custom -------------------------------------------------------------------------------------

describe('custom', () => {
  it('does not look for a file in a checkout of another commit', async () => {
    writeFileSync(join(workspace, 'RUNBOOK.md'), '# runbook');
    const elsewhere = contextWith({ workspaceSha: OTHER_SHA });
    const [result] = await runAll(custom, [{ name: 'runbook', file: 'RUNBOOK.md' }], elsewhere);
    expect(result).toMatchObject({ status: 'fail', code: 'workspace-not-at-sha' });
    const [here] = await runAll(custom, [{ name: 'runbook', file: 'RUNBOOK.md' }], contextWith({ workspaceSha: SHA }));
    expect(here).toMatchObject({ status: 'pass' });
  });

  it('judges a check, a file, a label and an absent label, one result each', async () => {
    checks.addCheckRun('acme', 'service', SHA, { name: 'security scan', conclusion: 'success' });
    writeFileSync(join(workspace, 'RUNBOOK.md'), '# runbook\n');
    const rules = [
      { name: 'security', check: 'security scan' },
      { name: 'runbook', file: 'RUNBOOK.md' },
      { name: 'qa', label: 'qa-approved' },
      { name: 'not-blocked', 'absent-label': 'do-not-deploy', required: false },
    ];
    const pull = pullRequest({ labels: ['qa-approved'] });
    const results = await runAll(custom, rules, contextWith({ pull }));
    expect(results.map(({ id, status, code }) => `${id} ${status} ${code}`)).toEqual([
      'custom:security pass ok',
      'custom:runbook pass ok',
      'custom:qa pass ok',
      'custom:not-blocked pass ok',
    ]);
  });

  it('fails each kind with its own code', async () => {
    checks.addCheckRun('acme', 'service', SHA, { name: 'security scan', conclusion: 'failure' });
    checks.addCheckRun('acme', 'service', SHA, { name: 'load test', status: 'queued' });
    const rules = [
      { name: 'security', check: 'security scan' },
      { name: 'load', check: 'load test' },
      { name: 'licence', check: 'licence check' },
      { name: 'runbook', file: 'RUNBOOK.md' },
      { name: 'qa', label: 'qa-approved' },
      { name: 'not-blocked', 'absent-label': 'do-not-deploy' },
    ];
    const results = await runAll(custom, rules, contextWith({ pull: pullRequest({ labels: ['do-not-deploy'] }) }));
    expect(results.map(({ status, code }) => `${status} ${code}`)).toEqual([
      'fail check-failed',
      'fail check-pending',
      'fail check-missing',
      'fail not-found',
      'fail label-missing',
      'fail label-present',
    ]);
    const noPull = await runAll(custom, [{ name: 'qa', label: 'qa' }], contextWith({ pull: undefined }));
    expect(noPull[0]).toMatchObject({ code: 'no-pull-request' });
  });

  it('refuses entries with no kind or two', () => {
    expect(refused(custom, [{ name: 'x' }])).toMatch(/exactly one of check, file, label or absent-label/);
    expect(refused(custom, [{ name: 'x', check: 'a', label: 'b' }])).toMatch(/got check and label/);
    expect(refused(custom, [{ name: 'x', file: '../../etc/passwd' }])).toMatch(/climb out/);
    expect(refused(custom, [{ name: 'bad name!', label: 'b' }])).toMatch(/short name/);
  });
});

// --- stable evidence ----------------------------------------------------------------------------

describe('evidence', () => {
  it('is the same on a second run later (no time of evaluation in it)', async () => {
    mkdirSync(join(workspace, 'db/migrations'), { recursive: true });
    writeFileSync(join(workspace, 'db/migrations/V1__a.sql'), 'CREATE TABLE a (id int);\n');
    const hash = folderHash(await readMigrations(join(workspace, 'db/migrations')));
    checks.addCheckRun('acme', 'service', SHA, {
      name: 'migrate test',
      completedAt: '2026-11-27T08:00:00Z',
      output: { text: JSON.stringify({ folderHash: hash, passed: true, migrations: 1 }) },
    });
    const context = (now: number) => contextWith({ files: ['db/migrations/V1__a.sql'], now });
    const first = await run(migrationsTested, {}, context(Date.parse('2026-11-27T09:00:00Z')));
    const second = await run(migrationsTested, {}, context(Date.parse('2026-11-27T10:00:00Z')));
    expect(second).toEqual(first);
  });
});
