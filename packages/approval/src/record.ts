import { readStateBlock, withStateBlock } from '@deploy-suite/github';
import { ConfigurationError } from '@deploy-suite/kit';
import { CHANGE_TYPES, RISK_LEVELS } from '@deploy-suite/policy';
import { z } from 'zod';
import { EVIDENCE_HASH } from './evidence.ts';

export const RECORD_VERSION = 1;

/**
 * requested → approved (or denied) → executed (or failed). An emergency is approved for running
 * at once, and its post-approval is tracked apart (postApproval) until people approve it.
 */
export const CHANGE_STATES = ['requested', 'approved', 'denied', 'executed', 'failed', 'closed'] as const;
export const POST_APPROVAL_STATES = ['required', 'approved', 'denied'] as const;
export type ChangeState = (typeof CHANGE_STATES)[number];

const hash = z.string().regex(EVIDENCE_HASH, 'must be sha256:<64 lowercase hex digits>');
const text = (max: number) => z.string().max(max);

/**
 * The change request record, version 1: what the machine-readable block of the change request
 * issue holds. Strict: a key this version does not know is refused, not dropped, so a block
 * that was tampered with or written by something else does not pass as ours.
 */
export const changeRecordV1 = z.strictObject({
  version: z.literal(1),
  changeType: z.enum(CHANGE_TYPES),
  environment: z.string().min(1).max(100),
  risk: z.strictObject({ level: z.enum(RISK_LEVELS), reasons: z.array(text(500)).max(50) }),
  sha: z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, 'must be a full commit SHA (40 or 64 lowercase hex digits)'),
  compareUrl: z
    .url({ protocol: /^https?$/ })
    .max(2000)
    .nullable(),
  artifactDigest: text(200).nullable(),
  planHash: text(200).nullable(),
  evidenceHash: hash,
  rollbackPlan: text(4000).nullable(),
  checklistEvidenceHash: hash.nullable(),
  state: z.enum(CHANGE_STATES),
  /** How the change was let through: approvals, pre-approval, an environment's reviewers, or an emergency. */
  approvedBy: z
    .strictObject({
      how: z.enum(['approvals', 'standard', 'environment', 'emergency']),
      approvers: z.array(z.string().max(100)).max(100),
      decisionUrl: z
        .url({ protocol: /^https?$/ })
        .max(2000)
        .nullable(),
      at: z.iso.datetime({ offset: true }),
    })
    .nullable(),
  /** The maintenance window the change runs in, or the one it waits for. */
  window: z.strictObject({ start: z.iso.datetime({ offset: true }), end: z.iso.datetime({ offset: true }) }).nullable(),
  /** The rules an emergency went past (windows, freezes), as they were recorded. */
  bypassed: z.array(text(500)).max(20),
  /** An emergency's approval after the fact; null for every other change. */
  postApproval: z.enum(POST_APPROVAL_STATES).nullable(),
  /**
   * Who may not approve this change (its author, the actors of the runs that requested it), so
   * that the decision listener, which runs on someone else's comment, excludes them too. Only ever
   * grows: a re-run adds its actors.
   */
  excluded: z.array(z.strictObject({ login: z.string().min(1).max(100), why: text(100) })).max(20),
  /** Approvals the gate asked for (its input and the policy for the assessed risk), for the listener to ask as many. */
  requiredApprovals: z.number().int().min(0).max(100),
  outcome: z
    .strictObject({
      result: z.enum(['succeeded', 'failed', 'rolled-back']),
      at: z.iso.datetime({ offset: true }),
      runUrl: z
        .url({ protocol: /^https?$/ })
        .max(2000)
        .optional(),
      detail: text(2000).optional(),
    })
    .nullable(),
});

export type ChangeRecord = z.infer<typeof changeRecordV1>;

/** The change request's block could not be read: missing, not ours, tampered with, or from an unknown version. */
export class ChangeRecordError extends ConfigurationError {
  override name = 'ChangeRecordError';
}

/** Checks a record before it is written, so a bug never writes a block that would not read back. */
export function validateChangeRecord(record: ChangeRecord): ChangeRecord {
  const parsed = changeRecordV1.safeParse(record);
  if (!parsed.success) throw new Error(`change record does not match its schema: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}

/** Text shown in Markdown with nothing in it that renders: HTML, links, emphasis, table pipes. */
export function markdownText(value: string): string {
  return value.replace(/[\\`*_{}[\]()<>#+!|~&]/g, (c) => `\\${c}`).replace(/\r?\n/g, ' ');
}

const code = (value: string | null) => (value === null ? '—' : `\`${value.replace(/`/g, "'")}\``);

