import { md, type JobSummary } from '@deploy-suite/kit';
import { describeWeights } from '@deploy-suite/router';
import type { StatusResult, SwitchResult } from '@deploy-suite/switch';

export function renderSwitchSummary(
  summary: JobSummary,
  command: string,
  result: Partial<SwitchResult>,
  failure?: string,
): void {
  const verb = command === 'rollback' ? 'Rollback' : 'Switch';
  const outcome = failure !== undefined ? '❌ failed' : result.switched ? '✅ done' : '➖ nothing to do';
  summary.heading(`${verb}: ${outcome}`);
  if (failure !== undefined) summary.paragraph(md(failure));
  const rows: (string | number)[][] = [];
  if (result.before !== undefined)
    rows.push(['Before', `${describeWeights(result.before.weights) || 'unknown'} (${result.before.detail})`]);
  if (result.after !== undefined)
    rows.push(['After (read back)', `${describeWeights(result.after.weights) || 'unknown'} (${result.after.detail})`]);
  if (result.deploymentId !== undefined) rows.push(['Deployment record', result.deploymentId]);
  for (const timing of result.timings ?? [])
    rows.push([timing.step, `${(timing.ms / 1000).toFixed(2)} s after the start`]);
  if (rows.length > 0) summary.table(['', ''], rows);
  if ((result.notes ?? []).length > 0)
    summary.paragraph((result.notes ?? []).map((note) => `- ${md(note)}`).join('\n'));
}

export function renderStatusSummary(summary: JobSummary, result: StatusResult): void {
  summary.heading(`Live: ${result.state.live ?? 'split or unknown'}`);
  summary.table(
    ['', ''],
    [
      ['Router', result.state.detail],
      ['Weights', describeWeights(result.state.weights) || 'unknown'],
      ['Deployment record', result.record?.id ?? 'none'],
      ['Rollback window', `${result.rollbackWindow}: ${result.why}`],
    ],
  );
}
