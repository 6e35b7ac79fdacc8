import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TestServer } from '../../../test/helpers/http-server.ts';
import { freePort } from '../../../test/helpers/ports.ts';
import { Inputs } from '@deploy-suite/kit';
import { expectInputError, expectSettingsInputError } from '../../../test/helpers/expect-input-error.ts';
import { readSettings } from '../src/settings.ts';
import { leakedSecrets, runBuiltAction, type ActionRun } from '../../../test/helpers/run-action.ts';
import { selfSignedCertificate } from '../../../test/helpers/tls.ts';

interface Report {
  verdict: string;
  passed: boolean;
  counts: { total: number; passed: number; warned: number; failed: number };
  http: {
    name: string;
    verdict: string;
    attempts: number;
    status?: number;
    latencyMs?: number;
    reason: string;
    soak?: { rounds: number; passed: number };
  }[];
}

const report = (run: ActionRun): Report => JSON.parse(run.outputs.report ?? 'null') as Report;
const smoke = (inputs: Record<string, string>) => runBuiltAction('smoke-test', { 'ready-timeout': '0s', ...inputs });
const temp = () => mkdtempSync(join(tmpdir(), 'smoke-'));

let app: TestServer;
beforeAll(async () => {
  app = await TestServer.start();
  app
    .route('GET', '/health', {
      body: { status: 'ok', checks: [{ name: 'db', up: true }] },
      headers: { 'x-version': 'v1.4.2' },
    })
    .route('GET', '/text', { body: 'Service is healthy; build 1234' })
    .route('GET', '/slow', { delayMs: 1500, body: 'late' })
    .route('GET', '/delay-300', { delayMs: 300, body: 'ok' })
    .route('GET', '/broken', { status: 500, body: 'database unavailable' })
    .route('GET', '/reset', { reset: true })
    .route('GET', '/redirect', { status: 302, headers: { location: '/text' } })
    .route('POST', '/echo', (request) => ({
      status: request.headers['content-type'] === 'application/json' ? 201 : 415,
      body: request.body,
    }))
    .route('GET', '/secure', (request) => ({
      status: request.headers.authorization === 'Bearer tok-SECRET-abc123' ? 200 : 401,
    }))
    .route('GET', '/basic', (request) => ({ status: request.headers.authorization?.startsWith('Basic ') ? 200 : 401 }));
});
afterAll(() => app.close());