/** The issue body: a summary a person can read, then the block later steps read. */
export function renderChangeRequest(record: ChangeRecord, key: string): string {
  const checked = validateChangeRecord(record);
  const lines = [
    `## ${markdownText(checked.changeType)} change to ${markdownText(checked.environment)}`,
    '',
    `| | |`,
    `| --- | --- |`,
    `| State | **${checked.state}** |`,
    `| Commit | ${code(checked.sha)}${checked.compareUrl === null ? '' : ` ([compare](${encodeURI(checked.compareUrl)}))`} |`,
    `| Artifact digest | ${code(checked.artifactDigest)} |`,
    `| Migration plan hash | ${code(checked.planHash)} |`,
    `| Checklist evidence | ${code(checked.checklistEvidenceHash)} |`,
    `| Evidence hash | ${code(checked.evidenceHash)} |`,
    ...(checked.window === null ? [] : [`| Window | ${checked.window.start} – ${checked.window.end} |`]),
    ...(checked.approvedBy === null ? [] : [`| Let through by | ${describeApproval(checked.approvedBy)} |`]),
    ...(checked.postApproval === null ? [] : [`| Post-approval | **${checked.postApproval}** |`]),
    '',
    `### Risk: ${checked.risk.level}`,
    ...checked.risk.reasons.map((reason) => `- ${markdownText(reason)}`),
    '',
    ...(checked.bypassed.length === 0
      ? []
      : ['### Bypassed (emergency)', ...checked.bypassed.map((b) => `- ${markdownText(b)}`), '']),
    '### Rollback plan',
    checked.rollbackPlan === null ? '_None given._' : markdownText(checked.rollbackPlan),
    '',
    '### Approving',
    `An approver comments \`approve ${checked.evidenceHash}\` (or \`deny\`). An approval counts only for this evidence hash, and an edited comment never counts.`,
  ];
  if (checked.outcome !== null) {
    const { result, at, runUrl, detail } = checked.outcome;
    lines.push(
      '',
      '### Outcome',
      `**${result}** at ${at}${runUrl === undefined ? '' : ` ([run](${encodeURI(runUrl)}))`}`,
    );
    if (detail !== undefined) lines.push('', markdownText(detail));
  }
  return withStateBlock(lines.join('\n'), key, checked);
}

function describeApproval(approval: NonNullable<ChangeRecord['approvedBy']>): string {
  const who = approval.approvers.map((login) => markdownText(login)).join(', ');
  const link = approval.decisionUrl === null ? '' : ` ([decision](${encodeURI(approval.decisionUrl)}))`;
  switch (approval.how) {
    case 'approvals':
      return `approvals from ${who}${link}`;
    case 'standard':
      return 'pre-approval (standard change)';
    case 'environment':
      return "the environment's required reviewers";
    case 'emergency':
      return `emergency, to be approved afterwards${who === '' ? '' : ` (approved by ${who}${link})`}`;
  }
}

/**
 * The record from an issue body. The body is untrusted (anyone who can edit the issue can
 * change it): the block must carry the expected key, a version this code reads, and match
 * that version's schema exactly; anything else is a ChangeRecordError saying what was wrong.
 */
export function parseChangeRequest(
  body: string | null | undefined,
  key: string,
  where = 'the change request',
): ChangeRecord {
  const block = readStateBlock(body);
  if (!block)
    throw new ChangeRecordError(`${where} has no readable deploy-suite state block; it may have been edited by hand`);
  if (block.key !== key) {
    throw new ChangeRecordError(
      `${where} holds the record for ${JSON.stringify(block.key.slice(0, 100))}, not ${JSON.stringify(key)}`,
    );
  }
  const data = block.data;
  const version = typeof data === 'object' && data !== null ? (data as { version?: unknown }).version : undefined;
  if (version !== RECORD_VERSION) {
    const shown = version === undefined ? 'no version' : `version ${JSON.stringify(version).slice(0, 40)}`;
    throw new ChangeRecordError(
      `${where} holds a record with ${shown}; this version of the suite reads version ${RECORD_VERSION} only. ` +
        'Use the same suite version for every step of a deployment, or open a new change request.',
    );
  }
  const parsed = changeRecordV1.safeParse(data);
  if (!parsed.success) {
    throw new ChangeRecordError(
      `${where} holds a record that does not match version ${RECORD_VERSION}: ${describeIssues(parsed.error)}`,
    );
  }
  return parsed.data;
}
