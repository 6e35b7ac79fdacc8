import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { Clock } from '@deploy-suite/kit';
import { FakeGitHub } from '../../../test/fakes/github.ts';
import { FakeChecks } from '../../../test/fakes/github-checks.ts';
import { createGitHubClient, type GitHubClient } from '../../github/src/index.ts';
import type { ChecklistContext, ItemResult } from '../src/item.ts';
import { testsPassing } from '../src/items/tests-passing.ts';

const repo = { owner: 'acme', repo: 'service' };
const T0 = Date.parse('2026-11-27T09:00:00Z');

let github: FakeGitHub;
let checks: FakeChecks;
let client: GitHubClient;
let sha: string;
let counter = 0;
let time: number;
let log: string[];

beforeAll(async () => {
  github = await FakeGitHub.start();
  checks = new FakeChecks(github);
  github.now = () => new Date(time);
});
afterAll(() => github.close());
afterEach(() => {
  jest.restoreAllMocks();
});

beforeEach(() => {
  jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  client = createGitHubClient({ token: github.token, baseUrl: github.url, retries: 0, minWriteIntervalMs: 0 });
  // Each test judges a commit of its own.
  sha = (++counter).toString(16).padStart(40, '0');
  time = T0;
  log = [];
});

const run = (input: Parameters<FakeChecks['addCheckRun']>[3]) => checks.addCheckRun(repo.owner, repo.repo, sha, input);
const status = (input: Parameters<FakeChecks['addStatus']>[3]) => checks.addStatus(repo.owner, repo.repo, sha, input);

/** A clock that moves only when slept on; `onSleep` runs after each sleep (a check finishing, say). */
function fakeClock(onSleep: (slept: number[]) => void = () => {}): Clock & { slept: number[] } {
  const slept: number[] = [];
  return {
    slept,
    now: () => time,
    sleep: (ms: number) => {
      slept.push(ms);
      time += ms;
      onSleep(slept);
      return Promise.resolve();
    },
  };
}

function contextFor(clock: Clock = fakeClock()): ChecklistContext {
  return {
    octokit: client,
    repo,
    sha,
    environment: 'production',
    artifactDigest: undefined,
    pull: undefined,
    changedFiles: () => Promise.resolve([]),
    workspace: '/nonexistent',
    clock,
    log: (message) => log.push(message),
  };
}

async function judge(rule: Record<string, unknown> = {}, clock?: Clock): Promise<ItemResult> {
  const result = await testsPassing.evaluate(testsPassing.schema.parse(rule), contextFor(clock));
  if (Array.isArray(result)) throw new Error('one result expected');
  return result;
}

const checkRunRequests = () => github.requests.filter((r) => r.path.endsWith(`/commits/${sha}/check-runs`));

