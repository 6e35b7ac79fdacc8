// The zero-downtime switch, with the machinery of the blue-green-switch zero-downtime test: a real
// nginx (Debian's) on loopback in front of a blue and a green Node server, the fake GitHub API for
// the deployment record, and the built action run the runner's way.
// 1. Baseline: autocannon at 200 requests/s over 10 kept-alive connections for 6 s, no switch,
//    before the switches and again after them (others share this machine: drift weighs on both
//    sides alike): p99 latency of every response after each phase's first half second.
// 2. The same load while the action runs back to back: switch blue → green, rollback, a gradual
//    switch (10, 50, 100 with step-pause 1s) and rollback. Figures: failed requests over the whole
//    load (errors, timeouts, non-2xx, resets, and requests nginx dropped on a kept-alive
//    connection), goal 0; p99 of the responses between the first spawn and the last exit ÷ the
//    baseline p99, goal ≤ 1.5 (the ratios to the phase before and the phase after alone are
//    reported too).
//    autocannon ignores `Connection: close`: when a reload's old nginx worker answers with it, the
//    next request goes out on the closing connection and is never answered, and from then on the
//    connection's latencies are each measured from the request before (a phantom ~1 s once a
//    second). Its client's request queue (autocannon 9 internals) shows both: such requests are
//    counted apart (a compliant client never sends them; they are not failures of the switch), and
//    latencies are taken from the request actually answered. A request lost after a keep-alive
//    answer would be a real drop and counts as failed.
// 3. Time from the start of the plain switch to verified: the job summary's "green verified | X s
//    after the start" row (in the action, from its first router read to three answers in a row
//    from green through nginx), and the wall time from spawning the action to its exit. Goal: the
//    in-action figure under 2 s plus the health checks, whose share is the health gate's own
//    figure in the summary notes ("green healthy: … answered 200 in N ms": one request, green is
//    healthy). When the action's log lines arrive splits it further: before the router moves
//    (health gate, deployment record, the GitHub client's write spacing), the nginx step (write
//    the include, nginx -t, reload, read back) and the verification. The rollback after it is
//    reported alongside.
//    Baseline: a bare `nginx -s reload` of the same nginx, median of 7, measured in this run: the
//    one thing a switch by hand must do too, so switch ÷ reload says what the safety around it
//    costs; `node -e ''` would only measure the process start that bench startup already covers.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { failureOf, repoRoot, type ActionRun } from '../test/helpers/run-action.ts';
import { nginxInputs, runSwitch, startNginxStage } from '../actions/blue-green-switch/test/helpers.ts';
import { median, round } from './stats.ts';

const GOAL_FAILED = 0;
const GOAL_P99_RATIO = 1.5;
const GOAL_VERIFIED_MS = 2000;
const RATE = 200;
const CONNECTIONS = 10;
/** Each of the two quiet phases, before and after the switches. */
const BASELINE_S = 6;
/** The switch window's load may last at most this long; it is stopped once the last run exits. */
const SWITCH_LOAD_MAX_S = 30;
const WARMUP_MS = 500;

const p99 = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)] ?? NaN;
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Load {
  /** Every response: when it arrived (performance.now()) and its latency in ms. */
  samples: { at: number; ms: number }[];
  /** Requests sent on a connection whose last answer said `Connection: close`, never answered. */
  sentAfterClose: number;
  /** Requests sent after a keep-alive answer and never answered: dropped by the server. */
  dropped: number;
  stop(): void;
  result: Promise<autocannon.Result>;
}

/** What autocannon 9's client holds: its queue of requests sent and not yet answered. */
interface ClientInternals {
  pipelinedRequests?: { size(): number; toArray(): { startTime: [number, number] }[] };
  on(event: 'headers', listener: (parsed: { headers?: unknown }) => void): unknown;
}

