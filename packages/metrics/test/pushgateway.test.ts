import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { fakeClock } from '../../../test/helpers/fake-clock.ts';
import { TestServer } from '../../../test/helpers/http-server.ts';
import { EXPOSITION_CONTENT_TYPE, PushgatewayError, pushgatewayUrl, pushMetrics } from '../src/index.ts';

const BODY = '# HELP x An x.\n# TYPE x gauge\nx{environment="production"} 1\n';

/** The PushgatewayError a push fails with; a push that succeeds, or fails otherwise, fails the test. */
async function failureOf(push: Promise<unknown>): Promise<PushgatewayError> {
  const error = await push.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof PushgatewayError)) throw new Error(`expected a PushgatewayError, got ${String(error)}`);
  return error;
}

describe('pushgatewayUrl', () => {
  it('puts the job and the grouping labels in the path, Base64url where a value is not plain', () => {
    const root = new URL('https://pusher:secret@pushgateway.example.com/prefix/?q=1#f');
    expect(pushgatewayUrl(root, 'deploy-suite', { repository: 'acme/shop' }).href).toBe(
      `https://pushgateway.example.com/prefix/metrics/job/deploy-suite/repository@base64/${Buffer.from('acme/shop').toString('base64url')}`,
    );
    expect(pushgatewayUrl(new URL('http://127.0.0.1:9091'), 'a b', { env: '', plain: 'v1.2_3-x' }).pathname).toBe(
      `/metrics/job@base64/${Buffer.from('a b').toString('base64url')}/env@base64/=/plain/v1.2_3-x`,
    );
    expect(() => pushgatewayUrl(root, '')).toThrow(RangeError);
    expect(() => pushgatewayUrl(root, 'j', { job: 'x' })).toThrow(RangeError);
    expect(() => pushgatewayUrl(root, 'j', { 'bad-name': 'x' })).toThrow(RangeError);
  });
});

describe('pushMetrics', () => {
  let gateway: TestServer;
  beforeAll(async () => {
    gateway = await TestServer.start();
  });
  afterAll(() => gateway.close());

  it('PUTs the exposition with its content type and the authorization given', async () => {
    gateway.route('PUT', '/metrics/job/deploy-suite', { status: 200 });
    const result = await pushMetrics({
      url: gateway.url,
      job: 'deploy-suite',
      body: BODY,
      authorization: 'Bearer t0ken-value',
    });
    expect(result).toMatchObject({ status: 200, attempts: 1 });
    const put = gateway.requests.at(-1)!;
    expect(put.method).toBe('PUT');
    expect(put.headers['content-type']).toBe(EXPOSITION_CONTENT_TYPE);
    expect(put.headers.authorization).toBe('Bearer t0ken-value');
    expect(put.body).toBe(BODY);
  });

  it('tries a 5xx and a 429 again, honouring Retry-After, on the injected clock', async () => {
    gateway.route('PUT', '/metrics/job/retried', [
      { status: 503, body: 'starting' },
      { status: 429, headers: { 'retry-after': '3' } },
      { status: 202 },
    ]);
    const clock = fakeClock();
    const result = await pushMetrics({ url: gateway.url, job: 'retried', body: BODY, clock });
    expect(result).toMatchObject({ status: 202, attempts: 3 });
    expect(clock.sleeps).toHaveLength(2);
    expect(clock.sleeps[1]).toBe(3000);
    expect(gateway.hits('/metrics/job/retried')).toBe(3);
  });

  it('gives up on a 5xx that lasts, naming the Pushgateway and what it said', async () => {
    gateway.route('PUT', '/metrics/job/down', { status: 502, body: 'bad gateway\n::error::forged' });
    const error = await failureOf(pushMetrics({ url: gateway.url, job: 'down', body: BODY, clock: fakeClock() }));
    expect(error.status).toBe(502);
    expect(error.message).toContain(`the Pushgateway at ${gateway.url.origin} answered 502`);
    expect(error.message).toContain('after 3 attempts');
    expect(error.message).not.toContain('\n');
  });

  it('does not try a refusal again, and says what to check', async () => {
    gateway.route('PUT', '/metrics/job/refused', { status: 401, body: 'unauthorized' });
    gateway.route('PUT', '/nowhere/metrics/job/refused', { status: 404, body: 'not found' });
    gateway.route('PUT', '/metrics/job/clash', { status: 400, body: 'inconsistent help text' });
    const refusal = (path: string, job: string) =>
      failureOf(pushMetrics({ url: new URL(path, gateway.url), job, body: BODY, clock: fakeClock() }));
    const unauthorized = await refusal('/', 'refused');
    expect(unauthorized.message).toMatch(/answered 401 .*check pushgateway-token/);
    expect(gateway.hits('/metrics/job/refused')).toBe(1);
    expect((await refusal('/nowhere', 'refused')).message).toMatch(/404 .*root of the Pushgateway/);
    expect((await refusal('/', 'clash')).message).toMatch(/400 .*inconsistent help text.*other types or help texts/);
  });

  it('names a Pushgateway it cannot reach', async () => {
    const gone = await TestServer.start();
    const url = gone.url;
    await gone.close();
    const error = await failureOf(pushMetrics({ url, job: 'x', body: BODY, clock: fakeClock() }));
    expect(error.message).toMatch(/^Could not reach the Pushgateway at http:\/\/127\.0\.0\.1:\d+ .*connection refused/);
    expect(error.status).toBeUndefined();
  });
});
