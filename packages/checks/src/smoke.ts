import { mapConcurrent, systemClock, type Clock } from '@deploy-suite/kit';
import { attemptHttpCheck, runHttpCheckUntilReady, type HttpCheck, type HttpCheckResult } from './http-check.ts';
import { PrometheusClient, runMetricCheck, type MetricCheckResult } from './prometheus.ts';
import type { MetricCheckSpec, NoDataPolicy, Verdict } from './spec.ts';

export interface SoakOptions {
  durationMs: number;
  intervalMs: number;
  /** Share of soak rounds each check must pass, 0..1. */
  passRatio: number;
}

export interface SmokeTestPlan {
  httpChecks: HttpCheck[];
  metricChecks: MetricCheckSpec[];
  concurrency: number;
  readyTimeoutMs: number;
  retryIntervalMs: number;
  soak?: SoakOptions;
  prometheus?: {
    url: URL;
    headers: Record<string, string>;
    window: string;
    onNoData: NoDataPolicy;
    /** Budget for each query, retries and Retry-After waits included. */
    timeoutMs: number;
  };
  clock?: Clock;
  log?: (message: string) => void;
}

export interface SmokeTestReport {
  verdict: Verdict;
  passed: boolean;
  durationMs: number;
  http: HttpCheckResult[];
  metrics: MetricCheckResult[];
  counts: { total: number; passed: number; warned: number; failed: number };
}

/**
 * Readiness first (every HTTP check retried until it passes or the deadline), then an optional
 * soak (all checks repeated at an interval), then metric checks. Checks run concurrently up to
 * the plan's limit, so the total stays close to the slowest check rather than the sum.
 */
export async function runSmokeTest(plan: SmokeTestPlan): Promise<SmokeTestReport> {
  const clock = plan.clock ?? systemClock;
  const log = plan.log ?? (() => {});
  const started = performance.now();

  const http = await mapConcurrent(plan.httpChecks, plan.concurrency, (check) =>
    runHttpCheckUntilReady(check, {
      readyTimeoutMs: plan.readyTimeoutMs,
      retryIntervalMs: plan.retryIntervalMs,
      clock,
      onRetry: (c, attempt, result, delayMs) =>
        log(`${c.name}: attempt ${attempt} failed (${result.reason}); retrying in ${Math.round(delayMs)} ms`),
    }),
  );

  if (plan.soak && plan.soak.durationMs > 0 && http.length > 0 && http.every((result) => result.verdict === 'pass')) {
    await soak(plan, http, clock, log);
  }

  let metrics: MetricCheckResult[] = [];
  if (plan.metricChecks.length > 0 && plan.prometheus) {
    const { url, headers, window, onNoData, timeoutMs } = plan.prometheus;
    const client = new PrometheusClient({ url, headers, timeoutMs, clock });
    metrics = await mapConcurrent(plan.metricChecks, plan.concurrency, (spec) =>
      runMetricCheck(spec, { client, window, defaultNoData: onNoData }),
    );
  }

  const outcomes: Verdict[] = [...http.map((r) => r.verdict), ...metrics.map((r) => r.verdict)];
  const counts = {
    total: outcomes.length,
    passed: outcomes.filter((o) => o === 'pass').length,
    warned: outcomes.filter((o) => o === 'warn').length,
    failed: outcomes.filter((o) => o === 'fail').length,
  };
  // No checks at all cannot prove anything: fail closed.
  const verdict: Verdict = counts.total === 0 || counts.failed > 0 ? 'fail' : counts.warned > 0 ? 'warn' : 'pass';
  return {
    verdict,
    passed: verdict !== 'fail',
    durationMs: Math.round(performance.now() - started),
    http,
    metrics,
    counts,
  };
}

async function soak(
  plan: SmokeTestPlan,
  results: HttpCheckResult[],
  clock: Clock,
  log: (message: string) => void,
): Promise<void> {
  const soakOptions = plan.soak as SoakOptions;
  const tallies = results.map(() => ({ rounds: 0, passed: 0, lastReason: '' }));
  const end = clock.now() + soakOptions.durationMs;
  log(`Soak: repeating ${results.length} checks every ${soakOptions.intervalMs} ms for ${soakOptions.durationMs} ms`);
  for (let round = 1; ; round++) {
    const roundStarted = clock.now();
    const attempts = await mapConcurrent(plan.httpChecks, plan.concurrency, (check) => attemptHttpCheck(check));
    attempts.forEach((attempt, index) => {
      const tally = tallies[index]!;
      tally.rounds++;
      if (attempt.ok) tally.passed++;
      else tally.lastReason = attempt.reason;
    });
    const wait = soakOptions.intervalMs - (clock.now() - roundStarted);
    if (clock.now() + Math.max(0, wait) >= end) break;
    if (wait > 0) await clock.sleep(wait);
  }
  results.forEach((result, index) => {
    const tally = tallies[index]!;
    const ratio = tally.rounds === 0 ? 0 : tally.passed / tally.rounds;
    result.soak = { rounds: tally.rounds, passed: tally.passed, ratio: Math.round(ratio * 10_000) / 10_000 };
    if (ratio < soakOptions.passRatio) {
      result.verdict = 'fail';
      result.reason = `soak: passed ${tally.passed} of ${tally.rounds} rounds (${(ratio * 100).toFixed(1)}%), ${(soakOptions.passRatio * 100).toFixed(1)}% required; last failure: ${tally.lastReason}`;
    }
  });
}
