import { formatDuration, type JobSummary } from '@deploy-suite/kit';
import type { LintFinding, MigrateResult, TestEvidence } from '@deploy-suite/db/migrate';

/** The `test` command's evidence at a glance. */
export function describeTest(summary: JobSummary, evidence: TestEvidence, took: string): void {
  summary.heading(`${evidence.passed ? '✅' : '❌'} Migrations tested on a scratch database`);
  summary.table(
    ['', ''],
    [
      ['Migrations', evidence.migrations],
      ['Undo files', evidence.undoFiles],
      ['Apply → undo all → apply again', evidence.appliedTwice ? 'done' : 'skipped: not every migration has a U file'],
      ['Schema after both applies', evidence.schemaMatches ? 'identical' : 'DIFFERENT'],
      ['Folder hash', evidence.folderHash],
      ['Duration', took],
    ],
  );
}

/** What plan, apply, validate, undo or baseline found or did. */
export function describeResult(summary: JobSummary, command: string, result: MigrateResult, took: string): void {
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
