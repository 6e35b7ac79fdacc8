import { md, type JobSummary } from '@deploy-suite/kit';
import { renderChart, renderMarkdown, type DeploymentSeries, type DoraReport } from '@deploy-suite/metrics';

export interface ReadFacts {
  repository: string;
  author: string;
  since: string;
  /** Records read (the window and the look-back before it). */
  records: number;
  /** Records created within the window. */
  deployments: number;
  requests: number;
  notModified: number;
  skipped: number;
}

/** Where the figures went: one line per sink, written or not. */
export type Delivery = { sink: string; ok: boolean; detail: string };

/**
 * The step's summary: the figures' table and bars (the package's Markdown), the deployments per
 * day as a text chart, what was read, and where the figures went.
 */
export function renderSummary(
  summary: JobSummary,
  report: DoraReport,
  series: DeploymentSeries,
  facts: ReadFacts,
  deliveries: Delivery[],
): void {
  summary.paragraph(renderMarkdown(report).trimEnd());
  summary.paragraph(
    md(
      `${facts.repository}: ${facts.deployments} deployment records of ${facts.author} in the window (${facts.records} read since ${facts.since}, ${facts.skipped} other deployments left out), in ${facts.requests} API requests (${facts.notModified} answered 304).`,
    ),
  );
  if (series.environments.length > 0) {
    summary.paragraph(`### Deployments over time\n\n\`\`\`text\n${renderChart(series).trimEnd()}\n\`\`\``);
  }
  if (deliveries.length > 0) {
    summary.table(
      ['', 'Sent to', 'Detail'],
      deliveries.map((d) => [d.ok ? '✅' : '⚠️', d.sink, d.detail]),
    );
  }
}
