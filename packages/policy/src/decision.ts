import { approvalsFor } from './risk.ts';
import { CHANGE_TYPES, type ChangeType, type Freeze, type Policy, type RiskLevel } from './policy.ts';
import { freezeAt, freezeDuring, nextWindowStart, windowAt, windowsFrom, type WindowOccurrence } from './windows.ts';
import { formatDate, formatZoned } from './zoned.ts';

/** What lets an emergency be undone; each part counts only when confirmed, not merely named. */
export interface RollbackPlan {
  /** A backup whose restore was verified (db-backup's output). */
  backupId?: string;
  backupVerified?: boolean;
  /** The colour that served before the switch, and whether it is still running. */
  previousColour?: string;
  previousColourRunning?: boolean;
}

export interface ChangeRequest {
  /** Typed loosely on purpose: a value read from an input or a record is checked here too. */
  type: ChangeType | (string & {});
  /** When the change request was opened; the notice period counts from here. */
  openedAt: Date;
  rollbackPlan?: RollbackPlan;
  /** The assessed risk; without one, approvals are counted as for high risk. */
  risk?: RiskLevel;
}

/** A rule an emergency went past, kept for the change record. */
export interface Bypass {
  rule: 'window' | 'freeze';
  detail: string;
}

export interface ApprovalRequirement {
  count: number;
  /** Before the deploy (normal), after it (emergency), or none (standard: pre-approved). */
  when: 'before' | 'after' | 'none';
}

interface DecisionCommon {
  /** Every reason behind the outcome, in words fit for a job summary. */
  reasons: string[];
  bypassed: Bypass[];
  approvals: ApprovalRequirement;
  /** The window the change runs in (allowed) or waits for (wait). */
  window?: WindowOccurrence;
  /** The start of the next window this change could use, when one is within reach. */
  nextWindowStart?: Date;
}

export type Decision = DecisionCommon &
  ({ outcome: 'allowed' } | { outcome: 'wait'; until: Date } | { outcome: 'refused' });

const NO_APPROVALS: ApprovalRequirement = { count: 0, when: 'none' };

/**
 * Whether a change may run now, must wait until a window opens, or is refused — with every
 * reason. Anything that cannot be decided (an invalid time, an unknown type, a request opened
 * in the future, no usable window within reach) is a refusal.
 */
export function decideChange(policy: Policy, request: ChangeRequest, now: Date): Decision {
  const invalid: string[] = [];
  if (!isValidDate(now)) invalid.push('the current time is not a valid date');
  if (!isValidDate(request.openedAt)) invalid.push("the change request's opening time is not a valid date");
  if (!(CHANGE_TYPES as readonly string[]).includes(request.type)) {
    invalid.push(`unknown change type "${request.type}" (expected ${CHANGE_TYPES.join(', ')})`);
  }
  if (invalid.length === 0 && request.openedAt.getTime() > now.getTime()) {
    invalid.push(`the change request was opened after the current time (${request.openedAt.toISOString()})`);
  }
  if (invalid.length > 0) return { outcome: 'refused', reasons: invalid, bypassed: [], approvals: NO_APPROVALS };

  const type = request.type as ChangeType;
  const reasons: string[] = [];
  let approvals = NO_APPROVALS;
  if (type !== 'standard') {
    if (request.risk === undefined) reasons.push('risk not assessed: approvals counted as for high risk');
    approvals = { count: approvalsFor(request.risk ?? 'high', policy), when: type === 'normal' ? 'before' : 'after' };
  }
  return type === 'emergency'
    ? decideEmergency(policy, request, now, reasons, approvals)
    : decidePlanned(policy, type, request, now, reasons, approvals);
}

function decideEmergency(
  policy: Policy,
  request: ChangeRequest,
  now: Date,
  reasons: string[],
  approvals: ApprovalRequirement,
): Decision {
  const plan = request.rollbackPlan ?? {};
  const missing: string[] = [];
  for (const item of policy.emergencyRollback) {
    if (item === 'verified-backup') {
      if (isBlank(plan.backupId)) missing.push('no backup id');
      else if (plan.backupVerified !== true) missing.push(`backup ${plan.backupId} is not verified`);
      else reasons.push(`rollback: backup ${plan.backupId}, verified`);
    } else {
      if (isBlank(plan.previousColour)) missing.push('no previous colour');
      else if (plan.previousColourRunning !== true)
        missing.push(`previous colour ${plan.previousColour} is not running`);
      else reasons.push(`rollback: previous colour ${plan.previousColour} still running`);
    }
  }
  const next = nextWindowStart(policy, now);
  if (missing.length > 0) {
    const refusals = missing.map((problem) => `emergency change refused, rollback plan incomplete: ${problem}`);
    return { outcome: 'refused', reasons: [...refusals, ...reasons], bypassed: [], approvals, nextWindowStart: next };
  }

  const bypassed: Bypass[] = [];
  const window = windowAt(policy, now);
  if (window === undefined) {
    const when =
      next === undefined ? 'none within reach' : `next opens ${formatZoned(next.getTime(), policy.timeZone)}`;
    bypassed.push({ rule: 'window', detail: `outside every maintenance window (${when})` });
  }
  const freeze = freezeAt(policy, now);
  if (freeze !== undefined) bypassed.push({ rule: 'freeze', detail: `inside the freeze ${describeFreeze(freeze)}` });
  reasons.unshift('emergency change with a complete rollback plan: deploy now, approve afterwards');
  for (const bypass of bypassed) reasons.push(`bypassed ${bypass.rule}: ${bypass.detail}`);
  return {
    outcome: 'allowed',
    reasons,
    bypassed,
    approvals,
    ...(window === undefined ? {} : { window }),
    ...(next === undefined ? {} : { nextWindowStart: next }),
  };
}

