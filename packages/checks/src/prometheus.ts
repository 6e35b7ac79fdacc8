import {
  escapeUntrusted,
  formatDuration,
  HttpTransportError,
  httpRequest,
  parseRetryAfter,
  quoteUntrusted,
  redact,
  RemoteError,
  retry,
  RetryExhaustedError,
  systemClock,
  type Clock,
} from '@deploy-suite/kit';
import { expandWindow } from './promql.ts';
import type { MetricCheckSpec, NoDataPolicy, Verdict } from './spec.ts';

/** The operations policy: error rate above 1% warns, above 5% is critical. */
export const POLICY_ERROR_RATE = { warnAbove: 0.01, failAbove: 0.05 } as const;

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

export interface PrometheusOptions {
  url: URL;
  headers?: Record<string, string>;
  /** Budget for one query, retries and server-asked waits included. */
  timeoutMs?: number;
  clock?: Clock;
}

/**
 * Prometheus rejected the query as malformed (bad_data): the user must fix the query, so the
 * step fails with this message and no stack.
 */
export class PromQLRejectedError extends RemoteError {
  override name = 'PromQLRejectedError';
}

class RetryableQueryError extends Error {
  readonly retryAfterMs: number | undefined;
  constructor(message: string, retryAfterMs?: number) {
    super(message);
    this.retryAfterMs = retryAfterMs;
  }
}

/** Instant queries against the Prometheus HTTP API, retried on transport errors, 429 and 5xx. */
export class PrometheusClient {
  private readonly options: PrometheusOptions;
  constructor(options: PrometheusOptions) {
    this.options = options;
  }

  get origin(): string {
    return this.options.url.origin;
  }

  async query(promql: string): Promise<Sample[]> {
    const endpoint = new URL(
      'api/v1/query',
      this.options.url.href.endsWith('/') ? this.options.url : `${this.options.url.href}/`,
    );
    const clock = this.options.clock ?? systemClock;
    const budgetMs = this.options.timeoutMs ?? 15_000;
    const started = clock.now();
    try {
      const { value } = await retry(
        // Each attempt gets what is left of the budget, so the query never outlives its timeout.
        () => this.queryOnce(endpoint, promql, Math.max(1, budgetMs - (clock.now() - started))),
        {
          attempts: 3,
          baseDelayMs: 500,
          deadlineMs: budgetMs,
          retryable: (error) => error instanceof RetryableQueryError,
          retryAfterMs: (error) => (error instanceof RetryableQueryError ? error.retryAfterMs : undefined),
          clock,
        },
      );
      return value;
    } catch (error) {
      if (!(error instanceof RetryExhaustedError)) throw error;
      if (error.reason === 'deadline' && error.refusedDelayMs !== undefined) {
        throw new Error(
          `${errorText(error.lastError)}; it asked to wait ${formatDuration(error.refusedDelayMs)} before retrying, beyond the query's timeout of ${formatDuration(budgetMs)}`,
          { cause: error },
        );
      }
      throw error.lastError;
    }
  }

