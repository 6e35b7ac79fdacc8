import * as core from '@actions/core';
import {
  ConfigurationError,
  formatDuration,
  GateClosedError,
  Inputs,
  JobSummary,
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
  type LintFinding,
  type MigrateResult,
} from '@deploy-suite/db/migrate';
import { readSettings } from './settings.ts';

const summary = new JobSummary();

await runAction(async () => {
  const settings = readSettings(new Inputs());
  const options = { ...settings.options, log: (message: string) => core.info(message) };
  const started = performance.now();
  const took = (): string => formatDuration(performance.now() - started);

  if (settings.command === 'test') {
    const evidence = await testMigrations(options);
    setOutput('test-result', evidence);
    summary.heading(`${evidence.passed ? '✅' : '❌'} Migrations tested on a scratch database`);
    summary.table(
      ['', ''],
      [
        ['Migrations', evidence.migrations],
        ['Undo files', evidence.undoFiles],
        [
          'Apply → undo all → apply again',
          evidence.appliedTwice ? 'done' : 'skipped: not every migration has a U file',
        ],
        ['Schema after both applies', evidence.schemaMatches ? 'identical' : 'DIFFERENT'],
        ['Folder hash', evidence.folderHash],
        ['Duration', took()],
      ],
    );
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
  renderSummary(settings.command, result, took());
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

function writeOutputs(result: MigrateResult): void {
  setOutput('applied', result.applied);
  setOutput('pending', result.pending);
  setOutput('current-version', result.currentVersion ?? '');
  setOutput('plan-hash', result.planHash);
  setOutput('lint-findings', result.lint);
}

function renderSummary(command: string, result: MigrateResult, took: string): void {
  const verb =
    {
      plan: 'Migration plan',
      apply: 'Migrations applied',
      validate: 'Migrations validated',
      undo: 'Migrations undone',
    }[command] ?? command;
  summary.heading(`${verb} (current version ${result.currentVersion ?? 'none'}, ${took})`);
  if (result.applied.length > 0) {
    summary.table(
      ['Version', 'Description', 'Time'],
      result.applied.map((a) => [a.version ?? 'repeatable', a.description, formatDuration(a.executionMs)]),
    );
  }
  if (result.pending.length > 0) {
    summary.paragraph(`**Pending** (plan hash \`${result.planHash}\`):`);
    summary.table(
      ['Version', 'Description', 'Phase'],
      result.pending.map((p) => [p.version ?? 'repeatable', p.description, p.phase ?? '—']),
    );
  } else summary.paragraph('Nothing pending.');
  if (result.lint.length > 0) {
    summary.paragraph('**Lint**');
    summary.table(
      ['', 'Rule', 'Where', 'Finding', 'Why it matters'],
      result.lint.map((f: LintFinding) => [
        f.severity === 'error' ? '❌' : '⚠️',
        f.id,
        `${f.file}:${f.line}`,
        f.message,
        f.why,
      ]),
    );
  }
  for (const note of result.validation) summary.paragraph(`ℹ️ ${note}`);
}
