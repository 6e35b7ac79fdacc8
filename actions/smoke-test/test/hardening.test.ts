import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TestServer } from '../../../test/helpers/http-server.ts';
import { expectInputError } from '../../../test/helpers/expect-input-error.ts';
import { fakePrometheus, vectorAnswer } from '../../../test/helpers/prometheus.ts';
import { failureOf, leakedSecrets, runBuiltAction, type ActionRun } from '../../../test/helpers/run-action.ts';
import { selfSignedCertificate } from '../../../test/helpers/tls.ts';

interface CheckResult {
  name: string;
  verdict: string;
  inconclusive?: boolean;
  reason: string;
  status?: number;
  finalUrl?: string;
}
interface Report {
  verdict: string;
  http: CheckResult[];
  metrics: CheckResult[];
}
const report = (run: ActionRun): Report => JSON.parse(run.outputs.report ?? 'null') as Report;
const smoke = (inputs: Record<string, string>, timeoutMs = 30_000) =>
  runBuiltAction('smoke-test', { 'ready-timeout': '0s', ...inputs }, { timeoutMs });

describe('redirects', () => {
  const tls = selfSignedCertificate();
  let first: TestServer;
  let other: TestServer;
  let secure: TestServer;
  let secureOther: TestServer;
  beforeAll(async () => {
    [first, other, secure, secureOther] = await Promise.all([
      TestServer.start(),
      TestServer.start(),
      TestServer.start({ tls }),
      TestServer.start({ tls }),
    ]);
    other.route('GET', '/landing', { body: 'landed' });
    other.route('GET', '/slow', { delayMs: 400, body: 'late' });
    first.route('GET', '/away', { status: 302, headers: { location: `${other.url.href}landing` } });
    first.route('GET', '/here', { status: 302, headers: { location: '/secure' } });
    first.route('GET', '/secure', (request) => ({ status: request.headers.authorization ? 200 : 401 }));
    first.route('GET', '/slow-hop', { delayMs: 400, status: 302, headers: { location: `${other.url.href}slow` } });
    secure.route('GET', '/down', { status: 301, headers: { location: `${other.url.href}landing` } });
    secure.route('GET', '/across', { status: 302, headers: { location: `${secureOther.url.href}landing` } });
    secureOther.route('GET', '/landing', { body: 'landed' });
  });
  afterAll(() => Promise.all([first, other, secure, secureOther].map((server) => server.close())));

  it('drops credential headers on a cross-origin redirect and reports where the answer came from', async () => {
    const run = await smoke({
      checks: `
- name: away
  url: ${first.url.href}away
  follow-redirects: true
  headers: { Authorization: Bearer redirect-SECRET-1, X-Api-Key: key-SECRET-2, Cookie: session=cookie-SECRET-3, X-Trace: t-1 }
  expect: { body-contains: landed }
`,
    });
    expect(failureOf(run)).toBe('');
    const landing = other.requests.find((request) => request.path === '/landing')!;
    expect(landing.headers.authorization).toBeUndefined();
    expect(landing.headers['x-api-key']).toBeUndefined();
    expect(landing.headers.cookie).toBeUndefined();
    expect(landing.headers['x-trace']).toBe('t-1');
    expect(first.requests.at(-1)!.headers.authorization).toBe('Bearer redirect-SECRET-1');
    expect(report(run).http[0]!.finalUrl).toBe(`${other.url.href}landing`);
    expect(run.summary).toContain(`→ ${other.url.href}landing`);
    expect(leakedSecrets(run, ['redirect-SECRET-1', 'key-SECRET-2', 'cookie-SECRET-3'])).toEqual([]);
  });

  it('keeps credentials on a same-origin redirect', async () => {
    const run = await smoke({
      checks: `- { url: ${first.url.href}here, follow-redirects: true, headers: { Authorization: Bearer same-SECRET-4 } }`,
    });
    expect(failureOf(run)).toBe('');
    expect(report(run).http[0]).toMatchObject({ verdict: 'pass', status: 200, finalUrl: `${first.url.href}secure` });
  });

  it('refuses to follow https down to plain http, sending nothing there', async () => {
    const before = other.hits('/landing');
    const run = await smoke({
      checks: `- { name: down, url: ${secure.url.href}down, follow-redirects: true, ca-file: ${tls.certPath} }`,
    });
    expect(run.exitCode).toBe(1);
    expect(report(run).http[0]!.reason).toContain('refused a redirect from https down to plain http');
    expect(other.hits('/landing')).toBe(before);
  });

  it('trusts a custom CA for the first origin only', async () => {
    const run = await smoke({
      checks: `- { name: across, url: ${secure.url.href}across, follow-redirects: true, ca-file: ${tls.certPath} }`,
    });
    expect(run.exitCode).toBe(1);
    expect(report(run).http[0]!.reason).toContain('TLS certificate not trusted');
    expect(secureOther.hits('/landing')).toBe(0);
  });

  it('bounds the time over every hop by the check timeout', async () => {
    const run = await smoke({ checks: `- { url: ${first.url.href}slow-hop, follow-redirects: true, timeout: 600ms }` });
    expect(run.exitCode).toBe(1);
    expect(report(run).http[0]!.reason).toContain('no complete response within 600 ms (across 1 redirect)');
  });
});