function decidePlanned(
  policy: Policy,
  type: Exclude<ChangeType, 'emergency'>,
  request: ChangeRequest,
  now: Date,
  reasons: string[],
  approvals: ApprovalRequirement,
): Decision {
  const noticeMs = policy.noticeMs[type];
  // A notice of zero asks for none: a request opened inside the window may use it.
  const noticeMissing = (window: WindowOccurrence) =>
    noticeMs > 0 && window.start.getTime() - request.openedAt.getTime() < noticeMs;
  const notice = `${formatSpan(noticeMs)} notice`;

  const current = windowAt(policy, now, type);
  if (current === undefined) {
    reasons.push(`outside every maintenance window ${type} changes may use`);
    const freeze = freezeAt(policy, now);
    if (freeze !== undefined) reasons.push(`inside the freeze ${describeFreeze(freeze)}`);
  } else {
    const freeze = freezeDuring(policy, current);
    const lacksNotice = noticeMissing(current);
    if (freeze !== undefined)
      reasons.push(`window ${describeWindow(policy, current)} is frozen: ${describeFreeze(freeze)}`);
    if (lacksNotice)
      reasons.push(`window ${describeWindow(policy, current)} lacks ${notice}: ${openedBefore(request, current)}`);
    if (freeze === undefined && !lacksNotice) {
      reasons.unshift(
        `${type} change inside window ${describeWindow(policy, current)}`,
        noticeMs === 0 ? 'the policy asks no notice' : `${notice} met: ${openedBefore(request, current)}`,
      );
      return { outcome: 'allowed', reasons, bypassed: [], approvals, window: current };
    }
  }

  // The first later window that is neither frozen nor too soon for the notice period.
  let frozenSkipped = 0;
  let noticeSkipped = 0;
  let usable: WindowOccurrence | undefined;
  for (const window of windowsFrom(policy, now, type)) {
    if (window.start.getTime() < now.getTime()) continue;
    if (freezeDuring(policy, window) !== undefined) frozenSkipped++;
    else if (noticeMissing(window)) noticeSkipped++;
    else {
      usable = window;
      break;
    }
  }
  if (frozenSkipped > 0) reasons.push(`${frozenSkipped} later window(s) skipped: inside a freeze`);
  if (noticeSkipped > 0)
    reasons.push(`${noticeSkipped} later window(s) skipped: less than ${notice} after the request`);
  if (usable === undefined) {
    reasons.push('no usable maintenance window within reach: refused');
    return { outcome: 'refused', reasons, bypassed: [], approvals };
  }

  const opens = `next usable window ${describeWindow(policy, usable)}`;
  if (policy.outsideWindow[type] === 'wait') {
    reasons.push(`${type} changes wait outside a window: ${opens}`);
    return {
      outcome: 'wait',
      until: usable.start,
      reasons,
      bypassed: [],
      approvals,
      window: usable,
      nextWindowStart: usable.start,
    };
  }
  reasons.push(`${type} changes fail outside a window: ${opens}`);
  return { outcome: 'refused', reasons, bypassed: [], approvals, nextWindowStart: usable.start };
}

function describeWindow(policy: Policy, window: WindowOccurrence): string {
  const start = formatZoned(window.start.getTime(), policy.timeZone);
  const end = formatZoned(window.end.getTime(), policy.timeZone);
  return `"${window.rule.label}" ${start} – ${end} (${window.start.toISOString()})`;
}

function describeFreeze(freeze: Freeze): string {
  const range =
    freeze.kind === 'dates'
      ? `${formatDate(freeze.from)} to ${formatDate(freeze.to)}`
      : `every ${monthDay(freeze.from)} to ${monthDay(freeze.to)}`;
  return `"${freeze.reason}" (${range})`;
}

function monthDay(date: { month: number; day: number }): string {
  return `${String(date.month).padStart(2, '0')}-${String(date.day).padStart(2, '0')}`;
}

function openedBefore(request: ChangeRequest, window: WindowOccurrence): string {
  const lead = window.start.getTime() - request.openedAt.getTime();
  return `request opened ${formatSpan(lead)} before the window`;
}

/** "7d", "2d 3h", "45m": a span as a person reads it. */
export function formatSpan(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  const parts = [
    [Math.floor(minutes / 1440), 'd'],
    [Math.floor((minutes % 1440) / 60), 'h'],
    [minutes % 60, 'm'],
  ] as const;
  const shown = parts.filter(([value]) => value > 0).map(([value, unit]) => `${value}${unit}`);
  return shown.length === 0 ? '0m' : shown.join(' ');
}

function isValidDate(value: unknown): value is Date {
  return value instanceof Date && Number.isFinite(value.getTime());
}

function isBlank(value: string | undefined): value is undefined {
  return value === undefined || value.trim() === '';
}
