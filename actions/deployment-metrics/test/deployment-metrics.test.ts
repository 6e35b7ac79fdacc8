// deployment-metrics run the way the runner runs it: the bundle spawned with INPUT_* variables,
// against the stateful fake GitHub (deployment records made through the API as blue-green-switch
// makes them) and a Pushgateway-shaped receiver, both on loopback.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FakeGitHub } from '../../../test/fakes/github.ts';
import { expectInputError } from '../../../test/helpers/expect-input-error.ts';
import { TestServer, type RecordedRequest } from '../../../test/helpers/http-server.ts';
import { failureOf, leakedSecrets, runBuiltAction, type ActionRun } from '../../../test/helpers/run-action.ts';
import { createGitHubClient, type GitHubClient } from '../../../packages/github/src/index.ts';
import {
  createDeploymentRecord,
  setDeploymentStatus,
  type DeploymentState,
} from '../../../packages/record/src/index.ts';
import { switchRecordPayload } from '../../../test/helpers/deployment-records.ts';
import type { EnvironmentFigures } from '../../../packages/metrics/src/index.ts';

const OWNER = 'acme';
const REPO = 'shop';
/** The workflow's GITHUB_TOKEN acts as github-actions[bot], which cannot read /user. */
const ACTIONS_TOKEN = 'ghs_actionsToken0000000000000000metrics';
const INTRUDER_TOKEN = 'ghs_intruderToken000000000000000metrics';
const PUSH_TOKEN = 'pgw-secret-token-0123456789-metrics';
const HOUR = 3_600_000;
/** The history sits 10 days back, well inside a 30-day window ending whenever the action runs. */
const T0 = Date.now() - 10 * 24 * HOUR;
const iso = (hours: number) => new Date(T0 + hours * HOUR).toISOString();
const sha = (letter: string) => letter.repeat(40);
const DEV_DEPLOYMENTS = 120;

let github: FakeGitHub;
let pushgateway: TestServer;
let client: GitHubClient;
let folder: string;

/**
 * A deployment record made through the API as blue-green-switch makes it (created with an
 * in_progress status, then its transitions), its times then set as if it happened at `created`
 * and each status at its hour: the fake stamps the wall clock.
 */
async function deploy(
  environment: string,
  input: { sha: string; created: number; statuses?: [DeploymentState, number][]; rolledBack?: number },
  octokit = client,
): Promise<number> {
  const id = await createDeploymentRecord(
    octokit,
    { owner: OWNER, repo: REPO },
    {
      environment,
      payload: switchRecordPayload({ sha: input.sha, rolledBack: input.rolledBack ?? null }),
      description: 'deploying',
      logUrl: undefined,
    },
  );
  for (const [state] of input.statuses ?? [])
    await setDeploymentStatus(octokit, { owner: OWNER, repo: REPO }, id, state, state);
  github.deployments.find((d) => d.id === id)!.created_at = iso(input.created);
  const statuses = github.statuses.get(id)!;
  statuses[0]!.created_at = iso(input.created);
  (input.statuses ?? []).forEach(([, hour], i) => (statuses[i + 1]!.created_at = iso(hour)));
  return id;
}