describe('body-matches', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await TestServer.start();
    server.route('GET', '/evil', { body: `${'a'.repeat(40)}!` });
  });
  afterAll(() => server.close());

  it('cannot be stalled by a catastrophic pattern: the step ends with a verdict and a summary', async () => {
    const run = await smoke(
      { checks: `- { url: ${server.url.href}evil, expect: { body-matches: '^(a+)+$' } }` },
      20_000,
    );
    expect(run.exitCode).toBe(1);
    expect(report(run).http[0]!.reason).toContain('body does not match /^(a+)+$/');
    expect(run.summary).toContain('Smoke test: fail');
    expect(run.durationMs).toBeLessThan(10_000);
  });

  it.each([
    ['a backreference', '(a)\\\\1'],
    ['a lookahead', '(?=ok)ok'],
  ])('refuses %s at once, naming body-matches with a valid example', async (_label, pattern) => {
    const run = await smoke({ checks: `- { url: ${server.url.href}evil, expect: { body-matches: "${pattern}" } }` });
    expectInputError(
      run,
      'checks',
      /body-matches .* is not a pattern RE2 can run .* A valid example: body-matches: 'build \\d\+'/,
      [],
    );
    expect(server.hits('/evil')).toBe(1);
  });
});

describe('text from remotes cannot issue workflow commands', () => {
  it('escapes hostile Prometheus label values', async () => {
    const prometheus = await fakePrometheus({
      body: vectorAnswer([
        { labels: { service: 'api\n::error::forged', pod: 'p\n::add-mask::x\n::stop-commands::tok' }, value: '0.2' },
      ]),
    });
    try {
      const run = await smoke({ 'prometheus-url': prometheus.url.href, metrics: '- name: errors\n  query: up' });
      expect(run.exitCode).toBe(1);
      expect(run.annotations.filter((a) => a.message === 'forged')).toEqual([]);
      expect(run.masks).not.toContain('x');
      expect(run.log).not.toMatch(/^::(add-mask|stop-commands)::|^::error::forged/m);
      expect(report(run).metrics[0]!.reason).toContain('for {service="api\\n::error::forged"');
    } finally {
      await prometheus.close();
    }
  });

  it("escapes a hostile error text in Prometheus's answer", async () => {
    const prometheus = await fakePrometheus({
      status: 422,
      body: { status: 'error', errorType: 'execution', error: 'boom\n::error::forged\n::add-mask::y' },
    });
    try {
      const run = await smoke({ 'prometheus-url': prometheus.url.href, metrics: '- name: errors\n  query: up' });
      expect(run.exitCode).toBe(1);
      expect(run.annotations.filter((a) => a.message === 'forged')).toEqual([]);
      expect(run.masks).not.toContain('y');
      expect(run.log).not.toMatch(/^::add-mask::|^::error::forged/m);
    } finally {
      await prometheus.close();
    }
  });
});

describe('risky settings warn', () => {
  it('warns on insecure: true and on credentials over plain http', async () => {
    const server = await TestServer.start();
    server.otherwise({ body: 'ok' });
    try {
      const run = await smoke({
        checks: `
- { name: plain, url: ${server.url.href}a, headers: { Authorization: Bearer plain-SECRET-5 } }
- { name: relaxed, url: https://127.0.0.1:1/b, insecure: true }
`,
      });
      const warnings = run.annotations.filter((a) => a.level === 'warning').map((a) => a.message);
      expect(warnings).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^check "plain" sends Authorization to http:\/\/127\.0\.0\.1:\d+ over plain http/),
          expect.stringMatching(/^check "relaxed" sets insecure: true, so TLS certificates .* are not verified/),
        ]),
      );
      expect(leakedSecrets(run, ['plain-SECRET-5'])).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('warns when the Prometheus token goes over plain http', async () => {
    const prometheus = await fakePrometheus({ body: vectorAnswer([{ labels: {}, value: '0' }]) });
    try {
      const run = await smoke({
        'prometheus-url': prometheus.url.href,
        'prometheus-token': 'prom-SECRET-6',
        metrics: '- name: errors\n  query: up',
      });
      expect(run.exitCode).toBe(0);
      expect(run.annotations.map((a) => `${a.level}: ${a.message}`)).toEqual([
        expect.stringMatching(/^warning: prometheus-token is sent to http:\/\/127\.0\.0\.1:\d+ over plain http/),
      ]);
    } finally {
      await prometheus.close();
    }
  });
});

