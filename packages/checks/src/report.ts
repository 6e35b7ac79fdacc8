import { formatDuration, JobSummary, redact } from '@deploy-suite/kit';
import type { SmokeTestReport } from './smoke.ts';

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
        `${r.method} ${r.url}`,
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
        ICON[r.verdict],
        r.name,
        r.value === undefined ? '—' : Number(r.value.toPrecision(4)),
        r.thresholds,
        r.samples === undefined ? '—' : Math.round(r.samples),
        r.reason || '—',
      ]),
    );
  }
}

function xml(text: string | number): string {
  return String(text).replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string,
  );
}

/** JUnit XML that test reporters understand: one testcase per check, failures with reasons. */
export function renderJUnit(report: SmokeTestReport): string {
  const cases: string[] = [];
  for (const r of report.http) {
    const body =
      r.verdict === 'fail'
        ? `<failure message="${xml(r.reason)}" type="${r.status === undefined ? 'unreachable' : 'assertion'}"/>`
        : '';
    cases.push(
      `    <testcase classname="http" name="${xml(r.name)}" time="${(r.durationMs / 1000).toFixed(3)}">${body}</testcase>`,
    );
  }
  for (const r of report.metrics) {
    let body = '';
    if (r.outcome === 'fail') body = `<failure message="${xml(r.reason)}" type="${r.verdict}"/>`;
    else if (r.verdict !== 'pass') body = `<system-out>${xml(r.reason)}</system-out>`;
    cases.push(
      `    <testcase classname="metric" name="${xml(r.name)}" time="${(r.durationMs / 1000).toFixed(3)}">${body}</testcase>`,
    );
  }
  const seconds = (report.durationMs / 1000).toFixed(3);
  return redact(
    [
      '<?xml version="1.0" encoding="UTF-8"?>',
      `<testsuites name="smoke-test" tests="${report.counts.total}" failures="${report.counts.failed}" time="${seconds}">`,
      `  <testsuite name="smoke-test" tests="${report.counts.total}" failures="${report.counts.failed}" errors="0" skipped="0" time="${seconds}">`,
      ...cases,
      '  </testsuite>',
      '</testsuites>',
      '',
    ].join('\n'),
  );
}
