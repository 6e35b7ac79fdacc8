import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FakeGitHub } from '../../../test/fakes/github.ts';
import { createGitHubClient, type GitHubClient } from '../../github/src/index.ts';
import {
  createDeploymentRecord,
  setDeploymentStatus,
  type DeploymentPayload,
  type DeploymentState,
} from '../../record/src/index.ts';
import {
  commitDates,
  doraFigures,
  escapeLabelValue,
  MetricsCache,
  readDeployments,
  renderJson,
  renderMarkdown,
  renderPrometheus,
  type DoraReport,
} from '../src/index.ts';

const BOT = 'deploy-bot[bot]';
const T0 = Date.parse('2026-11-01T00:00:00Z');
const HOUR = 3_600_000;
const at = (hours: number) => new Date(T0 + hours * HOUR);
const iso = (hours: number) => at(hours).toISOString();
const sha = (letter: string) => letter.repeat(40);
/** The window of the hand-made history: 4 days, hours 0 to 96. */
const WINDOW = { from: at(0), to: at(96) };
const SINCE = at(-24);

let github: FakeGitHub;
let client: GitHubClient;

/** A fresh fake per history: the fake lists every repository's deployments under any repository. */
async function fresh(): Promise<void> {
  await (github as FakeGitHub | undefined)?.close();
  github = await FakeGitHub.start();
  client = createGitHubClient({ token: github.token, baseUrl: github.url, retries: 0, minWriteIntervalMs: 0 });
}
afterAll(() => github.close());

function payload(commit: string, rolledBack: number | null = null): DeploymentPayload {
  return {
    deploySuiteRecord: 1,
    service: 'checkout',
    sha: commit,
    artifactDigest: null,
    router: 'nginx',
    colour: 'blue',
    previousWeights: {},
    previousColour: null,
    previousSha: null,
    rolledBack,
    changeRequest: null,
  };
}

/**
 * A deployment record made through the API (as blue-green-switch makes it: created with an
 * in_progress status, then its transitions), its times then set as if it happened at `created`
 * and each status at its hour — the fake stamps the wall clock.
 */
async function deploy(
  repo: { owner: string; repo: string },
  environment: string,
  input: { sha: string; created: number; statuses?: [DeploymentState, number][]; rolledBack?: number },
  octokit = client,
): Promise<number> {
  const id = await createDeploymentRecord(octokit, repo, {
    environment,
    payload: payload(input.sha, input.rolledBack ?? null),
    description: 'deploying',
    logUrl: undefined,
  });
  for (const [state] of input.statuses ?? []) await setDeploymentStatus(octokit, repo, id, state, state);
  github.deployments.find((d) => d.id === id)!.created_at = iso(input.created);
  const statuses = github.statuses.get(id)!;
  statuses[0]!.created_at = iso(input.created);
  (input.statuses ?? []).forEach(([, hour], i) => (statuses[i + 1]!.created_at = iso(hour)));
  return id;
}

/** Commit times (hours): what GitHub's commit date would say. */
const COMMITS: Record<string, number> = { a: 1, b: 25, c: 20, d: 52, e: 79, f: 89, '7': 99, '8': -12 };
function commitsCallback(calls: string[] = []) {
  return (commit: string) => {
    calls.push(commit);
    const hour = COMMITS[commit[0]!];
    return Promise.resolve(hour === undefined ? undefined : at(hour));
  };
}

