import { join } from 'node:path';
import {
  InputError,
  Inputs,
  isSensitiveHeader,
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
  inputs.duration('window', '5m', { minMs: 1000 }); // validated here; PromQL takes it as text
  if (!/^(\d+[smhdwy])+$/.test(windowText)) {
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
  if (prometheusUrl !== undefined) registerUrlSecret(prometheusUrl);
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
        : { prometheus: { url: prometheusUrl, headers, window: windowText, onNoData } }),
    },
    failOnWarn,
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
    registerSecret(decodeURIComponent(password));
    registerSecret(decodeURIComponent(userInfo[1]));
  }
}
