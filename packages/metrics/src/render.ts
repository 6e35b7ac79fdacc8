import type { DoraReport, EnvironmentFigures } from './dora.ts';

export function renderJson(report: DoraReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

interface Metric {
  name: string;
  help: string;
  value: (figures: EnvironmentFigures) => number | null;
}

const METRICS: Metric[] = [
  {
    name: 'deploy_suite_dora_deployment_frequency_per_day',
    help: 'Successful deployments per day over the window.',
    value: (f) => f.deploymentFrequencyPerDay,
  },
  {
    name: 'deploy_suite_dora_lead_time_hours',
    help: 'Median hours from a commit to its first successful deployment in the environment.',
    value: (f) => f.leadTimeHours,
  },
  {
    name: 'deploy_suite_dora_change_failure_rate',
    help: 'Failed or rolled-back deployments divided by finished deployments, created in the window.',
    value: (f) => f.changeFailureRate,
  },
  {
    name: 'deploy_suite_dora_time_to_restore_hours',
    help: 'Median hours from a failure or rollback in the window to the next success in the environment.',
    value: (f) => f.timeToRestoreHours,
  },
  {
    name: 'deploy_suite_dora_successful_deployments',
    help: 'Deployments that succeeded within the window.',
    value: (f) => f.successful,
  },
  {
    name: 'deploy_suite_dora_failed_deployments',
    help: 'Deployments created within the window that failed or were rolled back.',
    value: (f) => f.failed,
  },
  {
    name: 'deploy_suite_dora_finished_deployments',
    help: 'Deployments created within the window that succeeded or failed.',
    value: (f) => f.finished,
  },
  {
    name: 'deploy_suite_dora_unrestored_failures',
    help: 'Failures within the window with no success after them yet.',
    value: (f) => f.unrestored,
  },
];

/** A label value as the text exposition format wants it: backslash, double quote and newline escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export interface PrometheusOptions {
  /**
   * Labels every sample carries before its environment, e.g. { repository: 'acme/shop' }, so
   * that several repositories' figures can sit side by side (one textfile directory, one
   * Pushgateway) without clashing.
   */
  labels?: Record<string, string>;
}

/** A label name as the exposition format allows it. */
export const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Prometheus text exposition (version 0.0.4), for a pushgateway or a node-exporter textfile: one
 * gauge family per figure, one sample per environment. A figure that is null (nothing to measure)
 * has no sample: the exposition format has no null, and NaN would read as a value.
 */
export function renderPrometheus(report: DoraReport, options: PrometheusOptions = {}): string {
  const fixed = Object.entries(options.labels ?? {}).map(([name, value]) => {
    if (!LABEL_NAME.test(name) || name.startsWith('__') || name === 'environment') {
      throw new RangeError(`not a label name the exposition can carry here: ${JSON.stringify(name)}`);
    }
    return `${name}="${escapeLabelValue(value)}",`;
  });
  const lines: string[] = [];
  for (const metric of METRICS) {
    lines.push(`# HELP ${metric.name} ${metric.help}`, `# TYPE ${metric.name} gauge`);
    for (const figures of report.environments) {
      const value = metric.value(figures);
      if (value === null || !Number.isFinite(value)) continue;
      lines.push(
        `${metric.name}{${fixed.join('')}environment="${escapeLabelValue(figures.environment)}"} ${formatNumber(value)}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

function formatNumber(value: number): string {
  return String(Number(value.toPrecision(12)));
}

const BAR_WIDTH = 20;

/** Markdown for a job summary: the window, a table of the four figures, and a bar per environment. */
export function renderMarkdown(report: DoraReport): string {
  const lines = [
    '## DORA metrics',
    '',
    `${report.window.from} to ${report.window.to} (${round(report.window.days)} days)`,
    '',
  ];
  if (report.environments.length === 0) {
    lines.push('No deployment records in this repository for the window.');
    return `${lines.join('\n')}\n`;
  }
  lines.push(
    '| Environment | Deployments per day | Lead time (h) | Change failure rate | Time to restore (h) |',
    '| --- | ---: | ---: | ---: | ---: |',
  );
  for (const f of report.environments) {
    lines.push(
      `| ${markdownText(f.environment)} | ${show(f.deploymentFrequencyPerDay)} (${f.successful}) | ${show(f.leadTimeHours)} | ${
        f.changeFailureRate === null ? '–' : `${round(f.changeFailureRate * 100)}% (${f.failed}/${f.finished})`
      } | ${show(f.timeToRestoreHours)}${f.unrestored > 0 ? ` (${f.unrestored} unrestored)` : ''} |`,
    );
  }
  const most = Math.max(...report.environments.map((f) => f.deploymentFrequencyPerDay ?? 0));
  const width = Math.max(...report.environments.map((f) => f.environment.length));
  lines.push('', 'Deployments per day:', '', '```text');
  for (const f of report.environments) {
    const value = f.deploymentFrequencyPerDay ?? 0;
    const cells = most > 0 ? Math.round((value / most) * BAR_WIDTH) : 0;
    const name = withoutControls(f.environment, '?').replace(/`/g, '?');
    lines.push(
      `${name.padEnd(width)} ${'█'.repeat(cells)}${'·'.repeat(BAR_WIDTH - cells)} ${show(f.deploymentFrequencyPerDay)}`,
    );
  }
  lines.push('```');
  return `${lines.join('\n')}\n`;
}

function round(value: number): string {
  return String(Math.round(value * 100) / 100);
}

function show(value: number | null): string {
  return value === null ? '–' : round(value);
}

/** Text that cannot break the table or become markup. */
function markdownText(text: string): string {
  return withoutControls(text, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([\\`*_[\]|#!~])/g, '\\$1');
}

/** Control characters (C0 and DEL) replaced, so a name cannot break a line or a table row. */
export function withoutControls(text: string, replacement: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    out += code < 0x20 || code === 0x7f ? replacement : text.charAt(i);
  }
  return out;
}
