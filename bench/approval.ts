// The approval gate's cost while it waits, and its cold start.
// 1. Requests per hour while idle in `wait` mode: waitForDecision with DEFAULT_SCHEDULE against
//    the stateful fake GitHub API on a virtual clock, for one virtual hour in which no decision
//    arrives (an issue with 150 comments, so two comment pages; one of the two approvals needed
//    already given, another under an old evidence hash, so each decision looks up write access).
//    Goal: ≤ 60 requests in the hour. 304s (free of rate limit on GitHub) are counted apart.
// 2. Baseline, same fake, same issue, same clock: the popular approval action's way
//    (trstringer/manual-approval): every 10 s, every comment page read unconditionally and the
//    decision taken again. It checks approvers against its list only, so its decisions here make
//    no permission lookups. Figure: our requests per hour ÷ the baseline's.
// 3. Cold start of the built approval-gate (spawned with no inputs, it fails fast on the first
//    missing input) ÷ `node -e ''`, interleaved, medians of 21 runs each.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_SCHEDULE, decide, waitForDecision, writeAccessOn } from '../packages/approval/src/index.ts';
import type { DecisionRules } from '../packages/approval/src/index.ts';
import { createGitHubClient, listIssueComments } from '../packages/github/src/index.ts';
import type { Clock } from '../packages/kit/src/index.ts';
import { FakeGitHub } from '../test/fakes/github.ts';
import { repoRoot } from '../test/helpers/run-action.ts';
import { actionSpawnTimer, median, round } from './stats.ts';

const GOAL_REQUESTS_PER_HOUR = 60;
const HOUR_MS = 3_600_000;
const BASELINE_INTERVAL_MS = 10_000;
const runs = Number(process.argv[2] ?? 21);

/** Virtual time: a sleep moves the clock on at once. */
function virtualClock(): Clock {
  let now = 0;
  return {
    now: () => now,
    sleep: (ms) => {
      now += ms;
      return Promise.resolve();
    },
  };
}

const hash = (seed: string) => `sha256:${seed.repeat(64).slice(0, 64)}`;
const CURRENT = hash('c0ffee');
const OLD = hash('0bad');
const owner = 'acme';
const name = 'shop';
const repo = { owner, repo: name };

const fake = await FakeGitHub.start();
for (const login of ['alice', 'bob', 'carol']) fake.setRole(owner, name, login, 'write');
const issue = fake.addIssue(owner, name, { title: 'Deploy shop to production' });
const people = ['dave', 'erin', 'frank', 'alice', 'bob', 'carol'];
for (let i = 0; i < 150; i++) {
  const login = people[i % people.length]!;
  const body =
    i === 40
      ? `approve ${OLD}`
      : i === 120
        ? `approve ${CURRENT}`
        : `Checked the dashboards for step ${i}: latency and error rate look normal.`;
  fake.addComment(owner, name, issue.number, { login: i === 40 ? 'bob' : i === 120 ? 'alice' : login, body });
}

/** Requests the fake got while `run` ran, and how many of them were 304s (the fake refunds those). */
async function counted<T>(run: () => Promise<T>): Promise<{ result: T; requests: number; notModified: number }> {
  const before = fake.requests.length;
  const rateBefore = fake.rateLimitRemaining;
  const result = await run();
  const requests = fake.requests.length - before;
  const charged = rateBefore - fake.rateLimitRemaining;
  return { result, requests, notModified: requests - charged };
}

// 1. Ours: waitForDecision with the default schedule.
const ourClock = virtualClock();
const ourClient = createGitHubClient({
  token: fake.token,
  baseUrl: fake.url,
  retries: 0,
  minWriteIntervalMs: 0,
  clock: ourClock,
});
const rules: DecisionRules = {
  evidenceHash: CURRENT,
  approvers: ['alice', 'bob', 'carol'],
  minimumApprovals: 2,
  excluded: [],
  canWrite: writeAccessOn(ourClient, repo),
};
const ourStart = ourClock.now();
const ours = await counted(() =>
  waitForDecision({
    octokit: ourClient,
    repo,
    number: issue.number,
    rules,
    clock: ourClock,
    deadline: ourStart + HOUR_MS,
    schedule: DEFAULT_SCHEDULE,
  }),
);
if (ours.result.end !== 'timed-out' || ours.result.decision.state !== 'pending')
  throw new Error(`the idle wait ended ${ours.result.end} (${ours.result.decision.state}), not timed out pending`);
