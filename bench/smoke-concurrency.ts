// 50 checks against an endpoint that answers in 200 ms should take about as long as one:
// the built smoke-test runs both ways in this run, and the figure is the ratio of the times the
// action measured around its checks (median of several runs). Goal: ≤ 1.3.
import { TestServer } from '../test/helpers/http-server.ts';
import { runBuiltAction } from '../test/helpers/run-action.ts';
import { median, round } from './stats.ts';

const checks = Number(process.argv[2] ?? 50);
const repeats = Number(process.argv[3] ?? 5);
const server = await TestServer.start();
server.otherwise({ delayMs: 200, body: 'ok' });

async function timed(count: number): Promise<number> {
  const list = Array.from({ length: count }, (_, i) => `- url: ${server.url.href}item/${i}`).join('\n');
  const run = await runBuiltAction('smoke-test', { checks: list, concurrency: String(count), 'ready-timeout': '0s' });
  if (run.exitCode !== 0) throw new Error(`smoke-test failed:\n${run.log}`);
  return (JSON.parse(run.outputs.report!) as { durationMs: number }).durationMs;
}

const one: number[] = [];
const many: number[] = [];
for (let i = 0; i < repeats; i++) {
  one.push(await timed(1));
  many.push(await timed(checks));
}
await server.close();
const ratio = median(many) / median(one);
console.log(`1 check: ${median(one)} ms; ${checks} checks: ${median(many)} ms`);
console.log(
  JSON.stringify({
    name: 'smoke-concurrency',
    checks,
    endpoint_delay_ms: 200,
    one_check_ms: median(one),
    all_checks_ms: median(many),
    ratio_vs_one_check: round(ratio, 3),
    goal_met: ratio <= 1.3,
  }),
);
