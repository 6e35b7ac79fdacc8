import { writeFileSync } from 'node:fs';
import * as core from '@actions/core';
import {
  ConfigurationError,
  errorMessage,
  GateClosedError,
  Inputs,
  JobSummary,
  quoteUntrusted,
  redact,
  runAction,
  setOutput,
} from '@deploy-suite/kit';
import { renderJUnit, runSmokeTest, type SmokeTestReport } from '@deploy-suite/checks';
import { readSettings } from './settings.ts';
import { renderSummary } from './summary.ts';

const summary = new JobSummary();

await runAction(async () => {
  const settings = readSettings(new Inputs());
  const { plan } = settings;
  for (const warning of settings.warnings) core.warning(redact(warning));
  core.info(
    `Running ${plan.httpChecks.length} HTTP and ${plan.metricChecks.length} metric checks, ${plan.concurrency} at a time`,
  );
  const report = await runSmokeTest({ ...plan, log: (message) => core.info(redact(message)) });
  logResults(report);
  renderSummary(report, summary);

  // The verdict is published before the report file is written, so a failing write never hides it.
  const passed = report.passed && !(settings.failOnWarn && report.verdict === 'warn');
  setOutput('passed', passed);
  setOutput('verdict', report.verdict);
  setOutput('report', report);
  setOutput('failed', report.counts.failed);
  let reportProblem: string | undefined;
  try {
    writeFileSync(settings.junitPath, renderJUnit(report));
    setOutput('junit-path', settings.junitPath);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? errorMessage(error);
    reportProblem = `Could not write the JUnit report to junit-path "${settings.junitPath}" (${code}); the smoke test itself ${passed ? 'passed' : 'did not pass'} (verdict: ${report.verdict}, see the outputs and the job summary). Point junit-path at a writable file, e.g. \${{ runner.temp }}/smoke.xml`;
    summary.paragraph(`⚠️ ${reportProblem}`);
  }

  const failed = [...report.http, ...report.metrics].filter((r) => r.verdict === 'fail');
  const also = reportProblem === undefined ? '' : `. Also: ${reportProblem}`;
  if (!report.passed) {
    const names = failed.map((r) => r.name).join(', ');
    throw new GateClosedError(
      `Smoke test failed: ${report.counts.failed} of ${report.counts.total} checks failed (${names || 'no checks ran'})${also}`,
    );
  }
  if (settings.failOnWarn && report.verdict === 'warn') {
    throw new GateClosedError(`Smoke test warned on ${report.counts.warned} checks and fail-on-warn is true${also}`);
  }
  if (reportProblem !== undefined) throw new ConfigurationError(reportProblem);
}, summary);

/** One log line per check, and one annotation per failed or warning check. Remote text arrives escaped. */
function logResults(report: SmokeTestReport): void {
  core.startGroup('Results');
  for (const r of report.http) {
    const detail = r.verdict === 'pass' ? `${r.status} in ${r.latencyMs} ms` : r.reason;
    const final = r.finalUrl === undefined ? '' : ` → ${quoteUntrusted(r.finalUrl)}`;
    core.info(
      `${r.verdict.toUpperCase()}  ${r.name}  ${r.method} ${r.url}${final}  (${r.attempts} attempt${r.attempts === 1 ? '' : 's'}) ${detail}`,
    );
    if (r.verdict === 'fail') core.error(r.reason, { title: `Smoke check failed: ${r.name}` });
  }
  for (const r of report.metrics) {
    const kind = r.inconclusive ? ' (inconclusive)' : '';
    core.info(`${r.verdict.toUpperCase()}${kind}  ${r.name}  value=${r.value ?? 'none'}  ${r.reason}`);
    if (r.verdict === 'fail') core.error(r.reason, { title: `Metric check failed: ${r.name}` });
    else if (r.verdict === 'warn') core.warning(r.reason, { title: `Metric check warning: ${r.name}` });
  }
  core.endGroup();
}
