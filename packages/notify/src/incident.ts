import { createHash } from 'node:crypto';
import {
  ensureMarkedIssue,
  GitHubApiError,
  gitHubFailure,
  readStateBlock,
  tokenLogin,
  updateMarkedIssue,
  withStateBlock,
  type GitHubClient,
  type Repo,
} from '@deploy-suite/github';
import { incidentSeverity, type IncidentFacts, type IncidentSeverity } from '@deploy-suite/policy';
import { linkTarget } from './channels/github.ts';
import { markdownText, oneLine } from './escape.ts';
import { recordFacts, type IncidentRecord } from './incident-record.ts';
import { formatSeconds, secondsBetween, statusWord, type DeploymentMessage, type IncidentStatus } from './message.ts';
import type { ThreadState } from './thread.ts';

export type IncidentState = NonNullable<ThreadState['incident']>;

/** The label every incident carries; the suite lists its own incidents by it. */
export const INCIDENT_LABEL = 'incident';

/** Everything below this line in the issue is the people's: a later stage keeps it as it is. */
export const POST_MORTEM_MARK =
  '<!-- deploy-suite:post-mortem — the part below is yours; the deployment updates only the part above -->';

/** GitHub refuses issue bodies over 65,536 characters. */
const MAX_BODY = 60_000;
const MAX_TIMELINE = 200;

/** The hidden marker's key: a hash of the thread key, so a lookalike thread cannot be guessed from text. */
export function incidentKey(threadKey: string): string {
  return `incident:${createHash('sha256').update(threadKey).digest('hex').slice(0, 32)}`;
}

export interface IncidentInputs {
  /** The stage being sent, with the thread's times (withStage's message). */
  message: DeploymentMessage & { status: IncidentStatus };
  /** The thread with this stage in it (withStage's thread). */
  thread: ThreadState;
  /** The deployment record, when one was given and reads as the suite's own. */
  record: IncidentRecord | undefined;
  deploymentId: number | undefined;
  databaseRestored: boolean;
  /** incident-severity: the severity people set, over the policy's rule. */
  severityOverride: IncidentSeverity | undefined;
  changeRequest: { number: number; url: string } | undefined;
}

/** The facts the severity rule decides on: the thread's stages, the record's statuses and the inputs. */
export function incidentFacts(inputs: IncidentInputs): IncidentFacts {
  const { message, thread, record } = inputs;
  const had = (status: string) => thread.stages.some((stage) => stage.status === status);
  const fromRecord = record === undefined ? undefined : recordFacts(record);
  return {
    status: message.status,
    trafficMoved: had('switched') || had('verified') || (fromRecord?.trafficMoved ?? false),
    rolledBack: had('rolled-back') || (fromRecord?.rolledBack ?? false),
    rollbackFailed: fromRecord?.rollbackFailed ?? false,
    databaseRestored: inputs.databaseRestored,
    migrated: had('migrated') || message.planHash !== undefined || (fromRecord?.migrated ?? false),
    backedUp: had('backed-up') || message.backupId !== undefined,
  };
}

export interface IncidentAssessmentResult {
  severity: IncidentSeverity;
  reason: string;
  facts: IncidentFacts;
}

export function assessIncident(inputs: IncidentInputs): IncidentAssessmentResult {
  const facts = incidentFacts(inputs);
  const rule = incidentSeverity(facts);
  if (inputs.severityOverride === undefined || inputs.severityOverride === rule.severity) return { ...rule, facts };
  return {
    severity: inputs.severityOverride,
    reason: `set by the incident-severity input (the policy's rule gives ${rule.severity}: ${rule.reason})`,
    facts,
  };
}

export interface TimelineEntry {
  at: string;
  event: string;
  detail: string;
}

/**
 * The incident's timeline: the deployment record's opening and statuses, and the notification
 * thread's stages, merged in time order (the record first where two share a time). Plain text.
 */
export function incidentTimeline(thread: ThreadState, record: IncidentRecord | undefined): TimelineEntry[] {
  const entries: TimelineEntry[] = [];
  if (record !== undefined) {
    const { payload } = record;
    const what =
      payload.rolledBack === null
        ? `switch ${payload.service ?? 'the service'} ${payload.sha.slice(0, 12)} to ${payload.colour}${payload.previousColour === null ? '' : ` (from ${payload.previousColour})`}`
        : `roll back deployment ${payload.rolledBack} to ${payload.colour}`;
    entries.push({ at: record.createdAt, event: `deployment ${record.id} recorded`, detail: what });
    for (const status of record.statuses) {
      entries.push({
        at: status.createdAt,
        event: `deployment ${status.state.replace('_', ' ')}`,
        detail: `${status.description}${status.own ? '' : ` (posted by ${status.creator}, not the suite)`}`,
      });
    }
  }
  for (const stage of thread.stages) {
    entries.push({ at: stage.at, event: statusWord(stage.status), detail: `notified (${stage.severity})` });
  }
  return entries
    .map((entry, index) => ({ entry, index, time: Date.parse(entry.at) }))
    .sort((a, b) => a.time - b.time || a.index - b.index)
    .map(({ entry }) => entry);
}