beforeAll(async () => {
  [github, pushgateway] = await Promise.all([FakeGitHub.start(), TestServer.start()]);
  github.addUser('github-actions[bot]', ACTIONS_TOKEN).addUser('intruder', INTRUDER_TOKEN);
  client = createGitHubClient({ token: ACTIONS_TOKEN, baseUrl: github.url, retries: 0, minWriteIntervalMs: 0 });
  folder = mkdtempSync(join(tmpdir(), 'deployment-metrics-'));
  // Commit times (hours from T0), as GitHub's committer date gives them; f has none.
  for (const [letter, hour] of [
    ['a', -5],
    ['b', 8],
    ['c', 19],
    ['d', 22],
    ['e', 29],
  ] as const) {
    github.setCommit(OWNER, REPO, sha(letter), { author: 'dev', date: iso(hour) });
  }

  // Production: P1 succeeds at 1. P2 succeeds at 11, its bake fails at 13, rollback R1 (13.5)
  // succeeds at 14. P3 fails at 21; P4 succeeds at 26, restoring it. P5 is still in progress.
  await deploy('production', { sha: sha('a'), created: 0, statuses: [['success', 1]] });
  const p2 = await deploy('production', {
    sha: sha('b'),
    created: 10,
    statuses: [
      ['success', 11],
      ['failure', 13],
    ],
  });
  await deploy('production', { sha: sha('b'), created: 13.5, rolledBack: p2, statuses: [['success', 14]] });
  await deploy('production', { sha: sha('c'), created: 20, statuses: [['failure', 21]] });
  await deploy('production', { sha: sha('d'), created: 24, statuses: [['success', 26]] });
  await deploy('production', { sha: sha('e'), created: 30 });
  // Staging: two successes.
  await deploy('staging', { sha: sha('a'), created: -2, statuses: [['success', -1.5]] });
  await deploy('staging', { sha: sha('b'), created: 9, statuses: [['success', 9.5]] });
  // Development: more than a page of deployments, one every 5.5 hours (4 or 5 a day).
  for (let i = 0; i < DEV_DEPLOYMENTS; i++) {
    const created = -440 + i * 5.5;
    await deploy('development', { sha: sha('f'), created, statuses: [['success', created + 0.1]] });
  }
  // Someone else's record-shaped deployment that failed: it must not count.
  const intruder = createGitHubClient({
    token: INTRUDER_TOKEN,
    baseUrl: github.url,
    retries: 0,
    minWriteIntervalMs: 0,
  });
  await deploy('production', { sha: sha('c'), created: 5, statuses: [['failure', 6]] }, intruder);

  pushgateway.otherwise({ status: 200, body: '' });
}, 120_000);

afterAll(() => Promise.all([github.close(), pushgateway.close()]));

function run(inputs: Record<string, string>): Promise<ActionRun> {
  return runBuiltAction('deployment-metrics', inputs, {
    env: { GITHUB_API_URL: github.url, GITHUB_REPOSITORY: `${OWNER}/${REPO}`, GITHUB_WORKSPACE: folder },
  });
}

type Figures = EnvironmentFigures;

interface Report {
  repository: string;
  author: string;
  window: { from: string; to: string; days: number };
  environments: Figures[];
  series: { bucketDays: number; starts: string[]; environments: { environment: string; successes: number[] }[] };
  read: { records: number; deployments: number; requests: number; notModified: number; skipped: number };
}

/** The text exposition, line by line: every line a comment or a sample; samples by "name{labels}". */
function parseExposition(text: string): Map<string, number> {
  expect(text.endsWith('\n')).toBe(true);
  const samples = new Map<string, number>();
  for (const line of text.slice(0, -1).split('\n')) {
    if (/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* [^\n]*$/.test(line)) continue;
    if (/^# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* gauge$/.test(line)) continue;
    const sample =
      /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*)\} (\S+)$/.exec(line);
    if (!sample) throw new Error(`not a line of the exposition format: ${JSON.stringify(line)}`);
    const value = Number(sample[3]);
    if (!Number.isFinite(value)) throw new Error(`not a finite value: ${line}`);
    samples.set(`${sample[1]}{${sample[2]}}`, value);
  }
  return samples;
}