describe('the hand-made history', () => {
  const repo = { owner: 'acme', repo: 'history' };
  let report: DoraReport;
  let calls: string[];

  beforeAll(async () => {
    await fresh();
    // Production (hours from T0; the window is [0, 96)):
    await deploy(repo, 'production', { sha: sha('8'), created: -10, statuses: [['success', -9]] }); // D0, before the window
    const d1 = await deploy(repo, 'production', { sha: sha('a'), created: 10, statuses: [['success', 11]] });
    // D2 succeeds, its bake fails at 33, rollback R1 (created 33.5) succeeds at 34.
    const d2 = await deploy(repo, 'production', {
      sha: sha('b'),
      created: 30,
      statuses: [
        ['success', 31],
        ['failure', 33],
      ],
    });
    await deploy(repo, 'production', { sha: sha('b'), created: 33.5, rolledBack: d2, statuses: [['success', 34]] });
    // D3 fails outright at 51.
    await deploy(repo, 'production', { sha: sha('c'), created: 50, statuses: [['failure', 51]] });
    // D4 succeeds at 55 (restoring D3), is rolled back by R2 created at 60, which succeeds at 60.5.
    const d4 = await deploy(repo, 'production', { sha: sha('d'), created: 54, statuses: [['success', 55]] });
    await deploy(repo, 'production', { sha: sha('d'), created: 60, rolledBack: d4, statuses: [['success', 60.5]] });
    // D5 deploys sha a again; D6 never finishes; D7 errors (never touched the router); D8 is after the window.
    await deploy(repo, 'production', { sha: sha('a'), created: 70, statuses: [['success', 71]] });
    await deploy(repo, 'production', { sha: sha('e'), created: 80 });
    await deploy(repo, 'production', { sha: sha('f'), created: 90, statuses: [['error', 90.5]] });
    await deploy(repo, 'production', { sha: sha('7'), created: 100, statuses: [['success', 101]] });
    // Staging: S1 succeeds at 6, S2 fails at 21 and nothing succeeds after it.
    await deploy(repo, 'staging', { sha: sha('a'), created: 5, statuses: [['success', 6]] });
    await deploy(repo, 'staging', { sha: sha('b'), created: 20, statuses: [['failure', 21]] });

    // Foreign: another user's record-shaped deployment, a failure status it posts on D1, and a
    // deployment of ours that is not a record.
    github.addUser('intruder', 'ghs_intruder');
    const intruder = createGitHubClient({
      token: 'ghs_intruder',
      baseUrl: github.url,
      retries: 0,
      minWriteIntervalMs: 0,
    });
    await deploy(repo, 'production', { sha: sha('e'), created: 40, statuses: [['failure', 41]] }, intruder);
    await setDeploymentStatus(intruder, repo, d1, 'failure', 'not really');
    github.statuses.get(d1)!.at(-1)!.created_at = iso(12);
    github.seed(repo.owner, repo.repo, 'production', 2);

    const read = await readDeployments(client, repo, { since: SINCE, author: BOT });
    calls = [];
    report = await doraFigures(read.records, { window: WINDOW, commits: commitsCallback(calls) });
  });

  it('reads only its own records, with only its own statuses', async () => {
    const read = await readDeployments(client, repo, { since: SINCE, author: BOT });
    // 11 production + 2 staging records; the intruder's and the two non-records are skipped.
    expect(read.records).toHaveLength(13);
    expect(read.records.every((r) => r.creator === BOT && r.statuses.every((s) => s.creator === BOT))).toBe(true);
    expect(read.skipped).toBe(3);
    const onlyStaging = await readDeployments(client, repo, { since: SINCE, author: BOT, environments: ['staging'] });
    expect(onlyStaging.records.map((r) => r.environment)).toEqual(['staging', 'staging']);
    // `since` leaves D0 (created at -10) out when it is later than it.
    const later = await readDeployments(client, repo, { since: at(0), author: BOT });
    expect(later.records).toHaveLength(12);
  });

  it('deployment frequency: successes in the window per day', () => {
    // Production changes succeeding in [0, 96): D1 (11), D2 (31), D4 (55), D5 (71) = 4 over 4 days
    // = 1/day (D0 and D8 are outside; R1 and R2 are rollbacks, not changes).
    // Staging: S1 (6) = 1 over 4 days = 0.25/day.
    const [production, staging] = report.environments;
    expect(production).toMatchObject({ environment: 'production', successful: 4, deploymentFrequencyPerDay: 1 });
    expect(staging).toMatchObject({ environment: 'staging', successful: 1, deploymentFrequencyPerDay: 0.25 });
  });

  it('lead time: median of commit to first success per SHA', () => {
    // Production: a 1 → 11 = 10 h; b 25 → 31 = 6 h; d 52 → 55 = 3 h; c never succeeded; D5
    // redeploys a (its first success was at 11): no second sample. Median of [3, 6, 10] = 6 h.
    // Staging: a 1 → 6 = 5 h.
    const [production, staging] = report.environments;
    expect(production).toMatchObject({ leadTimeHours: 6, leadTimeSamples: 3 });
    expect(staging).toMatchObject({ leadTimeHours: 5, leadTimeSamples: 1 });
    // One lookup per SHA, shared between environments.
    expect(calls.sort()).toEqual([sha('a'), sha('b'), sha('d')]);
  });

  it('change failure rate: failed or rolled back over finished', () => {
    // Production changes created in the window: D1–D7. Failed: D2 (failure), D3 (failure), D4
    // (rolled back) = 3. Finished: D1, D2, D3, D4, D5 = 5 (D6 in progress, D7 errored). 3/5 = 0.6.
    // The intruder's failure on D1 does not count. Staging: S2 failed of S1, S2 = 0.5.
    const [production, staging] = report.environments;
    expect(production).toMatchObject({ failed: 3, finished: 5, changeFailureRate: 0.6 });
    expect(staging).toMatchObject({ failed: 1, finished: 2, changeFailureRate: 0.5 });
  });

  it('time to restore: median of failure to the next success', () => {
    // Production: D2 failed at 33 (before R1's creation at 33.5) → R1's success at 34 = 1 h;
    // D3 failed at 51 → D4's success at 55 = 4 h; D4 rolled back at 60 → R2's success at 60.5 =
    // 0.5 h. Median of [0.5, 1, 4] = 1 h. Staging: S2 at 21 has no success after it.
    const [production, staging] = report.environments;
    expect(production).toMatchObject({ timeToRestoreHours: 1, restored: 3, unrestored: 0 });
    expect(staging).toMatchObject({ timeToRestoreHours: null, restored: 0, unrestored: 1 });
  });

  it('renders Prometheus text exposition that parses line by line', () => {
    const text = renderPrometheus(report);
    expect(text.endsWith('\n')).toBe(true);
    const samples = parseExposition(text);
    expect(samples.get('deploy_suite_dora_deployment_frequency_per_day{production}')).toBe(1);
    expect(samples.get('deploy_suite_dora_deployment_frequency_per_day{staging}')).toBe(0.25);
    expect(samples.get('deploy_suite_dora_lead_time_hours{production}')).toBe(6);
    expect(samples.get('deploy_suite_dora_change_failure_rate{production}')).toBe(0.6);
    expect(samples.get('deploy_suite_dora_time_to_restore_hours{production}')).toBe(1);
    // Staging has no time to restore: no sample rather than NaN.
    expect(samples.has('deploy_suite_dora_time_to_restore_hours{staging}')).toBe(false);
    expect(samples.get('deploy_suite_dora_unrestored_failures{staging}')).toBe(1);
  });

  it('renders JSON and a Markdown summary with a bar per environment', () => {
    expect(JSON.parse(renderJson(report))).toEqual(JSON.parse(JSON.stringify(report)));
    const markdown = renderMarkdown(report);
    expect(markdown).toContain('| production | 1 (4) | 6 | 60% (3/5) | 1 |');
    expect(markdown).toContain('| staging | 0.25 (1) | 5 | 50% (1/2) | – (1 unrestored) |');
    expect(markdown).toContain(`production ${'█'.repeat(20)} 1`);
    expect(markdown).toContain(`staging    ${'█'.repeat(5)}${'·'.repeat(15)} 0.25`);
  });

  it('gives nulls, not NaN, for a window without deployments', async () => {
    const read = await readDeployments(client, repo, { since: SINCE, author: BOT });
    const quiet = await doraFigures(read.records, {
      window: { from: at(200), to: at(224) },
      commits: commitsCallback(),
    });
    expect(quiet.environments.map((e) => e.environment)).toEqual(['production', 'staging']);
    for (const figures of quiet.environments) {
      expect(figures).toMatchObject({
        successful: 0,
        deploymentFrequencyPerDay: 0,
        leadTimeHours: null,
        changeFailureRate: null,
        timeToRestoreHours: null,
      });
    }
    const empty = await doraFigures(read.records, { window: { from: at(50), to: at(50) } });
    expect(empty.environments[0]!.deploymentFrequencyPerDay).toBeNull();
    const none = await doraFigures([], { window: WINDOW });
    expect(none.environments).toEqual([]);
    expect(JSON.stringify([quiet, empty, none])).not.toContain('NaN');
    expect(renderPrometheus(quiet)).not.toMatch(/NaN|null/);
    expect(renderMarkdown(none)).toContain('No deployment records');
    await expect(doraFigures([], { window: { from: at(2), to: at(1) } })).rejects.toThrow(RangeError);
  });
});