describe('tests passing: every check run and commit status on the SHA', () => {
  it('passes when every check passed or has an allowed conclusion, with evidence per check', async () => {
    run({ name: 'build', completedAt: '2026-11-27T08:50:00Z' });
    const lint = run({ name: 'lint', conclusion: 'skipped', completedAt: '2026-11-27T08:55:00Z' });
    run({ name: 'e2e', conclusion: 'neutral', app: 'circleci', completedAt: '2026-11-27T08:40:00Z' });
    status({ context: 'ci/jenkins', state: 'success' });
    const result = await judge();
    expect(result).toMatchObject({ id: 'tests-passing', status: 'pass', code: 'ok', required: true });
    expect(result.observedAt).toBe('2026-11-27T09:00:00.000Z');
    expect(result.evidence.checks).toContainEqual({
      name: 'lint',
      kind: 'check-run',
      app: 'github-actions',
      conclusion: 'skipped',
      id: lint.id,
      completedAt: '2026-11-27T08:55:00Z',
    });
    expect(result.evidence.checks).toHaveLength(4);
    // Stable between runs: the same checks give the same evidence.
    expect((await judge()).evidence).toEqual(result.evidence);
  });

  it('finds the one failing check among 120 across pages (the 110th)', async () => {
    for (let i = 1; i <= 120; i++) {
      run({ name: `test-${String(i).padStart(3, '0')}`, conclusion: i === 110 ? 'failure' : 'success' });
    }
    const result = await judge();
    expect(result).toMatchObject({ status: 'fail', code: 'check-failed' });
    expect(result.reason).toContain('"test-110" ("failure")');
    expect(result.reason).toMatch(/^1 of 120 checks/);
    expect(result.evidence.checks).toHaveLength(120);
    expect(checkRunRequests()).toHaveLength(2);
  });

  it('fails when a required check is missing', async () => {
    run({ name: 'build' });
    const result = await judge({ 'required-checks': [{ name: 'build' }, { name: 'test (*)' }] });
    expect(result).toMatchObject({ status: 'fail', code: 'check-missing' });
    expect(result.reason).toContain('"test (*)"');
    expect(result.evidence.missing).toEqual(['test (*)']);
  });

  it('fails when a required check comes only from another app', async () => {
    run({ name: 'build', app: 'some-other-app' });
    run({ name: 'test (linux)' });
    const result = await judge({
      'required-checks': [
        { name: 'build*', app: 'github-actions' },
        { name: 'test (*)', app: 'github-actions' },
      ],
    });
    expect(result).toMatchObject({ status: 'fail', code: 'wrong-app' });
    expect(result.reason).toContain('wanted github-actions, made by "some-other-app"');
    expect(result.evidence.wrongApp).toEqual([
      { name: 'build*', wanted: 'github-actions', madeBy: ['some-other-app'] },
    ]);
  });

  it('passes when required checks by pattern are present from the right app', async () => {
    run({ name: 'build (api)' });
    run({ name: 'test (linux)' });
    run({ name: 'test (windows)' });
    const result = await judge({
      'required-checks': [{ name: 'build*', app: 'github-actions' }, { name: 'test (*)' }],
    });
    expect(result).toMatchObject({ status: 'pass', code: 'ok' });
  });

  it('a required commit status is matched by its context (it has no app)', async () => {
    status({ context: 'ci/jenkins', state: 'success' });
    expect(await judge({ 'required-checks': [{ name: 'ci/*' }] })).toMatchObject({ status: 'pass' });
    expect(await judge({ 'required-checks': [{ name: 'ci/*', app: 'jenkins' }] })).toMatchObject({
      code: 'wrong-app',
    });
  });

  it('a pending check is not passing', async () => {
    run({ name: 'build' });
    run({ name: 'e2e', status: 'in_progress' });
    const result = await judge();
    expect(result).toMatchObject({ status: 'fail', code: 'check-pending' });
    expect(result.reason).toContain('"e2e"');
  });

  it('with a wait, passes when the pending check completes within it, polling with conditional requests', async () => {
    run({ name: 'build' });
    const e2e = run({ name: 'e2e', status: 'queued' });
    const clock = fakeClock((slept) => {
      if (slept.length === 3)
        Object.assign(e2e, { status: 'completed', conclusion: 'success', completed_at: new Date(time).toISOString() });
    });
    const result = await judge({ wait: '10m' }, clock);
    expect(result).toMatchObject({ status: 'pass', code: 'ok' });
    // Backing off: 5 s, 7.5 s, 11.25 s.
    expect(clock.slept).toEqual([5000, 7500, 11250]);
    const polls = checkRunRequests();
    expect(polls).toHaveLength(4);
    expect(polls.slice(1).every((r) => typeof r.headers['if-none-match'] === 'string')).toBe(true);
    expect(log[0]).toMatch(/Checking again in 5 s/);
  });

  it('with a wait that runs out, a check still pending fails, and the last sleep ends at the deadline', async () => {
    run({ name: 'e2e', status: 'in_progress' });
    const clock = fakeClock();
    const result = await judge({ wait: '2m' }, clock);
    expect(result).toMatchObject({ status: 'fail', code: 'check-pending' });
    expect(clock.slept.reduce((a, b) => a + b, 0)).toBe(120_000);
  });

  it('with a wait, a failure is reported at once, without waiting', async () => {
    run({ name: 'unit', conclusion: 'failure' });
    run({ name: 'e2e', status: 'in_progress' });
    const clock = fakeClock();
    expect(await judge({ wait: '10m' }, clock)).toMatchObject({ code: 'check-failed' });
    expect(clock.slept).toEqual([]);
  });

  it('waits with a short real wait too', async () => {
    const e2e = run({ name: 'e2e', status: 'in_progress' });
    const real: Clock = {
      now: () => Date.now(),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 50))),
    };
    setTimeout(
      () => Object.assign(e2e, { status: 'completed', conclusion: 'success', completed_at: '2026-11-27T09:01:00Z' }),
      120,
    );
    const result = await judge({ wait: '30s' }, real);
    expect(result).toMatchObject({ status: 'pass', observedAt: '2026-11-27T09:01:00Z' });
  });

  it('commit statuses: only the newest per context counts', async () => {
    status({ context: 'ci/jenkins', state: 'failure' });
    time += 1000;
    status({ context: 'ci/jenkins', state: 'success' });
    status({ context: 'security/scan', state: 'success' });
    time += 1000;
    status({ context: 'security/scan', state: 'error', description: 'scanner crashed' });
    const result = await judge();
    expect(result).toMatchObject({ status: 'fail', code: 'check-failed' });
    expect(result.reason).toContain('"security/scan" ("error")');
    expect(result.reason).not.toContain('ci/jenkins');
    expect(result.evidence.checks).toHaveLength(2);
  });

  it('a pending commit status is not passing', async () => {
    status({ context: 'ci/jenkins', state: 'pending' });
    expect(await judge()).toMatchObject({ code: 'check-pending' });
  });

  it('a re-run that passed replaces the failed run of the same check', async () => {
    run({ name: 'flaky', conclusion: 'failure' });
    run({ name: 'flaky', conclusion: 'success' });
    expect(await judge()).toMatchObject({ status: 'pass' });
  });

  it('cancelled and timed-out checks fail unless allowed', async () => {
    run({ name: 'build', conclusion: 'cancelled' });
    expect(await judge()).toMatchObject({ code: 'check-failed' });
    expect(await judge({ 'allowed-conclusions': ['success', 'cancelled'] })).toMatchObject({ status: 'pass' });
  });

  it('nothing at all on the SHA fails with no-checks', async () => {
    const result = await judge({ 'required-checks': [{ name: 'build' }] });
    expect(result).toMatchObject({ status: 'fail', code: 'no-checks' });
    expect(result.observedAt).toBeUndefined();
  });

  it('ignored checks are not judged (the deploy workflow itself, pending), but they alone are not enough', async () => {
    run({ name: 'deploy / production', status: 'in_progress' });
    expect(await judge({ ignore: ['deploy*'] })).toMatchObject({ code: 'no-checks' });
    run({ name: 'build' });
    const result = await judge({ ignore: ['deploy*'] });
    expect(result).toMatchObject({ status: 'pass' });
    expect(result.evidence.ignored).toEqual([expect.objectContaining({ name: 'deploy / production' })]);
  });

  it('an API error is unavailable, not a pass', async () => {
    run({ name: 'build' });
    github.inject('GET', /\/check-runs$/, { status: 502, body: { message: 'Bad gateway' } });
    const result = await judge();
    expect(result).toMatchObject({ status: 'fail', code: 'unavailable' });
    expect(result.reason).toMatch(/check runs/);
  });

  it('a check name is untrusted: escaped and bounded in the reason', async () => {
    run({ name: `evil\n::error::forged${'x'.repeat(300)}`, conclusion: 'failure' });
    const result = await judge();
    expect(result.reason).not.toContain('\n');
    expect(result.reason).toContain('\\n::error::forged');
    expect(result.reason.length).toBeLessThan(300);
  });
});

describe('the tests-passing rule', () => {
  it('has defaults', () => {
    expect(testsPassing.schema.parse({})).toEqual({
      required: true,
      'allowed-conclusions': ['success', 'skipped', 'neutral'],
      'required-checks': [],
      ignore: [],
      wait: 0,
    });
    expect(testsPassing.schema.parse({ wait: '1h30m', required: false })).toMatchObject({ wait: 5_400_000 });
  });

  it.each([
    [{ wait: '3 fortnights' }, /duration/],
    [{ wait: '40d' }, /24 days/],
    [{ 'required-checks': [{ name: '' }] }, /name a check/],
    [{ 'required-checks': [{ name: 'build', apps: 'x' }] }, /apps/],
    [{ ignore: ['a***'] }, /not a valid pattern/],
    [{ 'allowed-conclusions': ['passed'] }, /allowed-conclusions/],
    [{ waitt: '1m' }, /waitt/],
  ])('refuses %j', (rule, message) => {
    const parsed = testsPassing.schema.safeParse(rule);
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toMatch(message);
  });
});