describe('a repository with production, staging and over a page of development records', () => {
  let result: ActionRun;
  let report: Report;
  let seen: RecordedRequest[];
  const jsonFile = () => join(folder, 'dora.json');
  const promFile = () => join(folder, 'dora.prom');

  beforeAll(async () => {
    const before = github.requests.length;
    result = await run({
      'github-token': ACTIONS_TOKEN,
      window: '30d',
      'json-file': 'dora.json',
      'prometheus-file': promFile(),
      'pushgateway-url': pushgateway.url.href,
      'pushgateway-token': PUSH_TOKEN,
    });
    seen = github.requests.slice(before);
    report = JSON.parse(result.outputs.json ?? 'null') as Report;
  });

  it('succeeds and reports every environment with records, as the token’s own login', () => {
    expect(failureOf(result)).toBe('');
    expect(report.repository).toBe('acme/shop');
    expect(report.author).toBe('github-actions[bot]');
    expect(report.window.days).toBe(30);
    expect(report.environments.map((e) => e.environment)).toEqual(['development', 'production', 'staging']);
  });

  it('gives the four figures of production from the records, leaving the intruder’s out', () => {
    const production = report.environments.find((e) => e.environment === 'production')!;
    // Successful changes P1, P2, P4 over 30 days; R1 is a rollback, not a change.
    expect(production.successful).toBe(3);
    expect(production.deploymentFrequencyPerDay).toBeCloseTo(0.1, 10);
    // a: -5 → 1 = 6 h; b: 8 → 11 = 3 h; d: 22 → 26 = 4 h. Median 4 h.
    expect(production).toMatchObject({ leadTimeHours: 4, leadTimeSamples: 3 });
    // P2 (rolled back after its bake failed) and P3 failed, of P1–P4 finished; P5 is in progress.
    expect(production).toMatchObject({ failed: 2, finished: 4, changeFailureRate: 0.5 });
    // P2 failed at 13 → R1 at 14 = 1 h; P3 at 21 → P4 at 26 = 5 h. Median 3 h.
    expect(production).toMatchObject({ timeToRestoreHours: 3, restored: 2, unrestored: 0 });
  });

  it('gives staging and development their own figures', () => {
    const staging = report.environments.find((e) => e.environment === 'staging')!;
    expect(staging).toMatchObject({
      successful: 2,
      leadTimeHours: 2.5,
      changeFailureRate: 0,
      timeToRestoreHours: null,
    });
    const development = report.environments.find((e) => e.environment === 'development')!;
    // Development's commit has no date on GitHub: no lead time, rather than a wrong one.
    expect(development).toMatchObject({ successful: DEV_DEPLOYMENTS, leadTimeHours: null, changeFailureRate: 0 });
    expect(development.deploymentFrequencyPerDay).toBeCloseTo(DEV_DEPLOYMENTS / 30, 10);
  });

  it('reads every page of the deployments list, and counts its own requests', () => {
    const pages = seen.filter((r) => r.path === `/repos/${OWNER}/${REPO}/deployments`);
    expect(pages.map((r) => [r.url.searchParams.get('page'), r.url.searchParams.get('per_page')])).toEqual([
      ['1', '100'],
      ['2', '100'],
    ]);
    // 6 production + 2 staging + 120 development records, the intruder's left out.
    expect(report.read.records).toBe(128);
    expect(report.read.skipped).toBe(1);
    expect(result.outputs.deployments).toBe('128');
    expect(Number(result.outputs.requests)).toBe(seen.length);
    expect(report.read.requests).toBe(seen.length);
  });

  it('gives each figure as a JSON object by environment', () => {
    expect(JSON.parse(result.outputs['lead-time-hours']!)).toEqual({ development: null, production: 4, staging: 2.5 });
    expect(JSON.parse(result.outputs['change-failure-rate']!)).toEqual({ development: 0, production: 0.5, staging: 0 });
    expect(JSON.parse(result.outputs['time-to-restore-hours']!)).toEqual({
      development: null,
      production: 3,
      staging: null,
    });
    expect(JSON.parse(result.outputs['deployment-frequency']!)).toMatchObject({ development: 4 });
  });

  it('writes the JSON file and a Prometheus textfile whose samples parse, by name and labels', () => {
    expect(JSON.parse(readFileSync(jsonFile(), 'utf8'))).toEqual(report);
    const text = readFileSync(promFile(), 'utf8');
    const samples = parseExposition(text);
    const at = (name: string, environment: string) =>
      samples.get(`deploy_suite_dora_${name}{repository="acme/shop",environment="${environment}"}`);
    expect(at('deployment_frequency_per_day', 'production')).toBeCloseTo(0.1, 10);
    expect(at('lead_time_hours', 'production')).toBe(4);
    expect(at('change_failure_rate', 'production')).toBe(0.5);
    expect(at('time_to_restore_hours', 'production')).toBe(3);
    expect(at('deployment_frequency_per_day', 'development')).toBe(4);
    // Nothing to measure: no sample, never NaN.
    expect(at('lead_time_hours', 'development')).toBeUndefined();
    expect(at('time_to_restore_hours', 'staging')).toBeUndefined();
    // Written beside the file and renamed: nothing temporary is left.
    expect(readdirSync(folder).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('puts the same exposition to the Pushgateway, in the repository’s group, with the bearer token', () => {
    const puts = pushgateway.requests.filter((r) => r.method === 'PUT');
    expect(puts).toHaveLength(1);
    const put = puts[0]!;
    expect(put.path).toBe(
      `/metrics/job/deploy-suite/repository@base64/${Buffer.from('acme/shop').toString('base64url')}`,
    );
    expect(put.headers.authorization).toBe(`Bearer ${PUSH_TOKEN}`);
    expect(put.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    // The same samples, the repository coming from the group rather than from a label of their own.
    expect(put.body).toBe(readFileSync(promFile(), 'utf8').replaceAll('repository="acme/shop",', ''));
    expect(parseExposition(put.body).get('deploy_suite_dora_lead_time_hours{environment="production"}')).toBe(4);
  });

  it('writes a job summary with the figures and a chart of deployments per day', () => {
    expect(result.summary).toContain('## DORA metrics');
    expect(result.summary).toContain('| production | 0.1 (3) | 4 | 50% (2/4) | 3 |');
    expect(result.summary).toContain('### Deployments over time');
    expect(result.summary).toMatch(/development: 120 successful deployments, 0 failed; most in one day: 5/);
    expect(result.summary).toMatch(/production: 3 successful deployments, 2 failed/);
    expect(result.summary).toContain('×');
    expect(result.summary).toMatch(/│[▁▂▃▄▅▆▇█ ]*█/);
    expect(report.series.bucketDays).toBe(1);
    // 30 days from a time of day: 31 UTC days, the first and the last cut short.
    expect(report.series.starts.length).toBeGreaterThanOrEqual(30);
    expect(report.series.starts.length).toBeLessThanOrEqual(31);
    expect(report.series.starts.slice(1).every((start) => start.endsWith('T00:00:00.000Z'))).toBe(true);
    expect(
      report.series.environments.find((e) => e.environment === 'development')!.successes.reduce((a, b) => a + b),
    ).toBe(DEV_DEPLOYMENTS);
  });

  it('never shows a token: masked, and in no log, output, summary, annotation or file', () => {
    expect(result.masks).toEqual(expect.arrayContaining([ACTIONS_TOKEN, PUSH_TOKEN]));
    expect(leakedSecrets(result, [ACTIONS_TOKEN, PUSH_TOKEN], [jsonFile(), promFile()])).toEqual([]);
  });
});

it('reports the environments named, one with no records as zeros, listing each on its own', async () => {
  const before = github.requests.length;
  const result = await run({
    'github-token': ACTIONS_TOKEN,
    environments: 'production\nqa',
    author: 'github-actions[bot]',
    window: '2w',
  });
  expect(failureOf(result)).toBe('');
  const report = JSON.parse(result.outputs.json!) as Report;
  expect(report.environments.map((e) => e.environment)).toEqual(['production', 'qa']);
  expect(report.environments[1]).toMatchObject({ successful: 0, deploymentFrequencyPerDay: 0, leadTimeHours: null });
  const listings = github.requests
    .slice(before)
    .filter((r) => r.path === `/repos/${OWNER}/${REPO}/deployments`)
    .map((r) => r.url.searchParams.get('environment'));
  expect(listings).toEqual(['production', 'qa']);
  // An explicit author: no need to ask GitHub who the token is.
  expect(github.requests.slice(before).some((r) => r.path === '/user')).toBe(false);
  expect(report.window.days).toBe(14);
});

it('counts only the author’s records: another login sees none of them', async () => {
  const result = await run({ 'github-token': ACTIONS_TOKEN, author: 'intruder' });
  expect(failureOf(result)).toBe('');
  const report = JSON.parse(result.outputs.json!) as Report;
  expect(report.environments.map((e) => [e.environment, e.failed, e.finished])).toEqual([['production', 1, 1]]);
  const nobody = await run({ 'github-token': ACTIONS_TOKEN, author: 'someone-else' });
  expect(failureOf(nobody)).toBe('');
  expect(JSON.parse(nobody.outputs.json!)).toMatchObject({ environments: [] });
  expect(nobody.outputs.deployments).toBe('0');
  expect(nobody.annotations).toEqual([
    expect.objectContaining({
      level: 'warning',
      message: expect.stringMatching(/none is a deployment record made by someone-else.*name it in author/),
    }),
  ]);
});

it('fails on a refused push after writing the outputs and the file, naming the Pushgateway', async () => {
  const refusing = await TestServer.start();
  refusing.otherwise({ status: 401, body: 'unauthorized: bad token\n::error::forged' });
  try {
    const result = await run({
      'github-token': ACTIONS_TOKEN,
      environments: 'staging',
      'prometheus-file': join(folder, 'refused.prom'),
      'pushgateway-url': refusing.url.href,
      'pushgateway-token': PUSH_TOKEN,
      'pushgateway-job': 'dora metrics',
    });
    expect(result.exitCode).toBe(1);
    const failure = failureOf(result);
    expect(failure).toContain(`the Pushgateway at ${refusing.url.origin} answered 401`);
    expect(failure).toContain('pushgateway-token');
    // A job name that is not plain goes Base64url-encoded; a 401 is not tried again.
    expect(refusing.requests.map((r) => r.path)).toEqual([
      `/metrics/job@base64/${Buffer.from('dora metrics').toString('base64url')}/repository@base64/${Buffer.from('acme/shop').toString('base64url')}`,
    ]);
    // The remote's words cannot forge a workflow command.
    expect(result.log).not.toMatch(/^::error::forged/m);
    expect(JSON.parse(result.outputs.json!)).toMatchObject({ environments: [{ environment: 'staging' }] });
    expect(readFileSync(join(folder, 'refused.prom'), 'utf8')).toContain('environment="staging"');
    expect(leakedSecrets(result, [ACTIONS_TOKEN, PUSH_TOKEN])).toEqual([]);
  } finally {
    await refusing.close();
  }
});

describe('bad inputs are refused before any request, naming the input with a good example', () => {
  it.each([
    [{ window: '30 days' }, 'window', /must be a duration such as 30d/],
    [{ window: '400d' }, 'window', /at most 366d/],
    [{ repository: 'acme' }, 'repository', /must be owner\/name/],
    [{ author: 'not a login' }, 'author', /must be a GitHub login/],
    [{ 'pushgateway-url': 'ftp://pushgateway.example.com' }, 'pushgateway-url', /http:\/\/ or https:\/\//],
    [{ 'pushgateway-url': 'https://pushgateway.example.com/metrics/job/x' }, 'pushgateway-url', /root/],
    [{ 'pushgateway-token': PUSH_TOKEN }, 'pushgateway-token', /without pushgateway-url/],
    [{ 'json-file': '/nonexistent-folder/dora.json' }, 'json-file', /folder that does not exist/],
  ])('%j', async (inputs, input, pattern) => {
    const before = github.requests.length;
    const result = await run({ 'github-token': ACTIONS_TOKEN, ...inputs });
    expectInputError(result, input, pattern, [ACTIONS_TOKEN, PUSH_TOKEN]);
    expect(github.requests.length).toBe(before);
  });

  it('an empty github-token', async () => {
    const result = await run({ 'github-token': '' });
    expectInputError(result, 'github-token', /is required/, []);
  });
});
