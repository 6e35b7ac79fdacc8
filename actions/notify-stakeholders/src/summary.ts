import { md, type JobSummary } from '@deploy-suite/kit';
import {
  linkTarget,
  statusWord,
  type Delivery,
  type DeploymentMessage,
  type IncidentResult,
  type NotifyResult,
  type ThreadState,
} from '@deploy-suite/notify';
import type { Policy } from '@deploy-suite/policy';

const ICON = { delivered: '✅', unchanged: '➖', failed: '⚠️' } as const;

function deliveryRows(deliveries: Delivery[]): string[][] {
  return deliveries.map((d) => [ICON[d.outcome], d.channel, d.outcome, String(d.attempts), d.detail]);
}

/** What the incident step did: the issue opened or updated, or why it failed. */
export interface IncidentOutcome {
  result?: IncidentResult;
  error?: string;
}

const INCIDENT_WORDS = { opened: 'opened', updated: 'updated', unchanged: 'up to date' } as const;

/** One line on the incident, for the summary and the check run; undefined when there is none. */
export function incidentLine(incident: IncidentOutcome | undefined): string | undefined {
  if (incident?.result !== undefined) {
    const { result } = incident;
    const url = linkTarget(result.url);
    const issue = url === undefined ? `#${result.number}` : `[#${result.number}](${url})`;
    return `🚨 Incident ${issue} (${result.severity}) ${INCIDENT_WORDS[result.outcome]}: ${md(result.reason)}.`;
  }
  if (incident?.error !== undefined) return `⚠️ No incident record: ${md(incident.error)}`;
  return undefined;
}

/** The step's summary: what was said, and what each channel did with it. */
export function renderSummary(
  summary: JobSummary,
  result: NotifyResult,
  text: string,
  incident?: IncidentOutcome,
): void {
  const failed = result.deliveries.some((d) => d.outcome === 'failed');
  summary.heading(`${failed ? '⚠️' : '📣'} ${md(text)}`);
  summary.paragraph(
    md(
      `Thread ${result.thread.key}: ${result.thread.stages.map((s) => statusWord(s.status)).join(' → ')}. Severity ${result.message.severity}.`,
    ),
  );
  const line = incidentLine(incident);
  if (line !== undefined) summary.paragraph(line);
  if (result.deliveries.length === 0) {
    summary.paragraph('No configured channel is routed this stage.');
    return;
  }
  summary.table(['', 'Channel', 'Outcome', 'Attempts', 'Detail'], deliveryRows(result.deliveries));
}

/** What the check run keeping the thread shows people on the commit. */
export function threadView(
  thread: ThreadState,
  message: DeploymentMessage,
  deliveries: Delivery[],
  text: string,
  incident?: IncidentOutcome,
): { title: string; summary: string } {
  const rows = thread.stages.map((s) => `| ${statusWord(s.status)} | ${s.at} | ${s.severity} |`);
  const line = incidentLine(incident);
  const lines = [
    `**${md(text)}**`,
    '',
    ...(line === undefined ? [] : [line, '']),
    '| Stage | At | Severity |',
    '| --- | --- | --- |',
    ...rows,
    '',
    `Latest stage (${statusWord(message.status)}):`,
    '',
    '| | Channel | Outcome | Attempts | Detail |',
    '| --- | --- | --- | --- | --- |',
    ...deliveryRows(deliveries).map((row) => `| ${row.map((cell) => md(cell)).join(' | ')} |`),
  ];
  return { title: text, summary: lines.join('\n') };
}

/**
 * A planned maintenance notice must go out the policy's notice period ahead (7 days for a normal
 * change by default); a late one is still sent, with a warning saying how late.
 */
export function noticeWarning(message: DeploymentMessage, policy: Policy | undefined, now: number): string | undefined {
  if (message.status !== 'scheduled' || message.window === undefined) return undefined;
  const type = message.changeType === 'standard' ? 'standard' : 'normal';
  const noticeMs = policy?.noticeMs[type] ?? 7 * 86_400_000;
  const aheadMs = Date.parse(message.window.start) - now;
  if (aheadMs >= noticeMs) return undefined;
  const days = (ms: number) => `${Math.max(0, Math.floor(ms / 3_600_000) / 24).toFixed(1)} days`;
  return `The maintenance notice goes out ${days(aheadMs)} before the window; the policy asks for ${days(noticeMs)} for a ${type} change`;
}