it('lists every page of over 100 deployments, then answers from 304s', async () => {
  await fresh();
  const repo = { owner: 'acme', repo: 'busy' };
  for (let i = 0; i < 130; i++) {
    await deploy(repo, i % 2 === 0 ? 'production' : 'staging', {
      sha: sha('a'),
      created: i / 2,
      statuses: [['success', i / 2 + 0.25]],
    });
  }
  github.server.requests.length = 0;
  const cache = new MetricsCache();
  const read = await readDeployments(client, repo, { since: SINCE, author: BOT, cache });
  expect(read.records).toHaveLength(130);
  const pages = github.server.requests.filter((r) => r.path === '/repos/acme/busy/deployments');
  expect(pages.map((r) => [r.url.searchParams.get('page'), r.url.searchParams.get('per_page')])).toEqual([
    ['1', '100'],
    ['2', '100'],
  ]);
  const report = await doraFigures(read.records, { window: WINDOW });
  expect(report.environments.map((e) => e.successful)).toEqual([65, 65]);

  // Read again with the same cache: every page and every status list answers 304.
  const again = await readDeployments(client, repo, { since: SINCE, author: BOT, cache });
  expect(again.records).toHaveLength(130);
  expect(again.requests).toBe(2 + 130);
  expect(again.notModified).toBe(again.requests);
});

