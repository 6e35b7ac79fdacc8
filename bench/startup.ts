// Startup cost of every built action: median wall time from spawning `node dist/index.js` with
// no inputs to its exit (a clear "input required" failure), as a ratio to `node -e ''` measured
// in the same run, and the bundle size. Goals: ratio ≤ 6, bundle under 1.5 MB.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { actionDirs } from '../scripts/actions.ts';
import { actionSpawnTimer, median, round } from './stats.ts';

const runs = Number(process.argv[2] ?? 21);
const time = actionSpawnTimer('bench-startup-');

// Interleave baseline and actions so drift on a shared machine hits both alike.
const baseline: number[] = [];
const actions = actionDirs().map(({ name, dir }) => ({
  name,
  bundle: join(dir, 'dist', 'index.js'),
  times: [] as number[],
  output: '',
}));
for (let i = 0; i < runs; i++) {
  baseline.push(time(['-e', '']).ms);
  for (const action of actions) {
    const result = time([action.bundle]);
    if (result.status === 0) throw new Error(`${action.name} exited 0 with no inputs`);
    action.times.push(result.ms);
    action.output = result.output;
  }
}
const baselineMs = median(baseline);
const figures: Record<string, { median_ms: number; ratio_vs_node: number; bundle_mb: number; error: string }> = {};
for (const action of actions) {
  figures[action.name] = {
    median_ms: round(median(action.times), 1),
    ratio_vs_node: round(median(action.times) / baselineMs),
    bundle_mb: round(statSync(action.bundle).size / 1024 / 1024, 3),
    error: (/::error::([^%\n]*)/.exec(action.output)?.[1] ?? '').slice(0, 80),
  };
  console.log(
    `${action.name}: ${figures[action.name]!.median_ms} ms (${figures[action.name]!.ratio_vs_node}× node -e ''), ${figures[action.name]!.bundle_mb} MB — ${figures[action.name]!.error}`,
  );
}
const worst = Math.max(...Object.values(figures).map((f) => f.ratio_vs_node));
const largest = Math.max(...Object.values(figures).map((f) => f.bundle_mb));
console.log(
  JSON.stringify({
    name: 'startup',
    runs,
    baseline_node_ms: round(baselineMs, 1),
    worst_ratio_vs_node: worst,
    largest_bundle_mb: largest,
    goal_met: worst <= 6 && largest < 1.5,
    actions: figures,
  }),
);
