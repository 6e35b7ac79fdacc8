import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TestServer } from '../../../test/helpers/http-server.ts';
import { freePort } from '../../../test/helpers/ports.ts';
import { MetricsApp, PrometheusServer } from '../../../test/helpers/prometheus.ts';
import { failureOf, leakedSecrets, runBuiltAction, type ActionRun } from '../../../test/helpers/run-action.ts';

interface MetricResult {
  name: string;
  verdict: string;
  inconclusive: boolean;
  value?: number;
  samples?: number;
  reason: string;
}
const metricsOf = (run: ActionRun): MetricResult[] =>
  (JSON.parse(run.outputs.report ?? '{}') as { metrics: MetricResult[] }).metrics;

const errorRate = (service: string) =>
  `sum(rate(app_requests_total{service="${service}",code=~"5.."}[$window])) / sum(rate(app_requests_total{service="${service}"}[$window]))`;
const requests = (service: string) => `sum(increase(app_requests_total{service="${service}"}[$window]))`;

let app: MetricsApp;
let prometheus: PrometheusServer;

beforeAll(async () => {
  app = await MetricsApp.start();
  app
    .set('healthy', { perScrape: 1000, errorRatio: 0.002 })
    .set('degraded', { perScrape: 200, errorRatio: 0.03 })
    .set('failing', { perScrape: 200, errorRatio: 0.1 })
    .set('idle', { perScrape: 0, errorRatio: 0 })
    .set('quiet', { perScrape: 2, errorRatio: 0 });
  prometheus = await PrometheusServer.start([app.server.url]);
  // rate() needs a few scrapes inside the window before it has a value.
  await prometheus.waitFor(`sum(rate(app_requests_total{service="healthy"}[10s]))`, (value) => value > 0);
  await prometheus.waitFor(
    `count_over_time(app_requests_total{service="healthy",code="200"}[10s])`,
    (value) => value >= 4,
  );
}, 60_000);

afterAll(async () => {
  await prometheus?.stop();
  await app?.server.close();
});

const metricCheck = (inputs: Record<string, string>) =>
  runBuiltAction('smoke-test', { 'prometheus-url': prometheus.url.href, window: '10s', ...inputs });

