import { join } from 'node:path';
import {
  InputError,
  Inputs,
  isSensitiveHeader,
  parseDuration,
  readRunContext,
  registerHeaderSecret,
  registerSecret,
  registerUrlSecret,
} from '@deploy-suite/kit';
import {
  expandWindow,
  httpChecksSchema,
  metricChecksSchema,
  prepareHttpCheck,
  promqlSyntaxError,
  userInfoProblem,
  type HttpCheck,
  type HttpCheckSpec,
  type NoDataPolicy,
  type SmokeTestPlan,
} from '@deploy-suite/checks';

export const CHECKS_EXAMPLE = `checks: |\n  - name: health\n    url: https://staging.example.com/health\n    expect: { status: 200, json: { status: ok } }`;
export const METRICS_EXAMPLE = `metrics: |\n  - name: error rate\n    query: sum(rate(http_requests_total{code=~"5.."}[$window])) / sum(rate(http_requests_total[$window]))\n    fail-above: 0.05`;

export interface Settings {
  plan: SmokeTestPlan;
  failOnWarn: boolean;
  junitPath: string;
  /** Risky but allowed choices, for the entry point to show as warnings. */
  warnings: string[];
}

/** Reads and validates every input once; any problem is an InputError naming the input. */
export function readSettings(inputs: Inputs): Settings {
  const prometheusToken = inputs.secret('prometheus-token');
  const baseUrl = inputs.url('base-url');
  const timeoutMs = inputs.duration('timeout', '10s', { minMs: 1 });
  const readyTimeoutMs = inputs.duration('ready-timeout', '60s', { minMs: 0 });
  const retryIntervalMs = inputs.duration('retry-interval', '2s', { minMs: 1 });
  const concurrency = inputs.integer('concurrency', 10, { min: 1, max: 256 });
  const soakDurationMs = inputs.duration('soak-duration', '0s');
  const soakIntervalMs = inputs.duration('soak-interval', '10s', { minMs: 1 });
  const soakPassRatio = inputs.number('soak-pass-ratio', 1, { min: 0, max: 1 });
  const windowText = inputs.string('window', '5m');
  // PromQL takes the window as text, and a range may be longer than any wait (30d): no timer limit here.
  const windowMs = parseDuration(windowText.replace(/(\d+)w/g, (_, n: string) => `${Number(n) * 7}d`));
  if (!/^(\d+[smhdwy])+$/.test(windowText) || (windowMs !== undefined && windowMs < 1000)) {
    throw new InputError(
      'window',
      `must be a PromQL range with units such as 5m or 1h30m, got "${windowText}"`,
      'window: 5m',
    );
  }
  const onNoData: NoDataPolicy = inputs.oneOf('on-no-data', ['fail', 'warn', 'pass'] as const, 'fail');
  const failOnWarn = inputs.boolean('fail-on-warn', false);

  const rawChecks =
    inputs.structured('checks', httpChecksSchema, { fileInput: 'checks-file', example: CHECKS_EXAMPLE }) ?? [];
  const metrics =
    inputs.structured('metrics', metricChecksSchema, { fileInput: 'metrics-file', example: METRICS_EXAMPLE }) ?? [];
  if (rawChecks.length === 0 && metrics.length === 0) {
    throw new InputError('checks', 'is required: give checks (or checks-file), metrics, or both', CHECKS_EXAMPLE);
  }
  rawChecks.forEach(maskCheckSecrets);
  const httpChecks = rawChecks.map((spec, index) => {
    try {
      return prepareHttpCheck(spec, index, baseUrl, timeoutMs);
    } catch (error) {
      throw new InputError(
        inputs.optional('checks') === undefined ? 'checks-file' : 'checks',
        `is not valid: ${(error as Error).message}`,
        CHECKS_EXAMPLE,
      );
    }
  });

  const prometheusUrl = inputs.url('prometheus-url', { example: 'http://prometheus.monitoring:9090' });
  if (metrics.length > 0 && prometheusUrl === undefined) {
    throw new InputError(
      'prometheus-url',
      'is required when metrics are given',
      'prometheus-url: http://prometheus.monitoring:9090',
    );
  }
  if (prometheusUrl !== undefined) {
    registerUrlSecret(prometheusUrl);
    const problem = userInfoProblem(prometheusUrl);
    if (problem !== undefined) {
      throw new InputError('prometheus-url', problem, 'prometheus-url: https://reader:p%25ss@prometheus.example.com');
    }
  }
  for (const metric of metrics) {
    for (const [field, query] of [
      ['query', metric.query],
      ['samples-query', metric['samples-query']],
    ] as const) {
      if (query === undefined) continue;
      const problem = promqlSyntaxError(expandWindow(query, windowText));
      if (problem !== undefined) {
        throw new InputError(
          'metrics',
          `has a ${field} in "${metric.name}" that is not valid PromQL: ${problem}`,
          METRICS_EXAMPLE,
        );
      }
    }
  }

  const headers: Record<string, string> = {};
  if (prometheusToken !== undefined) {
    headers.authorization = `Bearer ${prometheusToken}`;
    registerHeaderSecret(headers.authorization);
    // Checked after masking, and never echoed: node:http would throw on it at the first query.
    if (/[^\x21-\x7e]/.test(prometheusToken)) {
      throw new InputError(
        'prometheus-token',
        'holds a character a token cannot have (a space, a control character or a non-ASCII letter)',
        'prometheus-token: ${{ secrets.PROMETHEUS_TOKEN }}',
      );
    }
  }
  const warnings = httpChecks.flatMap(riskWarnings);
  if (prometheusUrl !== undefined && prometheusUrl.protocol === 'http:' && prometheusToken !== undefined) {
    warnings.push(
      `prometheus-token is sent to ${prometheusUrl.origin} over plain http, where anyone on the path can read it; use https`,
    );
  }
  if (prometheusUrl !== undefined && prometheusUrl.protocol === 'http:' && prometheusUrl.password !== '') {
    warnings.push(`prometheus-url carries a password over plain http, where anyone on the path can read it; use https`);
  }
  const context = readRunContext();
  return {
    plan: {
      httpChecks,
      metricChecks: metrics,
      concurrency,
      readyTimeoutMs,
      retryIntervalMs,
      ...(soakDurationMs > 0
        ? { soak: { durationMs: soakDurationMs, intervalMs: soakIntervalMs, passRatio: soakPassRatio } }
        : {}),
      ...(prometheusUrl === undefined
        ? {}
        : { prometheus: { url: prometheusUrl, headers, window: windowText, onNoData, timeoutMs } }),
    },
    failOnWarn,
    warnings,
    junitPath:
      inputs.optional('junit-path') ??
      join(context.runnerTemp, `smoke-test-${context.runId || process.pid}-${Date.now()}.xml`),
  };
}

