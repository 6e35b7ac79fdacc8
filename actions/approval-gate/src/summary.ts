import type { ChangeRequest, GateResult, ListenResult } from '@deploy-suite/approval';
import { md, type JobSummary } from '@deploy-suite/kit';

const ICON: Record<string, string> = {
  approved: '✅',
  'pre-approved': '✅',
  environment: '✅',
  emergency: '🚨',
  pending: '⏳',
  refused: '⛔',
  denied: '⛔',
};

/** The gate's summary: the outcome, the change request, the policy's reasons, and every comment that did not count. */
export function renderGateSummary(summary: JobSummary, result: Partial<GateResult>, refusal?: string): void {
  const decision =
    refusal === undefined
      ? (result.decision ?? 'pending')
      : result.approvals?.state === 'denied'
        ? 'denied'
        : 'refused';
  summary.heading(`${ICON[decision] ?? ''} Approval gate: ${decision}`);
  if (refusal !== undefined) summary.paragraph(md(refusal));
  const rows: (string | number)[][] = [];
  if (result.request !== undefined) {
    rows.push([
      'Change request',
      `#${result.request.number} (${result.request.record.changeType} change to ${result.request.record.environment})`,
    ]);
    rows.push(['Link', result.request.url]);
  }
  if (result.evidenceHash !== undefined) rows.push(['Evidence hash', result.evidenceHash]);
  if (result.risk !== undefined) rows.push(['Risk', `${result.risk.level} (${result.risk.reasons.join('; ')})`]);
  if (result.required !== undefined && result.required > 0) rows.push(['Approvals needed', result.required]);
  if (result.approvals !== undefined) rows.push(['Approved by', result.approvals.approvers.join(', ') || '—']);
  if (result.policy?.window !== undefined) {
    rows.push(['Window', `${result.policy.window.start.toISOString()} – ${result.policy.window.end.toISOString()}`]);
  }
  if (result.policy?.nextWindowStart !== undefined)
    rows.push(['Next window', result.policy.nextWindowStart.toISOString()]);
  if (rows.length > 0) summary.table(['', ''], rows);
  if (result.policy !== undefined && result.policy.reasons.length > 0) {
    summary.heading('Policy', 3);
    summary.paragraph(result.policy.reasons.map((reason) => `- ${md(reason)}`).join('\n'));
  }
  renderIgnored(summary, result.approvals?.ignored ?? []);
}

export function renderListenSummary(summary: JobSummary, result: ListenResult): void {
  summary.heading(`Approval decision: ${result.outcome}`);
  if (result.outcome === 'ignored') {
    summary.paragraph(md(`Nothing to do: ${result.why}.`));
    return;
  }
  summary.table(
    ['', ''],
    [
      ['Change request', `#${result.request.number}`],
      ['Link', result.request.url],
      ['Evidence hash', result.request.record.evidenceHash],
      [
        'Approvals',
        `${result.decision.approvers.length} of ${result.required} (${result.decision.approvers.join(', ') || 'none'})`,
      ],
      ...('dispatched' in result ? [['Continuation dispatched', result.dispatched ? 'yes' : 'no']] : []),
    ],
  );
  renderIgnored(summary, result.decision.ignored);
}

export function renderOutcomeSummary(summary: JobSummary, request: ChangeRequest, closed: boolean): void {
  const outcome = request.record.outcome;
  summary.heading(`Change request #${request.number}: ${outcome?.result ?? 'no outcome'}`);
  summary.paragraph(
    md(closed ? `Closed: ${request.url}` : `Left open, waiting for its approval after the fact: ${request.url}`),
  );
}

function renderIgnored(
  summary: JobSummary,
  ignored: { comment: { author: { login: string } | undefined; url: string }; why: string }[],
): void {
  if (ignored.length === 0) return;
  summary.details(
    `${ignored.length} comment(s) did not count`,
    ignored
      .slice(0, 200)
      .map(
        ({ comment, why }) => `- ${md(comment.author?.login ?? 'a deleted account')}: ${md(why)} (${md(comment.url)})`,
      )
      .join('\n'),
  );
}