function load(url: string, seconds: number): Load {
  const state = { samples: [] as Load['samples'], sentAfterClose: 0, dropped: 0, stop: (): void => undefined };
  /** Per connection: the Connection header of the last two answers, and the lost requests seen. */
  const clients = new WeakMap<object, { last?: string; previous?: string; lost: number }>();
  const result = new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      { url, connections: CONNECTIONS, overallRate: RATE, duration: seconds },
      (error: unknown, done: autocannon.Result) => {
        if (error !== null && error !== undefined)
          reject(error instanceof Error ? error : new Error(JSON.stringify(error)));
        else resolve(done);
      },
    );
    state.stop = () => instance.stop();
    instance.on('response', (client, _status, _bytes, ms) => {
      const internals = client as unknown as ClientInternals;
      const queue = internals.pipelinedRequests;
      if (queue === undefined) throw new Error('autocannon has no pipelinedRequests queue: its internals changed');
      let seen = clients.get(client);
      if (seen === undefined) {
        const fresh: { last?: string; previous?: string; lost: number } = { lost: 0 };
        internals.on('headers', (parsed) => {
          const headers = Array.isArray(parsed.headers) ? (parsed.headers as unknown[]).map(String) : [];
          const at = headers.findIndex((name) => name.toLowerCase() === 'connection');
          fresh.previous = fresh.last;
          fresh.last = at >= 0 ? (headers[at + 1] ?? '').toLowerCase() : '';
        });
        clients.set(client, fresh);
        seen = fresh;
      }
      // The answered request has been taken off; with one request at a time, what is left are
      // requests lost on a closed connection, ahead of the one just answered (the last).
      const lost = queue.size();
      if (lost > seen.lost) {
        if (seen.previous === 'close') state.sentAfterClose += lost - seen.lost;
        else state.dropped += lost - seen.lost;
        seen.lost = lost;
      }
      const answered = lost > 0 ? queue.toArray().at(-1)?.startTime : undefined;
      if (answered !== undefined) {
        const [s, ns] = process.hrtime(answered);
        ms = s * 1e3 + ns / 1e6;
      }
      state.samples.push({ at: performance.now(), ms });
    });
  });
  return Object.assign(state, { result });
}

const failed = (result: autocannon.Result, run: Load) => ({
  dropped: run.dropped,
  errors: result.errors,
  timeouts: result.timeouts,
  non2xx: result.non2xx,
  resets: result.resets,
});

// The built action, as the runner runs it: built under the shared lock only when missing.
const bundle = join(repoRoot, 'actions/blue-green-switch/dist/index.js');
if (!existsSync(bundle)) {
  const build = spawnSync('flock', ['/tmp/ds-dist.lock', 'pnpm', 'build', 'blue-green-switch'], {
    cwd: repoRoot,
    stdio: 'inherit',
  });
  if (build.status !== 0 || !existsSync(bundle)) throw new Error('building blue-green-switch failed');
}