describe('smoke-test as the runner runs it', () => {
  it('passes when every expectation holds, with outputs, JUnit and a summary', async () => {
    const junitPath = join(temp(), 'junit.xml');
    const run = await smoke({
      'base-url': app.url.href,
      'junit-path': junitPath,
      checks: `
- name: health
  url: /health
  expect:
    status: [200, 204]
    json: { status: ok, "checks[0].up": true }
    headers: { x-version: v1.4 }
    max-latency: 5s
- url: /text
  expect: { status: 2xx, body-contains: [healthy, build], body-matches: 'build \\d+' }
- name: follows redirects
  url: /redirect
  follow-redirects: true
  expect: { status: 200, body-contains: healthy }
- name: post json
  url: /echo
  method: post
  body: { hello: world }
  expect: { status: 201, json: { hello: world } }
`,
    });
    expect(run.exitCode).toBe(0);
    expect(run.outputs.passed).toBe('true');
    expect(run.outputs.verdict).toBe('pass');
    expect(run.outputs.failed).toBe('0');
    const result = report(run);
    expect(result.counts).toEqual({ total: 4, passed: 4, warned: 0, failed: 0 });
    expect(result.http.map((check) => check.name)).toEqual(['health', 'GET /text', 'follows redirects', 'post json']);
    expect(result.http.every((check) => check.attempts === 1 && typeof check.latencyMs === 'number')).toBe(true);
    expect(run.outputs['junit-path']).toBe(junitPath);
    const junit = readFileSync(junitPath, 'utf8');
    expect(junit).toContain('<testsuite name="smoke-test" tests="4" failures="0"');
    expect(junit).not.toContain('<failure');
    expect(run.summary).toContain('Smoke test: pass');
    expect(run.summary).toMatch(/\| ✅ \| health \| GET http:\/\/127\.0\.0\.1:\d+\/health \| 200 \|/);
    expect(run.annotations).toEqual([]);
  });

  it('fails with one annotation and a reason for each failed check', async () => {
    const junitPath = join(temp(), 'junit.xml');
    const run = await smoke({
      'base-url': app.url.href,
      'junit-path': junitPath,
      timeout: '500ms',
      checks: `
- { name: wrong status, url: /broken }
- { name: wrong body, url: /text, expect: { body-contains: unicorn } }
- { name: wrong json, url: /health, expect: { json: { status: degraded, missing.path: 1 } } }
- { name: wrong header, url: /health, expect: { headers: { x-version: v2 } } }
- { name: too slow, url: /slow }
- { name: latency budget, url: /delay-300, expect: { max-latency: 100ms } }
- { name: reset, url: /reset }
- { name: passes, url: /text }
`,
    });
    expect(run.exitCode).toBe(1);
    expect(run.outputs.passed).toBe('false');
    expect(run.outputs.failed).toBe('7');
    const reasons = Object.fromEntries(report(run).http.map((check) => [check.name, check.reason]));
    expect(reasons['wrong status']).toContain('status 500, expected 200-299');
    expect(reasons['wrong body']).toContain('body does not contain "unicorn"');
    expect(reasons['wrong json']).toContain('JSON at status is "ok", expected "degraded"');
    expect(reasons['wrong json']).toContain('JSON has nothing at missing.path');
    expect(reasons['wrong header']).toContain('header x-version is "v1.4.2", expected it to contain "v2"');
    expect(reasons['too slow']).toContain('unreachable: no complete response within 500 ms');
    expect(reasons['latency budget']).toMatch(/latency \d+ ms exceeds 100 ms/);
    expect(reasons.reset).toContain('connection reset');
    expect(reasons.passes).toBe('');
    const errors = run.annotations.filter((a) => a.level === 'error' && a.properties.title);
    expect(errors.map((a) => a.properties.title)).toEqual([
      'Smoke check failed: wrong status',
      'Smoke check failed: wrong body',
      'Smoke check failed: wrong json',
      'Smoke check failed: wrong header',
      'Smoke check failed: too slow',
      'Smoke check failed: latency budget',
      'Smoke check failed: reset',
    ]);
    expect(run.log).toContain('Smoke test failed: 7 of 8 checks failed');
    expect((readFileSync(junitPath, 'utf8').match(/<failure /g) ?? []).length).toBe(7);
    expect(run.summary).toContain('Smoke test: fail');
  });

  it('says when nothing is listening', async () => {
    const port = await freePort();
    const run = await smoke({ checks: `- url: http://127.0.0.1:${port}/health` });
    expect(run.exitCode).toBe(1);
    expect(report(run).http[0]?.reason).toContain('unreachable: connection refused');
  });
});

describe('readiness', () => {
  it('retries a warming-up service until it answers correctly', async () => {
    const warming = await TestServer.start();
    warming.route('GET', '/ready', [{ status: 503 }, { reset: true }, { status: 503 }, { status: 200, body: 'ready' }]);
    try {
      const run = await smoke({
        checks: `- url: ${warming.url.href}ready`,
        'ready-timeout': '20s',
        'retry-interval': '100ms',
      });
      expect(run.exitCode).toBe(0);
      expect(report(run).http[0]).toMatchObject({ verdict: 'pass', attempts: 4, status: 200 });
      expect(warming.hits('/ready')).toBe(4);
      expect(run.log).toMatch(/attempt 1 failed \(status 503/);
    } finally {
      await warming.close();
    }
  });

  it('gives up at the deadline and says how many attempts it made', async () => {
    const run = await smoke({
      checks: `- url: ${app.url.href}broken`,
      'ready-timeout': '1s',
      'retry-interval': '100ms',
    });
    expect(run.exitCode).toBe(1);
    const check = report(run).http[0]!;
    expect(check.attempts).toBeGreaterThanOrEqual(3);
    expect(check.reason).toMatch(new RegExp(`^up but failing after ${check.attempts} attempts: status 500`));
  });
});

describe('concurrency', () => {
  it('runs checks at once up to the limit, never more', async () => {
    const server = await TestServer.start();
    let inFlight = 0;
    let peak = 0;
    server.otherwise(() => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      setTimeout(() => inFlight--, 150);
      return { delayMs: 150, body: 'ok' };
    });
    try {
      const checks = Array.from({ length: 12 }, (_, i) => `- url: ${server.url.href}c${i}`).join('\n');
      const run = await smoke({ checks, concurrency: '4' });
      expect(run.exitCode).toBe(0);
      expect(server.requests).toHaveLength(12);
      expect(peak).toBe(4);
    } finally {
      await server.close();
    }
  });
});