it('stops listing at the first page made wholly before the read begins', async () => {
  await fresh();
  const repo = { owner: 'acme', repo: 'long' };
  // 250 deployments, newest first on GitHub: 50 since SINCE, then 200 older ones.
  for (let i = 0; i < 250; i++) {
    const created = i < 200 ? -1000 + i : i - 200;
    await deploy(repo, 'production', { sha: sha('a'), created, statuses: [['success', created + 0.25]] });
  }
  github.server.requests.length = 0;
  const read = await readDeployments(client, repo, { since: SINCE, author: BOT });
  expect(read.records).toHaveLength(50);
  const pages = github.server.requests.filter((r) => r.path === '/repos/acme/long/deployments');
  // Page 1 holds the 50 new and 50 old ones, page 2 only old ones: page 3 is never asked for.
  expect(pages.map((r) => r.url.searchParams.get('page'))).toEqual(['1', '2']);
});

it('escapes label values as the exposition format asks', async () => {
  expect(escapeLabelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
  await fresh();
  const repo = { owner: 'acme', repo: 'odd' };
  await deploy(repo, 'qa "eu"\\1', { sha: sha('a'), created: 1, statuses: [['success', 2]] });
  const read = await readDeployments(client, repo, { since: SINCE, author: BOT });
  const text = renderPrometheus(await doraFigures(read.records, { window: WINDOW }));
  expect(text).toContain('deploy_suite_dora_deployment_frequency_per_day{environment="qa \\"eu\\"\\\\1"} 0.25');
  expect(parseExposition(text).get('deploy_suite_dora_deployment_frequency_per_day{qa "eu"\\1}')).toBe(0.25);
});

it('reads no commit date GitHub does not have', async () => {
  expect(await commitDates(client, { owner: 'acme', repo: 'history' })(sha('9'))).toBeUndefined();
});

/** Parses the text exposition line by line: every line a comment or a sample; samples by "name{environment}". */
function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const lines = text.slice(0, -1).split('\n');
  for (const line of lines) {
    if (/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* [^\n]*$/.test(line)) continue;
    if (/^# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped)$/.test(line)) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{environment="((?:[^"\\\n]|\\[\\"n])*)"\} (\S+)$/.exec(line);
    if (!sample) throw new Error(`not a line of the exposition format: ${JSON.stringify(line)}`);
    const value = Number(sample[3]);
    if (!Number.isFinite(value)) throw new Error(`not a finite value: ${line}`);
    const label = sample[2]!.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
    samples.set(`${sample[1]}{${label}}`, value);
  }
  return samples;
}