describe('metric checks against a real Prometheus', () => {
  it('applies the operations policy by default: under 1% passes, above 1% warns, above 5% fails', async () => {
    const run = await metricCheck({
      metrics: ['healthy', 'degraded', 'failing']
        .map((s) => `- name: ${s}\n  query: ${JSON.stringify(errorRate(s))}`)
        .join('\n'),
    });
    const [healthy, degraded, failing] = metricsOf(run);
    expect(healthy).toMatchObject({ verdict: 'pass', inconclusive: false });
    expect(healthy!.value).toBeCloseTo(0.002, 3);
    expect(degraded).toMatchObject({ verdict: 'warn', inconclusive: false });
    expect(degraded!.value).toBeCloseTo(0.03, 3);
    expect(degraded!.reason).toContain('above the warning threshold 0.01');
    expect(failing).toMatchObject({ verdict: 'fail', inconclusive: false });
    expect(failing!.reason).toContain('above the failure threshold 0.05');
    expect(run.exitCode).toBe(1);
    expect(run.annotations.map((a) => `${a.level}:${a.properties.title ?? ''}`)).toEqual(
      expect.arrayContaining(['warning:Metric check warning: degraded', 'error:Metric check failed: failing']),
    );
    expect(run.summary).toMatch(/\| ⚠️ \| degraded \| 0\.03\d* \| fail > 0\.05, warn > 0\.01 \|/);
  });

  it('passes a warning unless fail-on-warn is set', async () => {
    const metrics = `- name: degraded\n  query: ${JSON.stringify(errorRate('degraded'))}`;
    const lenient = await metricCheck({ metrics });
    expect(lenient.exitCode).toBe(0);
    expect(lenient.outputs).toMatchObject({ passed: 'true', verdict: 'warn' });
    const strict = await metricCheck({ metrics, 'fail-on-warn': 'true' });
    expect(strict.exitCode).toBe(1);
    expect(strict.outputs.passed).toBe('false');
  });

  it('takes explicit thresholds, such as a latency budget', async () => {
    const run = await metricCheck({
      metrics: `- name: requests per second\n  query: sum(rate(app_requests_total{service="healthy"}[$window]))\n  fail-below: 1000\n- name: floor met\n  query: sum(rate(app_requests_total{service="healthy"}[$window]))\n  fail-below: 10\n  fail-above: 100000`,
    });
    const [low, ok] = metricsOf(run);
    expect(low).toMatchObject({ verdict: 'fail' });
    expect(low!.reason).toContain('below the failure threshold 1000');
    expect(ok).toMatchObject({ verdict: 'pass' });
  });

  it('treats NaN (no traffic: 0/0) as inconclusive, which fails by default', async () => {
    const run = await metricCheck({ metrics: `- name: idle\n  query: ${JSON.stringify(errorRate('idle'))}` });
    expect(run.exitCode).toBe(1);
    expect(metricsOf(run)[0]).toMatchObject({ verdict: 'fail', inconclusive: true });
    expect(metricsOf(run)[0]!.reason).toContain('the query returned NaN');
  });

  it('treats an empty result as inconclusive, and follows an explicit no-data policy', async () => {
    const query = 'sum(rate(does_not_exist_total[$window]))';
    const strict = await metricCheck({ metrics: `- name: nothing\n  query: ${query}` });
    expect(strict.exitCode).toBe(1);
    expect(metricsOf(strict)[0]!.reason).toContain('no data (no series matched)');
    const lenient = await metricCheck({ metrics: `- name: nothing\n  query: ${query}`, 'on-no-data': 'pass' });
    expect(lenient.exitCode).toBe(0);
    expect(metricsOf(lenient)[0]).toMatchObject({ verdict: 'pass', inconclusive: true });
    const perCheck = await metricCheck({ metrics: `- name: nothing\n  query: ${query}\n  on-no-data: warn` });
    expect(perCheck.exitCode).toBe(0);
    expect(metricsOf(perCheck)[0]).toMatchObject({ verdict: 'warn', inconclusive: true });
  });

  it('is inconclusive below the minimum sample count, however good the value', async () => {
    const run = await metricCheck({
      metrics: `- name: quiet\n  query: ${JSON.stringify(errorRate('quiet'))}\n  min-samples: 500\n  samples-query: ${JSON.stringify(requests('quiet'))}\n- name: busy\n  query: ${JSON.stringify(errorRate('healthy'))}\n  min-samples: 500\n  samples-query: ${JSON.stringify(requests('healthy'))}`,
    });
    const [quiet, busy] = metricsOf(run);
    expect(quiet).toMatchObject({ verdict: 'fail', inconclusive: true });
    expect(quiet!.reason).toMatch(/only \d+(\.\d+)? samples in the window, 500 needed/);
    expect(busy).toMatchObject({ verdict: 'pass' });
    expect(busy!.samples).toBeGreaterThanOrEqual(500);
  });

  it('is inconclusive when Prometheus cannot be reached', async () => {
    const port = await freePort();
    const run = await runBuiltAction('smoke-test', {
      'prometheus-url': `http://127.0.0.1:${port}`,
      metrics: '- name: errors\n  query: up',
    });
    expect(run.exitCode).toBe(1);
    expect(metricsOf(run)[0]!.reason).toMatch(
      /inconclusive \(counts as fail\): query failed: Prometheus at http:\/\/127\.0\.0\.1:\d+ unreachable/,
    );
  });

  it('retries Prometheus overload (503 with Retry-After) and sends the token without printing it', async () => {
    const proxy = await TestServer.start();
    proxy.route('POST', '/api/v1/query', [
      { status: 503, headers: { 'retry-after': '1' }, body: 'overloaded' },
      { body: { status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [0, '0.001'] }] } } },
    ]);
    try {
      const run = await runBuiltAction('smoke-test', {
        'prometheus-url': proxy.url.href,
        'prometheus-token': 'prom-token-5up3r',
        metrics: '- name: errors\n  query: up',
      });
      expect(run.exitCode).toBe(0);
      expect(proxy.requests).toHaveLength(2);
      expect(proxy.requests[1]!.at - proxy.requests[0]!.at).toBeGreaterThanOrEqual(900);
      expect(proxy.requests[0]!.headers.authorization).toBe('Bearer prom-token-5up3r');
      expect(leakedSecrets(run, ['prom-token-5up3r', Buffer.from('prom-token-5up3r').toString('base64')])).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it('reports a query Prometheus rejects as a remote error with the next step, not as a bug', async () => {
    const run = await metricCheck({ metrics: '- name: bad\n  query: rate(up)' });
    expect(run.exitCode).toBe(1);
    expect(failureOf(run)).toMatch(
      /^Prometheus at http:\/\/127\.0\.0\.1:\d+ rejected the query "rate\(up\)" \(bad_data\): ".*range vector.*"\. Fix the query in metrics/,
    );
    expect(run.log).not.toContain('a bug in this action');
    expect(run.log).not.toMatch(/^\s+at /m);
  });

  it('gives every check one verdict of pass, warn or fail', async () => {
    const run = await metricCheck({
      checks: `- url: ${app.server.url.href}metrics`,
      metrics: `- name: degraded\n  query: ${JSON.stringify(errorRate('degraded'))}\n- name: idle\n  query: ${JSON.stringify(errorRate('idle'))}\n  on-no-data: warn`,
    });
    const parsed = JSON.parse(run.outputs.report!) as { http: object[]; metrics: object[] };
    expect([...parsed.http, ...parsed.metrics].map((r) => (r as { verdict: string }).verdict)).toEqual([
      'pass',
      'warn',
      'warn',
    ]);
    expect(parsed.metrics[1]).toMatchObject({ inconclusive: true });
    expect(parsed.metrics[1]).not.toHaveProperty('outcome');
  });

  it('runs HTTP and metric checks together in one verdict', async () => {
    const run = await metricCheck({
      checks: `- url: ${app.server.url.href}metrics\n  expect: { body-contains: app_requests_total }`,
      metrics: `- name: healthy\n  query: ${JSON.stringify(errorRate('healthy'))}`,
    });
    expect(run.exitCode).toBe(0);
    expect(JSON.parse(run.outputs.report!)).toMatchObject({ verdict: 'pass', counts: { total: 2, passed: 2 } });
  });
});
