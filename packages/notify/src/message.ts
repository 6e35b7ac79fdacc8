import { z } from 'zod';

/**
 * The stages a deployment goes through, in order, and how it ends. `scheduled` is a planned
 * maintenance notice sent ahead of the window; `warning` is a stage that passed with a warning
 * (an error rate above the policy's 1%).
 */
export const STATUSES = [
  'scheduled',
  'started',
  'approved',
  'backed-up',
  'migrated',
  'switched',
  'verified',
  'warning',
  'succeeded',
  'failed',
  'rolled-back',
] as const;
export type Status = (typeof STATUSES)[number];

/** Statuses that end a deployment's thread: Grafana's region closes, PagerDuty resolves or pages. */
export const FINAL_STATUSES: readonly Status[] = ['succeeded', 'failed', 'rolled-back'];

/** PagerDuty's severities, which the routing policy also matches on. */
export const SEVERITIES = ['info', 'warning', 'error', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const AUDIENCES = ['stakeholders', 'engineers'] as const;
export type Audience = (typeof AUDIENCES)[number];

export interface Link {
  label: string;
  url: string;
}

/**
 * What one notification says, as typed fields; each channel renders them with its own escaping,
 * so a quote, a newline or a mention in a PR title can neither break a payload nor ping anyone.
 * Every text field may hold anything a user typed.
 */
export interface DeploymentMessage {
  service: string;
  environment: string;
  version: string | undefined;
  sha: string | undefined;
  status: Status;
  severity: Severity;
  changeType: string | undefined;
  /** A headline a person wrote (a PR title, a release name). */
  title: string | undefined;
  /** What the change does to users, for stakeholders. */
  impact: string | undefined;
  /** Engineers' details for this stage (the thread reply). */
  details: string | undefined;
  approvers: string[];
  backupId: string | undefined;
  planHash: string | undefined;
  smokeVerdict: 'pass' | 'warn' | 'fail' | undefined;
  links: Link[];
  /** When this stage happened (ISO). */
  at: string;
  /** When the thread began (ISO), for the deployment's total duration. */
  startedAt: string;
  /** A planned maintenance window (status `scheduled`). */
  window: { start: string; end: string } | undefined;
  repository: string | undefined;
  runUrl: string | undefined;
}

const STATUS_WORDS: Record<Status, string> = {
  scheduled: 'scheduled',
  started: 'started',
  approved: 'approved',
  'backed-up': 'backed up',
  migrated: 'migrated',
  switched: 'switched',
  verified: 'verified',
  warning: 'needs attention',
  succeeded: 'succeeded',
  failed: 'failed',
  'rolled-back': 'rolled back',
};

export function statusWord(status: Status): string {
  return STATUS_WORDS[status];
}

/** Whether an environment is production, as the suite names it: prod or production, in any case. */
export function isProduction(environment: string): boolean {
  return /^prod(uction)?$/i.test(environment);
}

/** The statuses that end a production deployment badly and open an incident. */
export const INCIDENT_STATUSES = ['failed', 'rolled-back'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

/** Whether a stage opens (or updates) an incident: a failure or a rollback in production. */
export function isIncident(status: Status, environment: string): status is IncidentStatus {
  return (INCIDENT_STATUSES as readonly string[]).includes(status) && isProduction(environment);
}

/**
 * The severity the operations policy gives a status: a failure in production is critical (paged),
 * a failure elsewhere or a rollback an error, a warning (error rate above 1%) a warning.
 */
export function severityOf(status: Status, environment: string, smokeVerdict?: 'pass' | 'warn' | 'fail'): Severity {
  const production = isProduction(environment);
  if (status === 'failed') return production ? 'critical' : 'error';
  if (status === 'rolled-back') return 'error';
  if (status === 'warning' || smokeVerdict === 'warn') return 'warning';
  if (smokeVerdict === 'fail') return production ? 'critical' : 'error';
  return 'info';
}

/** The one-line headline every channel shows, as plain text (each channel escapes it). */
export function headline(message: DeploymentMessage): string {
  const what = message.version ?? (message.sha === undefined ? undefined : message.sha.slice(0, 7));
  const subject = `${message.service}${what === undefined ? '' : ` ${what}`}`;
  if (message.status === 'scheduled' && message.window !== undefined) {
    return `Planned maintenance: ${subject} to ${message.environment} on ${message.window.start}`;
  }
  return `Deployment of ${subject} to ${message.environment} ${statusWord(message.status)}`;
}

/** Whole seconds between two ISO times, or undefined when either is missing. */
export function secondsBetween(from: string | undefined, to: string | undefined): number | undefined {
  if (from === undefined || to === undefined) return undefined;
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) && ms >= 0 ? Math.round(ms / 1000) : undefined;
}

/** 1h 2m 3s */
export function formatSeconds(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return [h ? `${h}h` : '', m ? `${m}m` : '', s || (!h && !m) ? `${s}s` : ''].filter(Boolean).join(' ');
}

/**
 * The fields as label/value pairs in display order, plain text, for channels that show a table
 * (Slack fields, a Teams FactSet, an email table). Empty fields are left out.
 */
export function facts(message: DeploymentMessage, audience: Audience): { label: string; value: string }[] {
  const rows: [string, string | undefined][] = [
    ['Service', message.service],
    ['Environment', message.environment],
    ['Status', statusWord(message.status)],
    ['Version', message.version],
    ['Commit', message.sha?.slice(0, 12)],
    ['Change type', message.changeType],
    ['Window', message.window ? `${message.window.start} – ${message.window.end}` : undefined],
    ['Impact', message.impact],
  ];
  const total = secondsBetween(message.startedAt, message.at);
  if (total !== undefined && message.status !== 'scheduled') rows.push(['Duration so far', formatSeconds(total)]);
  if (audience === 'engineers' || message.approvers.length > 0) {
    rows.push(['Approved by', message.approvers.length > 0 ? message.approvers.join(', ') : undefined]);
  }
  if (audience === 'engineers') {
    rows.push(['Severity', message.severity]);
    rows.push(['Backup', message.backupId]);
    rows.push(['Plan hash', message.planHash]);
    rows.push(['Smoke verdict', message.smokeVerdict]);
  }
  return rows
    .filter((row): row is [string, string] => row[1] !== undefined && row[1] !== '')
    .map(([label, value]) => ({ label, value }));
}

/** Every link the message carries, the run's own first. */
export function allLinks(message: DeploymentMessage): Link[] {
  const links = message.runUrl === undefined ? [] : [{ label: 'Workflow run', url: message.runUrl }];
  return [...links, ...message.links.filter((link) => link.url !== message.runUrl)];
}

/** A message's fields as a JSON-ready object (the generic webhook's body, the template's names). */
export function messageFields(message: DeploymentMessage): Record<string, unknown> {
  return {
    service: message.service,
    environment: message.environment,
    version: message.version ?? null,
    sha: message.sha ?? null,
    status: message.status,
    severity: message.severity,
    changeType: message.changeType ?? null,
    title: message.title ?? null,
    impact: message.impact ?? null,
    details: message.details ?? null,
    approvers: message.approvers,
    backupId: message.backupId ?? null,
    planHash: message.planHash ?? null,
    smokeVerdict: message.smokeVerdict ?? null,
    links: allLinks(message),
    at: message.at,
    startedAt: message.startedAt,
    window: message.window ?? null,
    repository: message.repository ?? null,
    runUrl: message.runUrl ?? null,
  };
}

export const linkSchema = z.strictObject({ label: z.string().min(1).max(100), url: z.url({ protocol: /^https?$/ }) });
