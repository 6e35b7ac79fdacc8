import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { registerSecret, resetSecretsForTests } from '@deploy-suite/kit';
import { TestServer } from '../../../test/helpers/http-server.ts';
import { fakePrometheus } from '../../../test/helpers/prometheus.ts';
import {
  compileBodyPattern,
  PrometheusClient,
  PromQLRejectedError,
  renderJUnit,
  type SmokeTestReport,
} from '../src/index.ts';
import { fakeClock } from '../../../test/helpers/fake-clock.ts';

beforeEach(() => {
  resetSecretsForTests();
  jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
});

describe('JUnit report', () => {
  const reportWith = (reason: string): SmokeTestReport => ({
    verdict: 'fail',
    passed: false,
    durationMs: 10,
    counts: { total: 1, passed: 0, warned: 0, failed: 1 },
    http: [
      {
        kind: 'http',
        name: 'health',
        method: 'GET',
        url: 'http://127.0.0.1/',
        verdict: 'fail',
        attempts: 1,
        durationMs: 10,
        reason,
      },
    ],
    metrics: [],
  });

  it('redacts before escaping, so a secret holding & or < stays hidden', () => {
    registerSecret('s3cr&t<tok>');
    const xml = renderJUnit(reportWith('body does not contain "s3cr&t<tok>"'));
    expect(xml).toContain('body does not contain &quot;***&quot;');
    expect(xml).not.toContain('s3cr');
  });
});

describe('Prometheus waits', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await fakePrometheus({ status: 503, headers: { 'retry-after': '120' }, body: 'overloaded' });
  });
  afterAll(() => server.close());

  it('gives up at once when Retry-After would cross the query timeout, without sleeping', async () => {
    const clock = fakeClock();
    const client = new PrometheusClient({ url: server.url, timeoutMs: 10_000, clock });
    await expect(client.query('up')).rejects.toThrow(
      /answered 503; it asked to wait 2 min 0 s before retrying, beyond the query's timeout of 10\.0 s$/,
    );
    expect(clock.sleeps).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });
});

describe('Prometheus rejections', () => {
  it('is a remote error naming the remote and the next step, escaping its reason', async () => {
    const server = await fakePrometheus({
      status: 400,
      body: { status: 'error', errorType: 'bad_data', error: 'parse error\n::error::forged' },
    });
    try {
      const error = await new PrometheusClient({ url: server.url }).query('rate(up)').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PromQLRejectedError);
      expect((error as Error).message).toBe(
        `Prometheus at ${server.url.origin} rejected the query "rate(up)" (bad_data): "parse error\\n::error::forged". Fix the query in metrics (try it in Prometheus's expression browser first)`,
      );
    } finally {
      await server.close();
    }
  });
});

describe('body-matches', () => {
  it('matches in linear time: a pattern that backtracks forever in JavaScript ends at once', () => {
    const pattern = compileBodyPattern('^(a+)+$');
    const started = performance.now();
    expect(pattern.matcher(`${'a'.repeat(100_000)}!`).find()).toBe(false);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(compileBodyPattern('build \\d+').matcher('Service build 1234').find()).toBe(true);
  });
});
