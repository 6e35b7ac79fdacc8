import type { DeploymentRecord } from '@deploy-suite/record';
import { classify, groupByEnvironment, type Window } from './dora.ts';
import { withoutControls } from './render.ts';

const DAY = 86_400_000;

/** A chart wider than this would wrap in a job summary: longer windows get buckets of several days. */
export const MAX_COLUMNS = 60;

/** Changes that succeeded and changes that failed, per bucket of the window, for one environment. */
export interface EnvironmentSeries {
  environment: string;
  /** Per bucket: changes (not rollbacks) whose first success falls in it. */
  successes: number[];
  /** Per bucket: changes that failed (failure status or rolled back) within it. */
  failures: number[];
}

export interface DeploymentSeries {
  /** Each bucket's length in days: 1 for windows up to about 60 days, more for longer ones (at most 60 buckets). */
  bucketDays: number;
  /**
   * Where each bucket starts (ISO time): UTC midnights, but for the first, which starts with the
   * window; the first and the last may be cut short by the window's edges.
   */
  starts: string[];
  /** Sorted by name, as the figures are. */
  environments: EnvironmentSeries[];
}

/**
 * Deployments over time, per environment: how many changes succeeded and how many failed in each
 * UTC day of the window (or each group of days, so there are at most MAX_COLUMNS buckets). Counted as
 * the figures count them: a rollback's own record is the remedy, not a change.
 */
export function deploymentSeries(
  records: DeploymentRecord[],
  window: Window,
  options: { environments?: string[] } = {},
): DeploymentSeries {
  const from = window.from.getTime();
  const to = window.to.getTime();
  if (!Number.isFinite(from) || !Number.isFinite(to) || to <= from) {
    throw new RangeError(`the window must run forwards: ${window.from.toString()} to ${window.to.toString()}`);
  }
  // Buckets are whole UTC days from the midnight the window starts on; the first and the last
  // are cut short by the window's edges, and count only what happened inside it.
  const origin = Math.floor(from / DAY) * DAY;
  const bucketDays = Math.max(1, Math.ceil((to - origin) / DAY / MAX_COLUMNS));
  const bucketMs = bucketDays * DAY;
  const count = Math.ceil((to - origin) / bucketMs);
  const bucketOf = (time: number | undefined): number | undefined =>
    time === undefined || time < from || time >= to ? undefined : Math.floor((time - origin) / bucketMs);
  const environments: EnvironmentSeries[] = [];
  for (const [environment, list] of groupByEnvironment(records, options.environments)) {
    const successes = new Array<number>(count).fill(0);
    const failures = new Array<number>(count).fill(0);
    for (const change of classify(list)) {
      if (change.record.payload.rolledBack !== null) continue;
      const succeeded = bucketOf(change.succeeded);
      if (succeeded !== undefined) successes[succeeded]!++;
      const failed = bucketOf(change.failed);
      if (failed !== undefined) failures[failed]!++;
    }
    environments.push({ environment, successes, failures });
  }
  return {
    bucketDays,
    starts: Array.from({ length: count }, (_, i) => new Date(Math.max(from, origin + i * bucketMs)).toISOString()),
    environments,
  };
}

const EIGHTHS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
const HEIGHT = 4;

/**
 * The series as a text column chart for a job summary (inside a ```text block, so any Markdown
 * renderer shows it in a monospace font): per environment, one column per bucket, four rows of
 * eighth blocks scaled to that environment's busiest bucket, a × under each bucket with a
 * failure, and the first and last bucket's dates. Environment names lose control characters and
 * backticks, so a name can neither break a line nor close the block.
 */
export function renderChart(series: DeploymentSeries): string {
  const per = series.bucketDays === 1 ? 'day' : `${series.bucketDays}-day period`;
  const lines: string[] = [];
  for (const env of series.environments) {
    const most = Math.max(0, ...env.successes);
    const total = env.successes.reduce((a, b) => a + b, 0);
    const failed = env.failures.reduce((a, b) => a + b, 0);
    const name = withoutControls(env.environment, '?').replace(/`/g, "'");
    lines.push(
      `${name}: ${total} successful deployment${total === 1 ? '' : 's'}, ${failed} failed; most in one ${per}: ${most}`,
    );
    const axis = String(most).length;
    for (let row = 0; row < HEIGHT; row++) {
      const floor = (HEIGHT - 1 - row) * 8;
      const cells = env.successes.map((value) => {
        if (value === 0 || most === 0) return ' ';
        // At least one eighth for any deployment, so a quiet day never looks like none.
        const eighths = Math.max(1, Math.round((value / most) * HEIGHT * 8));
        const level = Math.min(8, eighths - floor);
        return level <= 0 ? ' ' : EIGHTHS[level - 1]!;
      });
      const label = row === 0 ? String(most) : '';
      lines.push(`${label.padStart(axis)} │${cells.join('').trimEnd()}`);
    }
    lines.push(`${'0'.padStart(axis)} └${'─'.repeat(env.successes.length)}`);
    if (failed > 0) {
      lines.push(
        `${' '.repeat(axis)}  ${env.failures
          .map((value) => (value > 0 ? '×' : ' '))
          .join('')
          .trimEnd()}`,
      );
    }
    const first = series.starts[0]?.slice(5, 10) ?? '';
    const last = series.starts.at(-1)?.slice(5, 10) ?? '';
    const gap = env.successes.length - first.length - last.length;
    lines.push(`${' '.repeat(axis)}  ${gap > 0 ? `${first}${' '.repeat(gap)}${last}` : first}`);
    lines.push('');
  }
  lines.push(`One column per ${per} (UTC); × marks a ${per} with a failed or rolled-back deployment.`);
  return `${lines.join('\n')}\n`;
}