describe('waits bounded by the step', () => {
  it('does not obey a Retry-After beyond the timeout', async () => {
    const prometheus = await fakePrometheus({ status: 503, headers: { 'retry-after': '120' }, body: 'overloaded' });
    try {
      const run = await smoke({
        'prometheus-url': prometheus.url.href,
        timeout: '2s',
        metrics: '- name: errors\n  query: up',
      });
      expect(run.exitCode).toBe(1);
      expect(prometheus.requests).toHaveLength(1);
      expect(report(run).metrics[0]).toMatchObject({ verdict: 'fail', inconclusive: true });
      expect(report(run).metrics[0]!.reason).toContain(
        "answered 503; it asked to wait 2 min 0 s before retrying, beyond the query's timeout of 2.00 s",
      );
      expect(run.durationMs).toBeLessThan(10_000);
    } finally {
      await prometheus.close();
    }
  });

  it.each([
    ['ready-timeout', '30d'],
    ['soak-duration', '25d'],
    ['timeout', '600h'],
  ])('refuses %s: %s, longer than a timer holds', async (input, value) => {
    const run = await smoke({ checks: '- url: http://127.0.0.1:1/', [input]: value });
    expectInputError(run, input, /must be at most 24 days \(a longer wait cannot be timed\)/, []);
  });

  it('refuses a check timeout longer than a timer holds', async () => {
    const run = await smoke({ checks: '- { url: http://127.0.0.1:1/, timeout: 30d }' });
    expectInputError(run, 'checks', /timeout must be at most 24 days/, []);
  });

  it('still takes a long PromQL window', async () => {
    const prometheus = await fakePrometheus({ body: vectorAnswer([{ labels: {}, value: '0' }]) });
    try {
      const run = await smoke({
        'prometheus-url': prometheus.url.href,
        window: '30d',
        metrics: '- name: errors\n  query: sum(rate(x[$window]))',
      });
      expect(failureOf(run)).toBe('');
      expect(prometheus.requests[0]!.body).toContain(encodeURIComponent('[30d]'));
    } finally {
      await prometheus.close();
    }
  });
});

describe('clear errors instead of a bug', () => {
  it('names a URL whose password has a stray %', async () => {
    const run = await smoke({ checks: '- url: http://deployer:p%zz-SECRET@127.0.0.1:1/health' });
    expectInputError(run, 'checks', /url has a password with a "%" that is not followed by two hex digits/, [
      'p%zz-SECRET',
    ]);
  });

  it('names a prometheus-url whose password has a stray %', async () => {
    const run = await smoke({
      'prometheus-url': 'http://reader:q%zz-SECRET@127.0.0.1:1',
      metrics: '- name: errors\n  query: up',
    });
    expectInputError(run, 'prometheus-url', /has a password with a "%" that is not followed by two hex digits/, [
      'q%zz-SECRET',
    ]);
  });

  it('refuses a header value HTTP does not allow at once, instead of retrying it as unreachable', async () => {
    const run = await smoke({
      'ready-timeout': '60s',
      checks: '- { url: http://127.0.0.1:1/, headers: { X-Note: "coffee ☕" } }',
    });
    expectInputError(run, 'checks', /a header value may hold only printable characters/, []);
    expect(run.durationMs).toBeLessThan(10_000);
  });

  describe('an unwritable junit-path', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await TestServer.start();
      server.route('GET', '/ok', { body: 'ok' }).route('GET', '/broken', { status: 500 });
    });
    afterAll(() => server.close());
    const junitPath = () => join(mkdtempSync(join(tmpdir(), 'smoke-')), 'missing', 'junit.xml');

    it('keeps a passing verdict in the outputs and summary, then fails clearly', async () => {
      const run = await smoke({ checks: `- url: ${server.url.href}ok`, 'junit-path': junitPath() });
      expect(run.exitCode).toBe(1);
      expect(run.outputs).toMatchObject({ passed: 'true', verdict: 'pass', failed: '0' });
      expect(run.outputs['junit-path']).toBeUndefined();
      expect(run.summary).toContain('Smoke test: pass');
      expect(failureOf(run)).toMatch(
        /^Could not write the JUnit report to junit-path ".*junit\.xml" \(ENOENT\); the smoke test itself passed \(verdict: pass/,
      );
      expect(run.log).not.toContain('a bug in this action');
    });

    it('keeps a failing verdict first, naming the report problem too', async () => {
      const run = await smoke({ checks: `- url: ${server.url.href}broken`, 'junit-path': junitPath() });
      expect(run.exitCode).toBe(1);
      expect(run.outputs).toMatchObject({ passed: 'false', verdict: 'fail', failed: '1' });
      expect(failureOf(run)).toMatch(
        /^Smoke test failed: 1 of 1 checks failed .*Also: Could not write the JUnit report/,
      );
    });
  });
});