describe('soak', () => {
  it('repeats the checks and fails a check below the pass ratio', async () => {
    const server = await TestServer.start();
    // Passes the readiness attempt, then fails every third request.
    server.route('GET', '/flaky', (_request, count) => ({ status: count > 1 && count % 3 === 0 ? 500 : 200 }));
    server.route('GET', '/steady', { status: 200 });
    try {
      const run = await smoke({
        checks: `- { name: flaky, url: ${server.url.href}flaky }\n- { name: steady, url: ${server.url.href}steady }`,
        'soak-duration': '1s',
        'soak-interval': '100ms',
      });
      expect(run.exitCode).toBe(1);
      const [flaky, steady] = report(run).http;
      expect(flaky!.soak!.rounds).toBeGreaterThanOrEqual(5);
      expect(flaky!.soak!.passed).toBeLessThan(flaky!.soak!.rounds);
      expect(flaky!.reason).toMatch(/^soak: passed \d+ of \d+ rounds .* 100\.0% required; last failure: status 500/);
      expect(steady).toMatchObject({ verdict: 'pass' });
      expect(steady!.soak!.passed).toBe(steady!.soak!.rounds);
    } finally {
      await server.close();
    }
  });

  it('accepts occasional failures under a lower pass ratio', async () => {
    const server = await TestServer.start();
    server.route('GET', '/flaky', (_request, count) => ({ status: count > 1 && count % 3 === 0 ? 500 : 200 }));
    try {
      const run = await smoke({
        checks: `- url: ${server.url.href}flaky`,
        'soak-duration': '1s',
        'soak-interval': '100ms',
        'soak-pass-ratio': '0.5',
      });
      expect(run.exitCode).toBe(0);
      expect(report(run).http[0]!.soak!.rounds).toBeGreaterThanOrEqual(5);
    } finally {
      await server.close();
    }
  });
});

describe('TLS', () => {
  const tls = selfSignedCertificate();
  let secure: TestServer;
  beforeAll(async () => {
    secure = await TestServer.start({ tls });
    secure.route('GET', '/health', { body: 'ok' });
  });
  afterAll(() => secure.close());

  it('refuses a self-signed certificate by default, saying how to trust it', async () => {
    const run = await smoke({ checks: `- url: ${secure.url.href}health` });
    expect(run.exitCode).toBe(1);
    expect(report(run).http[0]!.reason).toContain('TLS certificate not trusted');
    expect(report(run).http[0]!.reason).toContain('ca-file');
  });

  it('trusts the certificate given as ca-file', async () => {
    const run = await smoke({
      checks: `- url: ${secure.url.href}health\n  ca-file: ${tls.certPath}\n  expect: { body-contains: ok }`,
    });
    expect(run.exitCode).toBe(0);
  });

  it('skips verification only when a check says insecure', async () => {
    const run = await smoke({ checks: `- url: ${secure.url.href}health\n  insecure: true` });
    expect(run.exitCode).toBe(0);
  });
});

