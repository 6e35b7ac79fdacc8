import { writeFileSync } from 'node:fs';
import * as core from '@actions/core';
import { GateClosedError, Inputs, JobSummary, redact, runAction, setOutput } from '@deploy-suite/kit';
import { renderJUnit, renderSummary, runSmokeTest, type SmokeTestReport } from '@deploy-suite/checks';
import { readSettings } from './settings.ts';

const summary = new JobSummary();

await runAction(async () => {
  const settings = readSettings(new Inputs());
  const { plan } = settings;
  core.info(
    `Running ${plan.httpChecks.length} HTTP and ${plan.metricChecks.length} metric checks, ${plan.concurrency} at a time`,
  );
  const report = await runSmokeTest({ ...plan, log: (message) => core.info(redact(message)) });
  logResults(report);
  renderSummary(report, summary);
  writeFileSync(settings.junitPath, renderJUnit(report));

  setOutput('passed', report.passed && !(settings.failOnWarn && report.verdict === 'warn'));
  setOutput('verdict', report.verdict);
  setOutput('report', report);
  setOutput('junit-path', settings.junitPath);
  setOutput('failed', report.counts.failed);

  const failed = [...report.http, ...report.metrics].filter((r) => ('outcome' in r ? r.outcome : r.verdict) === 'fail');
  if (!report.passed) {
    const names = failed.map((r) => r.name).join(', ');
    throw new GateClosedError(
      `Smoke test failed: ${report.counts.failed} of ${report.counts.total} checks failed (${names || 'no checks ran'})`,
    );
  }
  if (settings.failOnWarn && report.verdict === 'warn') {
    throw new GateClosedError(`Smoke test warned on ${report.counts.warned} checks and fail-on-warn is true`);
  }
}, summary);

/** One log line per check, and one annotation per failed or warning check. */
function logResults(report: SmokeTestReport): void {
  core.startGroup('Results');
  for (const r of report.http) {
    const detail = r.verdict === 'pass' ? `${r.status} in ${r.latencyMs} ms` : r.reason;
    core.info(
      `${r.verdict.toUpperCase()}  ${r.name}  ${r.method} ${r.url}  (${r.attempts} attempt${r.attempts === 1 ? '' : 's'}) ${detail}`,
    );
    if (r.verdict === 'fail') core.error(r.reason, { title: `Smoke check failed: ${r.name}` });
  }
  for (const r of report.metrics) {
    core.info(`${r.outcome.toUpperCase()}  ${r.name}  value=${r.value ?? 'none'}  ${r.reason}`);
    if (r.outcome === 'fail') core.error(r.reason, { title: `Metric check failed: ${r.name}` });
    else if (r.outcome === 'warn') core.warning(r.reason, { title: `Metric check warning: ${r.name}` });
  }
  core.endGroup();
}