const stage = await startNginxStage();
try {
  const url = `${stage.nginx.url}/`;
  const inputs = nginxInputs(stage, 'production');

  // Baseline for the time: a bare reload of the same nginx (nothing changed in its files).
  const nginxLog = join(stage.nginx.dir, 'error.log');
  const reloadTimes: number[] = [];
  for (let i = 0; i < 7; i++) {
    const started = performance.now();
    const reload = spawnSync('nginx', ['-c', stage.nginx.conf, '-e', nginxLog, '-s', 'reload'], { encoding: 'utf8' });
    reloadTimes.push(performance.now() - started);
    if (reload.status !== 0) throw new Error(`nginx -s reload failed: ${reload.stderr}`);
    await sleep(100);
  }
  const reloadMs = median(reloadTimes);
  // Let the old workers of those reloads leave, and warm everything up (JIT, connections, nginx's
  // workers) with 4 s of the same load, discarded: without it the first phase is the slowest.
  await sleep(1000);
  await load(url, 4).result;

  // 1. Baseline: the load alone (its second half comes after the switches).
  const before = load(url, BASELINE_S);
  const beforeResult = await before.result;
  const quiet = (run: Load): number[] => {
    const first = run.samples[0]?.at ?? 0;
    return run.samples.filter((s) => s.at >= first + WARMUP_MS).map((s) => s.ms);
  };
  const beforeP99 = p99(quiet(before));

  // 2. The same load while switching and rolling back.
  const during = load(url, SWITCH_LOAD_MAX_S);
  await sleep(WARMUP_MS + 500);
  interface Step {
    name: string;
    run: ActionRun;
    spawned: number;
    exited: number;
    /** When each line of the action's output arrived. */
    lines: { at: number; text: string }[];
  }
  const runs: Step[] = [];
  const step = async (name: string, extra: Record<string, string>): Promise<ActionRun> => {
    const lines: Step['lines'] = [];
    let partial = '';
    const spawned = performance.now();
    const run = await runSwitch(
      stage.github,
      { ...inputs, ...extra },
      {
        onStart: (child) =>
          child.stdout?.on('data', (chunk: Buffer) => {
            const texts = (partial + chunk.toString()).split('\n');
            partial = texts.pop() ?? '';
            for (const text of texts) lines.push({ at: performance.now(), text });
          }),
      },
    );
    const exited = performance.now();
    const failure = failureOf(run);
    if (failure !== '' || run.exitCode !== 0)
      throw new Error(`${name} failed (${run.exitCode}): ${failure}\n${run.log}`);
    runs.push({ name, run, spawned, exited, lines });
    return run;
  };
  try {
    const first = await step('switch', { to: 'green' });
    if (first.outputs.live !== 'green') throw new Error(`the switch left ${first.outputs.live} live`);
    await step('rollback', { command: 'rollback', 'deployment-id': first.outputs['deployment-id']! });
    const gradual = await step('gradual', { to: 'green', weights: '10, 50, 100', 'step-pause': '1s' });
    if (gradual.outputs.live !== 'green') throw new Error(`the gradual switch left ${gradual.outputs.live} live`);
    const back = await step('rollback', { command: 'rollback' });
    if (back.outputs.live !== 'blue') throw new Error(`the rollback left ${back.outputs.live} live`);
  } finally {
    // Half a second more of load after the last exit, so nginx's old workers finish under load too.
    await sleep(500);
    during.stop();
  }
  const duringResult = await during.result;
  const windowStart = runs[0]!.spawned;
  const windowEnd = runs.at(-1)!.exited;
  const windowSamples = during.samples.filter((s) => s.at >= windowStart && s.at <= windowEnd).map((s) => s.ms);
  const duringP99 = p99(windowSamples);
  // The load alone again after the switches: with the phase before, the baseline, so that drift
  // on a shared machine weighs on both sides alike.
  await sleep(1000);
  const after = load(url, BASELINE_S);
  const afterResult = await after.result;
  const afterP99 = p99(quiet(after));
  const baselineP99 = p99([...quiet(before), ...quiet(after)]);
  const failures = failed(duringResult, during);
  const failedRequests = Object.values(failures).reduce((sum, n) => sum + n, 0);
  const baselineFailed = [failed(beforeResult, before), failed(afterResult, after)]
    .flatMap((f) => Object.values(f))
    .reduce((sum, n) => sum + n, 0);
  const p99Ratio = round(duringP99 / baselineP99);

  // 3. Start of a switch to verified, from the summaries; its parts from the log lines.
  const verifiedMs = (run: ActionRun, colour: string): number => {
    const row = new RegExp(`\\| ${colour} verified \\| ([\\d.]+) s after the start \\|`).exec(run.summary);
    if (row === null) throw new Error(`no "${colour} verified" row in the summary:\n${run.summary}`);
    return Number(row[1]) * 1000;
  };
  const healthMs = (run: ActionRun, colour: string): number => {
    const note = new RegExp(`${colour} healthy: \\S+ answered \\d+ in (\\d+) ms`).exec(run.summary);
    if (note === null) throw new Error(`no "${colour} healthy" note in the summary:\n${run.summary}`);
    return Number(note[1]);
  };
  const lineAt = (run: Step, pattern: RegExp): number => {
    const line = run.lines.find((l) => pattern.test(l.text));
    if (line === undefined) throw new Error(`no line ${pattern} in the ${run.name} log:\n${run.run.log}`);
    return line.at;
  };
  const plain = runs[0]!;
  const rollback = runs[1]!;
  const switchVerifiedMs = verifiedMs(plain.run, 'green');
  const switchHealthMs = healthMs(plain.run, 'green');
  const switchWallMs = plain.exited - plain.spawned;
  const rollbackVerifiedMs = verifiedMs(rollback.run, 'blue');
  const rollbackWallMs = rollback.exited - rollback.spawned;
  const verifiedGoalMs = GOAL_VERIFIED_MS + switchHealthMs;
  const routerRead = lineAt(plain, /^Router now: /);
  const recordOpened = lineAt(plain, /^Deployment record \d+ opened/);
  const stepDone = lineAt(plain, /^Step green 100%: /);
  const verifiedLine = lineAt(plain, /answered from green \d+ times in a row/);
  const parts = {
    before_router_ms: round(recordOpened - routerRead, 0),
    nginx_step_ms: round(stepDone - recordOpened, 0),
    verify_ms: round(verifiedLine - stepDone, 0),
  };

  console.log(
    `baseline, the load alone ${BASELINE_S} s before and ${BASELINE_S} s after (${RATE}/s over ${CONNECTIONS} connections, ${before.samples.length + after.samples.length} responses): p99 ${round(baselineP99)} ms (before ${round(beforeP99)}, after ${round(afterP99)}), ${baselineFailed} failed`,
  );
  console.log(
    `during the switches (${runs.map((r) => r.name).join(', ')}; ${round((windowEnd - windowStart) / 1000)} s, ${windowSamples.length} responses): p99 ${round(duringP99)} ms`,
  );
  console.log(
    `p99 during ÷ baseline: ${p99Ratio} (goal ≤ ${GOAL_P99_RATIO}); ÷ before alone ${round(duringP99 / beforeP99)}, ÷ after alone ${round(duringP99 / afterP99)}`,
  );
  console.log(
    `failed requests: ${failedRequests} of ${during.samples.length} (dropped ${failures.dropped}, errors ${failures.errors}, timeouts ${failures.timeouts}, non-2xx ${failures.non2xx}, resets ${failures.resets}; goal ${GOAL_FAILED})`,
  );
  console.log(
    `not counted: ${during.sentAfterClose} requests autocannon sent on a connection nginx had answered with Connection: close (baseline ${before.sentAfterClose})`,
  );
  console.log(
    `switch blue → green, start to verified: ${round(switchVerifiedMs, 0)} ms in the action (health check ${switchHealthMs} ms; goal < ${verifiedGoalMs} ms), ${round(switchWallMs, 0)} ms spawn to exit`,
  );
  console.log(
    `  of which, by the log: ${parts.before_router_ms} ms from reading the router to the deployment record (health gate, record, GitHub write spacing), ${parts.nginx_step_ms} ms nginx step (include, nginx -t, reload, read back), ${parts.verify_ms} ms verification`,
  );
  console.log(
    `rollback green → blue, start to verified: ${round(rollbackVerifiedMs, 0)} ms in the action, ${round(rollbackWallMs, 0)} ms spawn to exit`,
  );
  console.log(
    `bare nginx -s reload: ${round(reloadMs, 1)} ms (median of 7); switch ÷ reload: ${round(switchVerifiedMs / reloadMs, 1)} in the action, ${round(switchWallMs / reloadMs, 1)} spawn to exit, nginx step ${round(parts.nginx_step_ms / reloadMs, 1)}`,
  );
  const goalMet = failedRequests <= GOAL_FAILED && p99Ratio <= GOAL_P99_RATIO && switchVerifiedMs < verifiedGoalMs;
  console.log(
    JSON.stringify({
      name: 'switch',
      rate_per_s: RATE,
      connections: CONNECTIONS,
      baseline_p99_ms: round(baselineP99),
      before_p99_ms: round(beforeP99),
      switch_p99_ms: round(duringP99),
      p99_ratio: p99Ratio,
      goal_p99_ratio: GOAL_P99_RATIO,
      after_p99_ms: round(afterP99),
      p99_ratio_vs_before: round(duringP99 / beforeP99),
      p99_ratio_vs_after: round(duringP99 / afterP99),
      failed_requests: failedRequests,
      failures,
      sent_after_connection_close: during.sentAfterClose,
      requests_during: during.samples.length,
      switch_window_s: round((windowEnd - windowStart) / 1000),
      switch_verified_ms: round(switchVerifiedMs, 0),
      switch_health_ms: switchHealthMs,
      goal_verified_ms: verifiedGoalMs,
      switch_parts: parts,
      switch_wall_ms: round(switchWallMs, 0),
      rollback_verified_ms: round(rollbackVerifiedMs, 0),
      rollback_wall_ms: round(rollbackWallMs, 0),
      baseline_reload_ms: round(reloadMs, 1),
      verified_ratio_vs_reload: round(switchVerifiedMs / reloadMs, 1),
      wall_ratio_vs_reload: round(switchWallMs / reloadMs, 1),
      nginx_step_ratio_vs_reload: round(parts.nginx_step_ms / reloadMs, 1),
      goal_met: goalMet,
    }),
  );
  if (!goalMet) process.exitCode = 1;
} finally {
  await stage.close();
}