describe('secrets', () => {
  it('sends credentials but never shows them, derived forms included', async () => {
    const dir = temp();
    const junitPath = join(dir, 'junit.xml');
    const basic = Buffer.from('deployer:pa ss@w0rd').toString('base64');
    const checksPath = join(dir, 'checks.yml');
    writeFileSync(
      checksPath,
      `
- name: bearer
  url: ${app.url.href}secure
  headers: { Authorization: Bearer tok-SECRET-abc123 }
- name: basic
  url: ${app.url.href}basic
  headers: { Authorization: "Basic ${basic}", X-Api-Key: key-SECRET-987 }
- name: bearer fails
  url: ${app.url.href}broken?token=tok-SECRET-abc123
  headers: { Authorization: Bearer tok-SECRET-abc123 }
`,
    );
    const run = await smoke({ 'checks-file': checksPath, 'junit-path': junitPath });
    expect(run.exitCode).toBe(1);
    const byName = Object.fromEntries(report(run).http.map((check) => [check.name, check]));
    expect(byName.bearer!.verdict).toBe('pass');
    expect(byName.basic!.verdict).toBe('pass');
    const secrets = [
      'tok-SECRET-abc123',
      basic,
      'pa ss@w0rd',
      'key-SECRET-987',
      Buffer.from('Bearer tok-SECRET-abc123').toString('base64'),
    ];
    expect(leakedSecrets(run, secrets, [junitPath])).toEqual([]);
    expect(run.masks).toEqual(expect.arrayContaining(['tok-SECRET-abc123', basic, 'pa ss@w0rd', 'key-SECRET-987']));
    expect(run.outputs.report).toContain('token=***');
  });
});

describe('bad input', () => {
  const secret = 'Bearer never-print-this-9f8e7d';
  const cases: [string, Record<string, string>, string, RegExp][] = [
    ['no checks', {}, 'checks', /is required: give checks \(or checks-file\), metrics, or both/],
    ['invalid YAML', { checks: '- url: [http://a' }, 'checks', /is not valid YAML/],
    [
      'an unknown expectation key',
      { checks: `- url: http://127.0.0.1/\n  expect: { status-code: 200 }` },
      'checks',
      /Unrecognized key: "status-code"/,
    ],
    [
      'status "2xx0"',
      { checks: `- url: http://127.0.0.1/\n  expect: { status: "2xx0" }` },
      'checks',
      /status must be a code \(200\), a range \("200-299"\) or a class \("2xx"\)/,
    ],
    [
      'timeout "-5s"',
      { checks: '- url: http://127.0.0.1/', timeout: '-5s' },
      'timeout',
      /must be a duration such as 90s, 5m or 2h, got "-5s"/,
    ],
    [
      'a check timeout "-5s"',
      { checks: '- url: http://127.0.0.1/\n  timeout: -5s' },
      'checks',
      /timeout must be a positive duration/,
    ],
    ['a URL without scheme', { checks: '- url: staging.example.com/health' }, 'checks', /has no scheme/],
    [
      'a header value with a newline',
      { checks: '- url: http://127.0.0.1/\n  headers: { X-Trace: "a\\nb" }' },
      'checks',
      /must not contain a line break/,
    ],
    [
      'a Prometheus query that does not parse',
      {
        metrics: '- name: errors\n  query: sum(rate(http_requests_total[5m]) /',
        'prometheus-url': 'http://127.0.0.1:9090',
      },
      'metrics',
      /has a query in "errors" that is not valid PromQL: syntax error/,
    ],
    [
      'metrics without prometheus-url',
      { metrics: '- name: errors\n  query: up' },
      'prometheus-url',
      /is required when metrics are given/,
    ],
    [
      'a strict boolean',
      { checks: '- url: http://127.0.0.1/', 'fail-on-warn': 'ture' },
      'fail-on-warn',
      /must be true or false/,
    ],
    [
      'an unknown no-data policy',
      { checks: '- url: http://127.0.0.1/', 'on-no-data': 'ignore' },
      'on-no-data',
      /must be one of fail, warn, pass/,
    ],
  ];

  const valuesOf = (inputs: Record<string, string>): Record<string, string> => ({
    'ready-timeout': '0s',
    ...inputs,
    'prometheus-token': secret.slice(7),
  });

  // In process, in milliseconds: the settings read as the entry point reads them.
  it.each(cases)('%s: names the input, shows an example, prints no secret', (_label, inputs, input, pattern) => {
    const values = valuesOf(inputs);
    expectSettingsInputError(() => readSettings(new Inputs((name) => values[name])), input, pattern, [secret.slice(7)]);
  });

  // A few the runner's way: the same errors reach the step as one annotation, with nothing leaked.
  it.each(
    cases.filter(([label]) => ['no checks', 'invalid YAML', 'a Prometheus query that does not parse'].includes(label)),
  )('%s, run as the runner runs it', async (_label, inputs, input, pattern) => {
    expectInputError(await smoke(valuesOf(inputs)), input, pattern, [secret.slice(7)]);
  });
});
