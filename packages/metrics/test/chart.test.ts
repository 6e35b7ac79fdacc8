import { describe, expect, it } from '@jest/globals';
import type { DeploymentRecord } from '../../record/src/index.ts';
import {
  deploymentSeries,
  doraFigures,
  MAX_COLUMNS,
  renderChart,
  renderPrometheus,
  type DeploymentSeries,
} from '../src/index.ts';

const T0 = Date.parse('2026-11-01T00:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (hours: number) => new Date(T0 + hours * HOUR).toISOString();

let nextId = 1;
/** A record as readDeployments gives it: statuses newest first. */
function record(
  environment: string,
  created: number,
  statuses: [string, number][],
  rolledBack: number | null = null,
): DeploymentRecord {
  return {
    id: nextId++,
    environment,
    createdAt: iso(created),
    creator: 'deploy-bot[bot]',
    payload: {
      deploySuiteRecord: 1,
      service: 'checkout',
      sha: 'a'.repeat(40),
      artifactDigest: null,
      router: 'nginx',
      colour: 'green',
      previousWeights: {},
      previousColour: 'blue',
      previousSha: null,
      rolledBack,
      changeRequest: null,
    },
    statuses: statuses
      .map(([state, hour]) => ({ state, description: state, createdAt: iso(hour), creator: 'deploy-bot[bot]' }))
      .reverse(),
  };
}

describe('deploymentSeries', () => {
  it('counts changes that succeeded and that failed per day, rollbacks as neither', () => {
    const changed = record('production', 1, [
      ['success', 2],
      ['failure', 50],
    ]);
    const records = [
      record('production', 0, [['success', 0.5]]),
      changed,
      // Its rollback, created on day 3: it fails the change on day 2 already (the failure status).
      record('production', 73, [['success', 74]], changed.id),
      record('production', 30, [['failure', 31]]),
      record('staging', 95, [['success', 95.5]]),
      // Outside the window (before it, and at its exclusive end).
      record('staging', -5, [['success', -4]]),
      record('staging', 96, [['success', 96]]),
    ];
    const series = deploymentSeries(records, { from: new Date(T0), to: new Date(T0 + 4 * DAY) });
    expect(series.bucketDays).toBe(1);
    expect(series.starts).toEqual([iso(0), iso(24), iso(48), iso(72)]);
    expect(series.environments).toEqual([
      { environment: 'production', successes: [2, 0, 0, 0], failures: [0, 1, 1, 0] },
      { environment: 'staging', successes: [0, 0, 0, 1], failures: [0, 0, 0, 0] },
    ]);
  });

  it('groups days so that no window has more than MAX_COLUMNS columns, and names every environment asked for', () => {
    const records = Array.from({ length: 365 }, (_, day) =>
      record('production', day * 24, [['success', day * 24 + 1]]),
    );
    const series = deploymentSeries(
      records,
      { from: new Date(T0), to: new Date(T0 + 365 * DAY) },
      {
        environments: ['qa'],
      },
    );
    expect(series.bucketDays).toBe(7);
    expect(series.starts.length).toBeLessThanOrEqual(MAX_COLUMNS);
    expect(series.environments.map((e) => e.environment)).toEqual(['production', 'qa']);
    const [production, qa] = series.environments;
    expect(production!.successes.reduce((a, b) => a + b, 0)).toBe(365);
    expect(production!.successes[0]).toBe(7);
    // The last period is cut short by the window's end: one day of it.
    expect(production!.successes.at(-1)).toBe(1);
    expect(qa!.successes.every((n) => n === 0)).toBe(true);
    expect(() => deploymentSeries([], { from: new Date(T0), to: new Date(T0) })).toThrow(RangeError);
  });

  it('cuts the days at UTC midnight, the first and the last short where the window starts and ends', () => {
    const records = [
      record('production', 5, [['success', 5.5]]), // before the window: left out
      record('production', 20, [['success', 21]]), // day 0, in the window's part of it
      record('production', 30, [['success', 30.5]]), // day 1
      record('production', 49, [['success', 49.5]]), // day 2, before the window's end
      record('production', 51, [['success', 51]]), // day 2, after it: left out
    ];
    const series = deploymentSeries(records, { from: new Date(T0 + 18 * HOUR), to: new Date(T0 + 50 * HOUR) });
    expect(series.starts).toEqual([iso(18), iso(24), iso(48)]);
    expect(series.environments[0]!.successes).toEqual([1, 1, 1]);
  });
});

describe('renderChart', () => {
  const series: DeploymentSeries = {
    bucketDays: 1,
    starts: [0, 1, 2, 3, 4].map((d) => iso(d * 24)),
    environments: [
      { environment: 'production', successes: [0, 1, 8, 4, 2], failures: [0, 0, 1, 0, 0] },
      { environment: 'qa\n```evil`', successes: [0, 0, 0, 0, 0], failures: [0, 0, 0, 0, 0] },
    ],
  };
  const text = renderChart(series);
  const lines = text.split('\n');

  it('draws columns of eighth blocks scaled to the busiest day, a × under a failure, and the dates', () => {
    expect(lines.slice(0, 8)).toEqual([
      'production: 15 successful deployments, 1 failed; most in one day: 8',
      '8 │  █',
      '  │  █',
      '  │  ██',
      '  │ ▄███',
      '0 └─────',
      '     ×',
      '   11-01',
    ]);
  });

  it('keeps a name from breaking a line or closing the code block', () => {
    expect(text).not.toContain('`');
    expect(text).toContain("qa?'''evil': 0 successful deployments, 0 failed; most in one day: 0");
    expect(text).toContain('One column per day (UTC)');
    const long = renderChart({ ...series, bucketDays: 3 });
    expect(long).toContain('most in one 3-day period: 8');
  });
});

it('names environments without records and labels every sample when asked', async () => {
  const records = [record('production', 1, [['success', 2]])];
  const report = await doraFigures(records, {
    window: { from: new Date(T0), to: new Date(T0 + 4 * DAY) },
    environments: ['staging'],
  });
  expect(report.environments.map((e) => [e.environment, e.successful, e.changeFailureRate])).toEqual([
    ['production', 1, 0],
    ['staging', 0, null],
  ]);
  const text = renderPrometheus(report, { labels: { repository: 'acme/"shop"' } });
  expect(text).toContain(
    'deploy_suite_dora_deployment_frequency_per_day{repository="acme/\\"shop\\"",environment="production"} 0.25',
  );
  expect(text).toContain(
    'deploy_suite_dora_deployment_frequency_per_day{repository="acme/\\"shop\\"",environment="staging"} 0',
  );
  for (const name of ['environment', '__name__', 'bad-name', '']) {
    expect(() => renderPrometheus(report, { labels: { [name]: 'x' } })).toThrow(RangeError);
  }
});
