import { formatDuration, type JobSummary } from '@deploy-suite/kit';
import type { SmokeTestReport } from '@deploy-suite/checks';

const ICON = { pass: '✅', warn: '⚠️', fail: '❌', inconclusive: '❔' } as const;

/** Adds the smoke test to a job summary: a verdict line, then one table row per check. */
export function renderSummary(report: SmokeTestReport, summary: JobSummary): void {
  const { counts } = report;
  summary.heading(`${ICON[report.verdict]} Smoke test: ${report.verdict}`);
  summary.paragraph(
    `${counts.passed} passed, ${counts.warned} warned, ${counts.failed} failed of ${counts.total} checks in ${formatDuration(report.durationMs)}.`,
  );
  if (report.http.length > 0) {
    summary.table(
      ['', 'Check', 'Request', 'Status', 'Latency', 'Attempts', 'Soak', 'Reason'],
      report.http.map((r) => [
        ICON[r.verdict],
        r.name,
        `${r.method} ${r.url}${r.finalUrl === undefined ? '' : ` → ${r.finalUrl}`}`,
        r.status ?? '—',
        r.latencyMs === undefined ? '—' : `${r.latencyMs} ms`,
        r.attempts,
        r.soak ? `${r.soak.passed}/${r.soak.rounds}` : '—',
        r.reason || '—',
      ]),
    );
  }
  if (report.metrics.length > 0) {
    summary.table(
      ['', 'Metric', 'Value', 'Thresholds', 'Samples', 'Reason'],
      report.metrics.map((r) => [
        r.inconclusive ? `${ICON.inconclusive} ${ICON[r.verdict]}` : ICON[r.verdict],
        r.name,
        r.value === undefined ? '—' : Number(r.value.toPrecision(4)),
        r.thresholds,
        r.samples === undefined ? '—' : Math.round(r.samples),
        r.reason || '—',
      ]),
    );
  }
}