/** 2026-11-27 10:00:00 UTC */
export function utcTime(iso: string): string {
  const time = Date.parse(iso);
  if (!Number.isFinite(time)) return iso;
  return new Date(time)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
}

/** The issue title: one line, bounded, with nothing GitHub would turn into a mention or a reference. */
export function incidentTitle(message: DeploymentMessage, severity: IncidentSeverity): string {
  const what = message.version ?? message.sha?.slice(0, 7);
  const text = `[${severity}] ${message.environment}: ${message.service}${what === undefined ? '' : ` ${what}`} ${statusWord(message.status)}`;
  return oneLine(text, 250).replace(/([@#])/g, '$1\u200b');
}

/** Free text kept as lines, each escaped. */
function textLines(text: string, max: number): string {
  const lines = text
    .split(/\r?\n|\r/)
    .map((line) => markdownText(line))
    .join('  \n');
  return lines.length > max ? `${lines.slice(0, max).replace(/\\+$/, '')}…` : lines;
}

const cell = (text: string) => markdownText(text.slice(0, 500));

/**
 * The part of the issue the deployment keeps up to date: summary, impact, timeline and the
 * engineers' details. Every value that came from a person or a remote is escaped with
 * markdownText (no markup, no HTML, no @mention or #reference); links only as http(s).
 */
export function renderIncidentHead(inputs: IncidentInputs, assessed: IncidentAssessmentResult): string {
  const { message, thread, record } = inputs;
  const rows: [string, string][] = [
    ['Severity', `**${assessed.severity}** — ${cell(assessed.reason)}`],
    ['Environment', cell(message.environment)],
    ['Service', cell(message.service)],
  ];
  if (message.version !== undefined) rows.push(['Version', cell(message.version)]);
  if (message.sha !== undefined) rows.push(['Commit', cell(message.sha)]);
  rows.push(['Status', cell(statusWord(message.status))]);
  rows.push(['Started', cell(utcTime(thread.startedAt))]);
  const run = message.runUrl === undefined ? undefined : linkTarget(message.runUrl);
  if (run !== undefined) rows.push(['Workflow run', `[run](${run})`]);
  if (inputs.changeRequest !== undefined) {
    const url = linkTarget(inputs.changeRequest.url);
    rows.push([
      'Change request',
      url === undefined
        ? cell(String(inputs.changeRequest.number))
        : `[change request ${inputs.changeRequest.number}](${url})`,
    ]);
  }
  if (message.changeType !== undefined) rows.push(['Change type', cell(message.changeType)]);
  if (message.backupId !== undefined) rows.push(['Backup', cell(message.backupId)]);
  if (message.planHash !== undefined) rows.push(['Plan hash', cell(message.planHash)]);
  if (inputs.deploymentId !== undefined) {
    rows.push([
      'Deployment record',
      record === undefined ? `${inputs.deploymentId} (not read: see the run's warnings)` : String(record.id),
    ]);
  }
  if (message.approvers.length > 0) rows.push(['Approved by', cell(message.approvers.join(', '))]);

  const parts = [
    `## ${message.status === 'rolled-back' ? '↩️' : '🔥'} ${cell(incidentTitle(message, assessed.severity))}`,
    `A production deployment ${statusWord(message.status)}: this issue is its incident record. The deployment keeps the summary, impact and timeline up to date; the post-mortem below is for people.`,
    ['| | |', '| --- | --- |', ...rows.map(([label, value]) => `| ${label} | ${value} |`)].join('\n'),
    `### Impact\n\n${impactLines(inputs, assessed)
      .map((line) => `- ${line}`)
      .join('\n')}`,
    `### Timeline\n\n${timelineTable(thread, record)}`,
  ];
  if (message.details !== undefined && message.details.trim() !== '') {
    parts.push(`### Details\n\n${textLines(message.details, 8000)}`);
  }
  return parts.join('\n\n');
}

function impactLines(inputs: IncidentInputs, assessed: IncidentAssessmentResult): string[] {
  const { message, thread } = inputs;
  const { facts } = assessed;
  const at = (status: string) => thread.stages.find((stage) => stage.status === status)?.at;
  const lines: string[] = [];
  if (facts.databaseRestored) {
    lines.push(
      `Data written after the pre-deploy backup${message.backupId === undefined ? '' : ` ${cell(message.backupId)}`} was taken is lost: the database was restored from it.`,
    );
  }
  if (facts.rollbackFailed) lines.push('A rollback was tried and failed: production may still run the failed release.');
  if (facts.rolledBack || message.status === 'rolled-back') {
    const served = secondsBetween(at('switched'), at('rolled-back'));
    lines.push(
      `Users were served by the failed release until it was rolled back${served === undefined ? '' : ` (about ${formatSeconds(served)})`}.`,
    );
  } else if (facts.trafficMoved) {
    lines.push('Users are served by the failed release: no rollback has succeeded.');
  } else {
    lines.push('No user traffic reached the failed release.');
  }
  if (facts.migrated) {
    lines.push(
      `Migrations ran${message.planHash === undefined ? '' : ` (plan ${cell(message.planHash)})`}: check that the schema still serves the live release.`,
    );
  }
  if (message.impact !== undefined && message.impact.trim() !== '') {
    lines.push(`The change's stated impact: ${cell(message.impact)}`);
  }
  return lines;
}

function timelineTable(thread: ThreadState, record: IncidentRecord | undefined): string {
  const entries = incidentTimeline(thread, record);
  const shown = entries.slice(-MAX_TIMELINE);
  const rows = shown.map((entry) => `| ${cell(utcTime(entry.at))} | ${cell(entry.event)} | ${cell(entry.detail)} |`);
  const omitted = entries.length - shown.length;
  return [
    '| Time (UTC) | Event | Detail |',
    '| --- | --- | --- |',
    ...(omitted > 0 ? [`| | | ${omitted} earlier events left out |`] : []),
    ...rows,
  ].join('\n');
}

/** The post-mortem the people fill in: written once, when the issue is opened, and never overwritten. */
export function postMortemTemplate(): string {
  return [
    POST_MORTEM_MARK,
    '',
    '## Post-mortem',
    '',
    '> Blameless. Fill this in within five working days of the incident.',
    '',
    '### Summary',
    '',
    '_What happened, in two or three sentences._',
    '',
    '### Impact',
    '',
    '_Who was affected, for how long and how much: failed requests, data lost, error budget spent._',
    '',
    '### Detection',
    '',
    '_How it was found (an alert, a smoke test, a user) and how long after it began._',
    '',
    '### Root cause (5 whys)',
    '',
    '1. Why did the deployment fail?',
    '2. Why?',
    '3. Why?',
    '4. Why?',
    '5. Why?',
    '',
    '### What went well',
    '',
    '- ',
    '',
    '### What went badly',
    '',
    '- ',
    '',
    '### Action items',
    '',
    '| Action | Owner | Due date | Tracking issue |',
    '| --- | --- | --- | --- |',
    '| _e.g. a smoke test for the failed path_ | _login_ | _YYYY-MM-DD_ | |',
    '',
  ].join('\n');
}

/** The body: the deployment's part, then the people's part as the issue holds it (or the template). */
export function incidentBody(head: string, current: string | undefined): string {
  const at = current?.indexOf(POST_MORTEM_MARK) ?? -1;
  const tail = current !== undefined && at >= 0 ? current.slice(at) : postMortemTemplate();
  const room = MAX_BODY - tail.length - 400;
  const fitted = head.length > room ? `${head.slice(0, Math.max(0, room)).replace(/\\+$/, '')}…` : head;
  return `${fitted}\n\n---\n\n${tail}`;
}

/** The labels: incident, severity:Pn and the extra ones, without duplicates. */
export function incidentLabels(severity: IncidentSeverity, extra: readonly string[]): string[] {
  return [...new Set([INCIDENT_LABEL, `severity:${severity}`, ...extra])];
}

const SEVERITY_LABEL = /^severity:P[1-4]$/i;

export interface IncidentOptions extends IncidentInputs {
  octokit: GitHubClient;
  repo: Repo;
  /** Extra labels besides incident and severity:Pn. */
  labels: readonly string[];
  /** The login the token acts as; default asked of GitHub, else appBot. */
  login?: string;
  /** The bot an installation token acts as; default github-actions[bot]. */
  appBot?: string;
}

export interface IncidentResult {
  outcome: 'opened' | 'updated' | 'unchanged';
  number: number;
  url: string;
  severity: IncidentSeverity;
  reason: string;
  /** One line for people: what was done, and why a number read back was not used. */
  detail: string;
  state: IncidentState;
}

interface IssueView {
  number: number;
  url: string;
  title: string;
  body: string;
  labels: string[];
}

/**
 * Opens the thread's incident issue, or brings it up to date: once per thread. The number kept in
 * the thread is used only when it is an issue on this repository, opened by the token's own login
 * and carrying this thread's marker; anything else (an edited thread, someone's issue, another
 * repository) is left alone, and the thread's own issue is found by its marker or opened anew. A
 * later stage rewrites the summary, impact and timeline and the severity label, and keeps the
 * post-mortem people wrote.
 */
export async function openIncident(options: IncidentOptions): Promise<IncidentResult> {
  const { octokit, repo } = options;
  const fullName = `${repo.owner}/${repo.repo}`;
  const login = options.login ?? (await tokenLogin(octokit, options.appBot ?? 'github-actions[bot]'));
  const assessed = assessIncident(options);
  const key = incidentKey(options.thread.key);
  const data = { severity: assessed.severity };
  const title = incidentTitle(options.message, assessed.severity);
  const head = renderIncidentHead(options, assessed);
  const labels = incidentLabels(assessed.severity, options.labels);
  const result = (outcome: IncidentResult['outcome'], issue: { number: number; url: string }, detail: string) => ({
    outcome,
    number: issue.number,
    url: issue.url,
    severity: assessed.severity,
    reason: assessed.reason,
    detail,
    state: { number: issue.number, repository: fullName, severity: assessed.severity },
  });

  let note = '';
  const kept = options.thread.incident;
  let own: IssueView | undefined;
  if (kept !== undefined) {
    if (kept.repository.toLowerCase() !== fullName.toLowerCase()) {
      note = `the thread named issue ${kept.number} of another repository, left alone; `;
    } else {
      own = await ownIssue(octokit, repo, kept.number, login, key);
      if (own === undefined) note = `issue ${kept.number} is gone or not this thread's own incident, left alone; `;
    }
  }
  if (own === undefined) {
    const { issue, created } = await ensureMarkedIssue(
      octokit,
      repo,
      { label: INCIDENT_LABEL, key, author: login },
      { title, body: incidentBody(head, undefined), data, labels },
    ).catch((error: unknown) => {
      throw withPermissionHint(error);
    });
    if (created) return result('opened', issue, `${note}opened incident ${fullName}#${issue.number}`);
    own = { number: issue.number, url: issue.url, title: issue.title, body: issue.body, labels: issue.labels };
    note += `found incident ${issue.number} by its marker; `;
  }

  const body = incidentBody(head, own.body);
  const nextLabels = [
    ...own.labels.filter((label) => !SEVERITY_LABEL.test(label) && !labels.includes(label)),
    ...labels,
  ];
  const full = withStateBlock(body, key, data);
  if (full === own.body && title === own.title && sameSet(nextLabels, own.labels)) {
    return result('unchanged', own, `${note}incident ${fullName}#${own.number} already says this`);
  }
  const updated = await updateMarkedIssue(octokit, repo, own.number, key, {
    data,
    body,
    title,
    labels: nextLabels,
  }).catch((error: unknown) => {
    throw withPermissionHint(error);
  });
  return result(
    'updated',
    { number: updated.number, url: updated.url },
    `${note}updated incident ${fullName}#${own.number}`,
  );
}

/**
 * Issue `number` when it is this thread's own incident on this repository: opened by `login`,
 * not a pull request, on this repository, with the thread's marker. Undefined otherwise (or gone).
 */
async function ownIssue(
  octokit: GitHubClient,
  repo: Repo,
  number: number,
  login: string,
  key: string,
): Promise<IssueView | undefined> {
  let data;
  try {
    ({ data } = await octokit.rest.issues.get({ ...repo, issue_number: number }));
  } catch (error) {
    const failed = withPermissionHint(
      gitHubFailure(error, { doing: `reading issue ${repo.owner}/${repo.repo}#${number}` }),
    );
    if (failed instanceof GitHubApiError && (failed.status === 404 || failed.status === 410)) return undefined;
    throw failed;
  }
  const onRepo = (data.repository_url ?? '').toLowerCase().endsWith(`/repos/${repo.owner}/${repo.repo}`.toLowerCase());
  const mine = data.user?.login === login;
  const marked = readStateBlock(data.body)?.key === key;
  if (!onRepo || !mine || !marked || data.pull_request !== undefined || data.number !== number) return undefined;
  return {
    number: data.number,
    url: data.html_url,
    title: data.title,
    body: data.body ?? '',
    labels: data.labels.map((label) => (typeof label === 'string' ? label : (label.name ?? ''))),
  };
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item) => b.includes(item));
}

/** A 403 on an issue says which permission the incident needs. */
function withPermissionHint(error: unknown): unknown {
  if (error instanceof GitHubApiError && error.status === 403 && !/issues: write/.test(error.message)) {
    return new GitHubApiError(
      `${error.message} The incident needs "issues: write" in the workflow's "permissions:" block.`,
      error.status,
      { cause: error },
    );
  }
  return error;
}