/** Credentials in headers and URLs are masked, with their derived forms, before any request. */
function maskCheckSecrets(spec: HttpCheckSpec): void {
  for (const [name, value] of Object.entries(spec.headers)) {
    if (isSensitiveHeader(name)) registerHeaderSecret(value);
  }
  const userInfo = /^[a-z][a-z0-9+.-]*:\/\/([^/@]*)@/i.exec(spec.url);
  if (userInfo?.[1]?.includes(':')) {
    const password = userInfo[1].slice(userInfo[1].indexOf(':') + 1);
    registerSecret(password);
    // A stray % cannot be decoded; prepareHttpCheck then reports the URL as bad input.
    for (const text of [password, userInfo[1]]) {
      try {
        registerSecret(decodeURIComponent(text));
      } catch {
        // only the written form is masked, above
      }
    }
  }
}

/** Choices that weaken a check's protection: allowed, but never silently. */
function riskWarnings(check: HttpCheck): string[] {
  const warnings: string[] = [];
  if (check.insecure) {
    warnings.push(
      `check "${check.name}" sets insecure: true, so TLS certificates of ${check.url.origin} are not verified; give the CA with ca-file instead`,
    );
  }
  if (check.url.protocol === 'http:') {
    const credentials = Object.keys(check.headers).filter(isSensitiveHeader);
    if (check.url.password !== '') credentials.push('the password in its url');
    if (credentials.length > 0) {
      warnings.push(
        `check "${check.name}" sends ${credentials.join(', ')} to ${check.url.origin} over plain http, where anyone on the path can read it; use https`,
      );
    }
  }
  return warnings;
}