if (ourClock.now() - ourStart !== HOUR_MS) throw new Error(`the wait lasted ${ourClock.now() - ourStart} virtual ms`);

// 2. Baseline: every 10 s, every comment page, unconditionally, and a new decision.
const baseClock = virtualClock();
const baseClient = createGitHubClient({
  token: fake.token,
  baseUrl: fake.url,
  retries: 0,
  minWriteIntervalMs: 0,
  clock: baseClock,
});
const baseStart = baseClock.now();
const baseline = await counted(async () => {
  let looks = 0;
  let state = 'pending';
  while (baseClock.now() < baseStart + HOUR_MS) {
    const comments = await listIssueComments(baseClient, repo, issue.number);
    state = (await decide(comments, { ...rules, canWrite: () => Promise.resolve(true) })).state;
    looks++;
    await baseClock.sleep(BASELINE_INTERVAL_MS);
  }
  return { looks, state };
});
if (baseline.result.state !== 'pending') throw new Error(`the baseline decided ${baseline.result.state}`);
await fake.close();

// 3. Cold start of the built action against `node -e ''`.
const bundle = join(repoRoot, 'actions/approval-gate/dist/index.js');
if (!existsSync(bundle)) {
  const build = spawnSync('flock', ['/tmp/ds-dist.lock', 'pnpm', 'build', 'approval-gate'], {
    cwd: repoRoot,
    stdio: 'inherit',
  });
  if (build.status !== 0 || !existsSync(bundle)) throw new Error('building approval-gate failed');
}
const time = actionSpawnTimer('bench-approval-');
const nodeTimes: number[] = [];
const actionTimes: number[] = [];
let actionError = '';
for (let i = 0; i < runs; i++) {
  nodeTimes.push(time(['-e', '']).ms);
  const result = time([bundle]);
  if (result.status === 0) throw new Error('approval-gate exited 0 with no inputs');
  actionTimes.push(result.ms);
  actionError = (/::error::([^%\n]*)/.exec(result.output)?.[1] ?? '').slice(0, 80);
}

const ratio = round(ours.requests / baseline.requests, 4);
const coldMs = round(median(actionTimes), 1);
const nodeMs = round(median(nodeTimes), 1);
console.log(
  `idle wait (DEFAULT_SCHEDULE, 1 virtual hour): ${ours.requests} requests/hour, ${ours.notModified} of them 304 (goal ≤ ${GOAL_REQUESTS_PER_HOUR})`,
);
console.log(
  `baseline (all comment pages every ${BASELINE_INTERVAL_MS / 1000} s, ${baseline.result.looks} looks): ${baseline.requests} requests/hour, ${baseline.notModified} of them 304`,
);
console.log(`ours ÷ baseline: ${ratio}`);
console.log(
  `cold start: ${coldMs} ms vs node -e '' ${nodeMs} ms (${round(coldMs / nodeMs)}×), median of ${runs} — ${actionError}`,
);
console.log(
  JSON.stringify({
    name: 'approval',
    idle_requests_per_hour: ours.requests,
    idle_not_modified: ours.notModified,
    baseline_requests_per_hour: baseline.requests,
    baseline_not_modified: baseline.notModified,
    ratio_vs_baseline: ratio,
    goal_requests_per_hour: GOAL_REQUESTS_PER_HOUR,
    runs,
    cold_start_ms: coldMs,
    node_ms: nodeMs,
    cold_start_ratio: round(coldMs / nodeMs),
    goal_met: ours.requests <= GOAL_REQUESTS_PER_HOUR,
  }),
);
if (ours.requests > GOAL_REQUESTS_PER_HOUR) process.exitCode = 1;
