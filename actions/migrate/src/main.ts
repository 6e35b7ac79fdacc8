import * as core from '@actions/core';
import {
  ConfigurationError,
  formatDuration,
  GateClosedError,
  Inputs,
  JobSummary,
  readRunContext,
  runAction,
  setOutput,
} from '@deploy-suite/kit';
import {
  apply,
  baseline,
  plan,
  repair,
  testMigrations,
  undo,
  validate,
  type MigrateResult,
} from '@deploy-suite/db/migrate';
import { readSettings } from './settings.ts';
import { describeResult, describeTest } from './summary.ts';

const summary = new JobSummary();

await runAction(async () => {
  const settings = readSettings(new Inputs());
  const options = { ...settings.options, log: (message: string) => core.info(message) };
  const started = performance.now();
  const took = (): string => formatDuration(performance.now() - started);

  if (settings.command === 'test') {
    const evidence = await testMigrations(options);
    setOutput('test-result', evidence);
    describeTest(summary, evidence, took());
    if (!evidence.passed)
      throw new GateClosedError(
        'Migration test failed: the schema after undo and re-apply differs from the first apply.',
      );
    return;
  }
  if (settings.command === 'repair') {
    const removed = await repair({ ...options, repairVersion: settings.repairVersion! });
    summary
      .heading(`Repaired version ${settings.repairVersion}`)
      .paragraph(`Cleared ${removed} failed record(s); applies can go on.`);
    return;
  }
  const run = { plan, apply, validate, undo, baseline }[settings.command];
  const result = await run(options);
  writeOutputs(result);
  if (settings.command === 'apply' && options.phase === 'contract' && settings.markDeployment !== undefined) {
    await markContract(settings.markDeployment);
  }
  describeResult(summary, settings.command, result, took());
  for (const note of result.validation) core.warning(note);
  for (const finding of result.lint) {
    const annotate = finding.severity === 'error' ? core.error : core.warning;
    annotate(`${finding.id} ${finding.message}: ${finding.why}`, {
      title: `Migration lint ${finding.id}`,
      file: finding.file,
      startLine: finding.line,
    });
  }
  if (settings.command === 'plan') {
    const worst = result.lint.some((f) => f.severity === 'error')
      ? 'error'
      : result.lint.length > 0
        ? 'warning'
        : 'none';
    if (
      (settings.failOnLint === 'error' && worst === 'error') ||
      (settings.failOnLint === 'warning' && worst !== 'none')
    ) {
      throw new ConfigurationError(
        `The plan has lint findings at or above ${settings.failOnLint}: ${result.lint.map((f) => `${f.file}:${f.line} ${f.id}`).join(', ')}`,
      );
    }
  }
}, summary);

/**
 * Tells the deployment record that this deployment's contract migrations ran, so that a
 * blue-green rollback to the previous colour (whose code expects the old schema) is refused.
 * Loaded only when asked for: most runs never talk to GitHub.
 */
async function markContract(deployment: { id: number; token: string }): Promise<void> {
  const [{ createGitHubClient }, { markContractMigrations }] = await Promise.all([
    import('@deploy-suite/github'),
    import('@deploy-suite/record'),
  ]);
  const context = readRunContext();
  const [owner, repo] = context.repository.split('/');
  const octokit = createGitHubClient({ token: deployment.token });
  await markContractMigrations(octokit, { owner: owner!, repo: repo! }, deployment.id, context.runUrl || undefined);
  core.info(`Deployment ${deployment.id} marked: its contract migrations ran, so rollbacks past it are refused`);
}

function writeOutputs(result: MigrateResult): void {
  setOutput('applied', result.applied);
  setOutput('pending', result.pending);
  setOutput('current-version', result.currentVersion ?? '');
  setOutput('plan-hash', result.planHash);
  setOutput('lint-findings', result.lint);
}
