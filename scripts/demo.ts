// The suite's main job on this machine, until the pipeline demo exists: the built actions run
// exactly as the runner runs them, against local targets — a service on loopback and a real
// Prometheus scraping it. First a healthy release passes, then a release with 8% errors is stopped.
import { TestServer } from '../test/helpers/http-server.ts';
import { MetricsApp, PrometheusServer } from '../test/helpers/prometheus.ts';
import { runBuiltAction, type ActionRun } from '../test/helpers/run-action.ts';

const service = await TestServer.start();
service
  .route('GET', '/health', { body: { status: 'ok', version: '1.4.2' } })
  .route('GET', '/', { body: '<html><title>Shop</title>Welcome</html>', headers: { 'content-type': 'text/html' } })
  .route('GET', '/api/me', (request) => ({
    status: request.headers.authorization === 'Bearer demo-token-123' ? 200 : 401,
  }));
const metrics = await MetricsApp.start();
metrics.set('green', { perScrape: 500, errorRatio: 0.004 }).set('blue', { perScrape: 500, errorRatio: 0.08 });
console.log('Starting Prometheus on loopback and waiting for a few scrapes…');
const prometheus = await PrometheusServer.start([metrics.server.url]);
let failed = false;
try {
  await prometheus.waitFor('count_over_time(app_requests_total{service="green",code="200"}[10s])', (v) => v >= 4);
  const checks = `
- name: health
  url: /health
  expect: { status: 200, json: { status: ok }, max-latency: 1s }
- name: home page
  url: /
  expect: { status: 2xx, body-contains: Welcome, headers: { content-type: text/html } }
- name: signed-in API
  url: /api/me
  headers: { Authorization: Bearer demo-token-123 }
`;
  const errorRate = (colour: string) =>
    `sum(rate(app_requests_total{service="${colour}",code=~"5.."}[$window])) / sum(rate(app_requests_total{service="${colour}"}[$window]))`;
  const smoke = (colour: string): Promise<ActionRun> =>
    runBuiltAction('smoke-test', {
      'base-url': service.url.href,
      checks,
      'soak-duration': '2s',
      'soak-interval': '500ms',
      'prometheus-url': prometheus.url.href,
      window: '10s',
      metrics: `- name: error rate (${colour})\n  query: ${JSON.stringify(errorRate(colour))}\n  min-samples: 100\n  samples-query: sum(increase(app_requests_total{service="${colour}"}[$window]))`,
    });

  for (const [colour, expected] of [
    ['green', 'pass'],
    ['blue', 'fail'],
  ] as const) {
    console.log(`\n━━ smoke-test against the ${colour} release ━━`);
    const run = await smoke(colour);
    console.log(run.summary.trim());
    console.log(`\nexit code ${run.exitCode}, outputs: passed=${run.outputs.passed} verdict=${run.outputs.verdict}`);
    if (run.outputs.verdict !== expected) {
      failed = true;
      console.error(`expected ${expected}; log:\n${run.log}`);
    }
  }
} finally {
  await prometheus.stop();
  await metrics.server.close();
  await service.close();
}
console.log(
  failed ? '\nDemo did not go as expected.' : '\nDemo done: the healthy release passed, the faulty one was stopped.',
);
process.exit(failed ? 1 : 0);