  private async queryOnce(endpoint: URL, promql: string, timeoutMs: number): Promise<Sample[]> {
    const body = new URLSearchParams({ query: promql }).toString();
    let response;
    try {
      response = await httpRequest({
        method: 'POST',
        url: endpoint,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
          ...this.options.headers,
        },
        body,
        timeoutMs,
      });
    } catch (error) {
      if (error instanceof HttpTransportError)
        throw new RetryableQueryError(`Prometheus at ${endpoint.origin} unreachable: ${error.message}`);
      throw error;
    }
    if (response.status === 429 || response.status >= 500) {
      throw new RetryableQueryError(
        `Prometheus at ${endpoint.origin} answered ${response.status}`,
        parseRetryAfter(response.headers['retry-after']),
      );
    }
    let payload: PrometheusResponse;
    try {
      payload = JSON.parse(response.body) as PrometheusResponse;
    } catch {
      throw new Error(
        `Prometheus at ${endpoint.origin} answered ${response.status} with a body that is not JSON; is prometheus-url the server's root URL?`,
      );
    }
    if (payload === null || typeof payload !== 'object') {
      throw new Error(
        `Prometheus at ${endpoint.origin} answered ${response.status} with JSON that is not an API answer`,
      );
    }
    if (payload.status !== 'success') {
      const kind = typeof payload.errorType === 'string' ? escapeUntrusted(payload.errorType, 40) : response.status;
      const reason = typeof payload.error === 'string' ? quoteUntrusted(payload.error) : 'no reason given';
      if (payload.errorType === 'bad_data') {
        throw new PromQLRejectedError(
          `Prometheus at ${endpoint.origin} rejected the query ${quoteUntrusted(promql)} (${kind}): ${reason}. Fix the query in metrics (try it in Prometheus's expression browser first)`,
        );
      }
      throw new Error(`Prometheus at ${endpoint.origin} could not run the query (${kind}): ${reason}`);
    }
    return toSamples(payload.data);
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

interface PrometheusResponse {
  status: 'success' | 'error';
  errorType?: string;
  error?: string;
  data?: { resultType: string; result: unknown };
}

function toSamples(data: PrometheusResponse['data']): Sample[] {
  if (data === undefined) return [];
  if (data.resultType === 'scalar') {
    const [, value] = data.result as [number, string];
    return [{ labels: {}, value: parseSampleValue(value) }];
  }
  if (data.resultType === 'vector') {
    return (data.result as { metric: Record<string, string>; value: [number, string] }[]).map((entry) => ({
      labels: entry.metric,
      value: parseSampleValue(entry.value[1]),
    }));
  }
  throw new Error(
    `the query returned a ${quoteUntrusted(data.resultType, 40)}; a metric check needs an instant vector or scalar (drop the [range] selector or wrap it in a function such as rate())`,
  );
}

/** Prometheus writes NaN and infinities as "NaN", "+Inf" and "-Inf". */
export function parseSampleValue(text: string): number {
  if (text === 'NaN') return Number.NaN;
  if (text === '+Inf' || text === 'Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(text);
}

export interface MetricCheckResult {
  kind: 'metric';
  name: string;
  query: string;
  /** What counts for the deployment; an inconclusive check counts as its no-data policy says. */
  verdict: Verdict;
  /** True when the data could not decide (no data, NaN, too few samples, a failed query). */
  inconclusive: boolean;
  value?: number;
  samples?: number;
  series: number;
  reason: string;
  thresholds: string;
  durationMs: number;
}

export interface MetricContext {
  client: PrometheusClient;
  window: string;
  defaultNoData: NoDataPolicy;
}

function thresholdsOf(spec: MetricCheckSpec): {
  warnAbove?: number;
  failAbove?: number;
  warnBelow?: number;
  failBelow?: number;
} {
  const given = [spec['warn-above'], spec['fail-above'], spec['warn-below'], spec['fail-below']].some(
    (v) => v !== undefined,
  );
  if (!given) return { ...POLICY_ERROR_RATE };
  return {
    ...(spec['warn-above'] === undefined ? {} : { warnAbove: spec['warn-above'] }),
    ...(spec['fail-above'] === undefined ? {} : { failAbove: spec['fail-above'] }),
    ...(spec['warn-below'] === undefined ? {} : { warnBelow: spec['warn-below'] }),
    ...(spec['fail-below'] === undefined ? {} : { failBelow: spec['fail-below'] }),
  };
}

export function describeThresholds(spec: MetricCheckSpec): string {
  const t = thresholdsOf(spec);
  const parts: string[] = [];
  if (t.failAbove !== undefined) parts.push(`fail > ${t.failAbove}`);
  if (t.warnAbove !== undefined) parts.push(`warn > ${t.warnAbove}`);
  if (t.failBelow !== undefined) parts.push(`fail < ${t.failBelow}`);
  if (t.warnBelow !== undefined) parts.push(`warn < ${t.warnBelow}`);
  return parts.join(', ');
}

/** Judges a value against the thresholds; the worst series decides. */
export function judge(spec: MetricCheckSpec, value: number): { verdict: Verdict; reason: string } {
  const t = thresholdsOf(spec);
  if (t.failAbove !== undefined && value > t.failAbove)
    return { verdict: 'fail', reason: `${format(value)} is above the failure threshold ${t.failAbove}` };
  if (t.failBelow !== undefined && value < t.failBelow)
    return { verdict: 'fail', reason: `${format(value)} is below the failure threshold ${t.failBelow}` };
  if (t.warnAbove !== undefined && value > t.warnAbove)
    return { verdict: 'warn', reason: `${format(value)} is above the warning threshold ${t.warnAbove}` };
  if (t.warnBelow !== undefined && value < t.warnBelow)
    return { verdict: 'warn', reason: `${format(value)} is below the warning threshold ${t.warnBelow}` };
  return { verdict: 'pass', reason: '' };
}

const RANK = { pass: 0, warn: 1, fail: 2 } as const;

function format(value: number): string {
  return String(Number(value.toPrecision(4)));
}

/**
 * Runs one metric check. Fails closed: an empty result, NaN, an infinity, too few samples or a
 * query error is inconclusive, and inconclusive counts as the no-data policy says (fail by default).
 */
export async function runMetricCheck(spec: MetricCheckSpec, context: MetricContext): Promise<MetricCheckResult> {
  const started = performance.now();
  const query = expandWindow(spec.query, context.window);
  const policy = spec['on-no-data'] ?? context.defaultNoData;
  const base = { kind: 'metric' as const, name: spec.name, query, thresholds: describeThresholds(spec) };
  const inconclusive = (reason: string, extra: Partial<MetricCheckResult> = {}): MetricCheckResult => ({
    ...base,
    series: 0,
    ...extra,
    verdict: policy,
    inconclusive: true,
    reason: redact(`inconclusive (counts as ${policy}): ${reason}`),
    durationMs: Math.round(performance.now() - started),
  });

  let samples: number | undefined;
  if (spec['samples-query'] !== undefined && spec['min-samples'] !== undefined) {
    let counted: Sample[];
    try {
      counted = await context.client.query(expandWindow(spec['samples-query'], context.window));
    } catch (error) {
      if (error instanceof PromQLRejectedError) throw error;
      return inconclusive(`samples query failed: ${(error as Error).message}`);
    }
    samples = counted.reduce((sum, sample) => sum + sample.value, 0);
    if (counted.length === 0 || !Number.isFinite(samples)) return inconclusive('the samples query returned no data');
    if (samples < spec['min-samples']) {
      return inconclusive(`only ${format(samples)} samples in the window, ${spec['min-samples']} needed`, { samples });
    }
  }

  let result: Sample[];
  try {
    result = await context.client.query(query);
  } catch (error) {
    if (error instanceof PromQLRejectedError) throw error;
    return inconclusive(`query failed: ${(error as Error).message}`, samples === undefined ? {} : { samples });
  }
  const withSamples = samples === undefined ? {} : { samples };
  if (result.length === 0) return inconclusive('the query returned no data (no series matched)', withSamples);
  const broken = result.find((sample) => !Number.isFinite(sample.value));
  if (broken !== undefined) {
    return inconclusive(`the query returned ${String(broken.value)} (for example 0/0 when there was no traffic)`, {
      ...withSamples,
      series: result.length,
    });
  }
  let worst = { verdict: 'pass' as Verdict, reason: '', value: result[0]!.value };
  for (const sample of result) {
    const judged = judge(spec, sample.value);
    // Label values are remote text: quoted so a line break cannot start a workflow command.
    const labels = Object.entries(sample.labels)
      .map(([k, v]) => `${escapeUntrusted(k, 100)}=${quoteUntrusted(v, 100)}`)
      .join(',');
    if (RANK[judged.verdict] > RANK[worst.verdict] || (worst.verdict === 'pass' && sample.value > worst.value)) {
      worst = {
        verdict: judged.verdict,
        reason: judged.reason && labels ? `${judged.reason} for {${labels}}` : judged.reason,
        value: sample.value,
      };
    }
  }
  return {
    ...base,
    ...withSamples,
    verdict: worst.verdict,
    inconclusive: false,
    value: worst.value,
    series: result.length,
    reason: worst.reason,
    durationMs: Math.round(performance.now() - started),
  };
}
