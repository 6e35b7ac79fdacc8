import { redact } from '@deploy-suite/kit';
import type { SmokeTestReport } from './smoke.ts';

/**
 * Escapes text for an XML attribute or element. Redaction comes first: once `&` has become
 * `&amp;`, a secret holding `&` no longer appears verbatim and would slip past it.
 */
function xml(text: string | number): string {
  return redact(String(text)).replace(
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
    const type = r.inconclusive ? 'inconclusive' : r.verdict;
    if (r.verdict === 'fail') body = `<failure message="${xml(r.reason)}" type="${type}"/>`;
    else if (r.verdict !== 'pass' || r.inconclusive) body = `<system-out>${xml(r.reason)}</system-out>`;
    cases.push(
      `    <testcase classname="metric" name="${xml(r.name)}" time="${(r.durationMs / 1000).toFixed(3)}">${body}</testcase>`,
    );
  }
  const seconds = (report.durationMs / 1000).toFixed(3);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="smoke-test" tests="${report.counts.total}" failures="${report.counts.failed}" time="${seconds}">`,
    `  <testsuite name="smoke-test" tests="${report.counts.total}" failures="${report.counts.failed}" errors="0" skipped="0" time="${seconds}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
