import {
  addIssueComment,
  ensureMarkedIssue,
  findMarkedIssue,
  getIssue,
  readStateBlock,
  toMarked,
  updateMarkedIssue,
  type GitHubClient,
  type MarkedIssue,
  type Repo,
} from '@deploy-suite/github';
import { ConfigurationError } from '@deploy-suite/kit';
import { canonicalJson } from './evidence.ts';
import { ChangeRecordError, parseChangeRequest, renderChangeRequest, type ChangeRecord } from './record.ts';

/** Every change request carries this label; the gate lists by it. */
export const CHANGE_REQUEST_LABEL = 'change-request';
/** An emergency's change request keeps this label until people approve it after the fact. */
export const POST_APPROVAL_LABEL = 'needs-post-approval';
/** Labels the gate owns (it sets and removes them); anyone else's labels are left alone. */
const MANAGED = /^(type|env|risk):|^needs-post-approval$|^post-approval-denied$/;

export interface ChangeRequest {
  number: number;
  url: string;
  state: 'open' | 'closed';
  /** When GitHub says the issue was opened: the notice period counts from here. */
  openedAt: Date;
  key: string;
  record: ChangeRecord;
}

/** The labels a record gives its issue: type, environment, risk and, for an emergency, the post-approval. */
export function labelsFor(record: ChangeRecord): string[] {
  const labels = [
    CHANGE_REQUEST_LABEL,
    `type:${record.changeType}`,
    `env:${record.environment}`.slice(0, 50),
    `risk:${record.risk.level}`,
  ];
  if (record.postApproval === 'required') labels.push(POST_APPROVAL_LABEL);
  if (record.postApproval === 'denied') labels.push('post-approval-denied');
  return labels;
}

function titleFor(record: ChangeRecord): string {
  return `Change request: ${record.changeType} change to ${record.environment} (${record.sha.slice(0, 7)})`;
}

function fromIssue(issue: MarkedIssue, record: ChangeRecord): ChangeRequest {
  return {
    number: issue.number,
    url: issue.url,
    state: issue.state,
    openedAt: new Date(issue.createdAt),
    key: issue.key,
    record,
  };
}

const where = (repo: Repo, number: number) => `${repo.owner}/${repo.repo}#${number}`;

export interface OpenedChangeRequest {
  request: ChangeRequest;
  created: boolean;
  /** The evidence hash the request held before this run, when it held another one. */
  replacedEvidence?: string;
}

/**
 * Finds the change request for `key` opened by `author` (the token's own account: an issue
 * anyone else opened, even with a copied block, is never used), or opens it exactly once. An
 * existing request is brought up to date with `proposed` (what this run will deploy); when its
 * evidence changed, its state goes back to requested and a comment says that earlier approvals
 * no longer count. A closed request is returned as it is, for the caller to refuse.
 */
export async function openChangeRequest(
  octokit: GitHubClient,
  repo: Repo,
  key: string,
  author: string,
  proposed: ChangeRecord,
): Promise<OpenedChangeRequest> {
  const marker = { label: CHANGE_REQUEST_LABEL, key, author };
  const { issue, created } = await ensureMarkedIssue(octokit, repo, marker, {
    title: titleFor(proposed),
    body: renderChangeRequest(proposed, key),
    data: proposed,
    labels: labelsFor(proposed),
  });
  const current = parseChangeRequest(issue.body, key, where(repo, issue.number));
  if (created || issue.state === 'closed') return { request: fromIssue(issue, current), created };

  const replaced = current.evidenceHash !== proposed.evidenceHash;
  const excluded = mergeExcluded(current.excluded, proposed.excluded);
  const next: ChangeRecord = replaced
    ? { ...proposed, excluded, state: 'requested', approvedBy: null, postApproval: proposed.postApproval }
    : {
        ...proposed,
        excluded,
        state: current.state,
        approvedBy: current.approvedBy,
        postApproval: current.postApproval ?? proposed.postApproval,
        outcome: current.outcome,
      };
  let request = fromIssue(issue, current);
  if (canonicalJson(next) !== canonicalJson(current)) {
    request = await saveChangeRequest(octokit, repo, request, next);
  }
  if (replaced) {
    await addIssueComment(
      octokit,
      repo,
      issue.number,
      `What this change would deploy has changed: evidence hash \`${proposed.evidenceHash}\` replaces \`${current.evidenceHash}\`. Approvals given under the old hash no longer count; approve again with \`approve ${proposed.evidenceHash}\`.`,
    );
  }
  return { request, created: false, ...(replaced ? { replacedEvidence: current.evidenceHash } : {}) };
}

/** Both lists, each login once (the first reason kept), at most 20. */
export function mergeExcluded(a: ChangeRecord['excluded'], b: ChangeRecord['excluded']): ChangeRecord['excluded'] {
  const seen = new Map<string, string>();
  for (const { login, why } of [...a, ...b]) if (!seen.has(login)) seen.set(login, why);
  return [...seen].slice(0, 20).map(([login, why]) => ({ login, why }));
}

/** Writes a new record into the request: body, labels (the gate's own; others' kept) and, optionally, its state. */
export async function saveChangeRequest(
  octokit: GitHubClient,
  repo: Repo,
  request: ChangeRequest,
  record: ChangeRecord,
  options: { close?: boolean; existingLabels?: string[] } = {},
): Promise<ChangeRequest> {
  const existing = options.existingLabels ?? (await getIssue(octokit, repo, request.number)).labels;
  const others = existing
    .map((label) => (typeof label === 'string' ? label : (label.name ?? '')))
    .filter((label) => label !== '' && label !== CHANGE_REQUEST_LABEL && !MANAGED.test(label));
  const updated = await updateMarkedIssue(octokit, repo, request.number, request.key, {
    data: record,
    body: renderChangeRequest(record, request.key),
    title: titleFor(record),
    labels: [...labelsFor(record), ...others],
    ...(options.close ? { state: 'closed' as const } : {}),
  });
  return fromIssue(updated, record);
}

/**
 * A change request by number, for steps that are given one (the decision listener, the outcome
 * step): it must be an issue the token's own account opened, carry the change-request label and
 * hold a readable record. Its key comes from its own block; `expectedKey`, when given, must match.
 */
export async function readChangeRequest(
  octokit: GitHubClient,
  repo: Repo,
  number: number,
  author: string,
  expectedKey?: string,
): Promise<ChangeRequest> {
  const raw = await getIssue(octokit, repo, number);
  const issue = toMarked(raw);
  const labels = raw.labels.map((label) => (typeof label === 'string' ? label : (label.name ?? '')));
  if (raw.pull_request !== undefined || !labels.includes(CHANGE_REQUEST_LABEL)) {
    throw new ChangeRecordError(`${where(repo, number)} is not a change request (no ${CHANGE_REQUEST_LABEL} label)`);
  }
  if (raw.user?.login !== author) {
    throw new ChangeRecordError(
      `${where(repo, number)} was opened by ${raw.user?.login ?? 'a deleted account'}, not by ${author} (the account of the token): only change requests the gate opened are read`,
    );
  }
  const key = expectedKey ?? readStateBlock(raw.body)?.key;
  if (issue === undefined || key === undefined) {
    throw new ChangeRecordError(`${where(repo, number)} has no readable deploy-suite state block`);
  }
  return fromIssue(issue, parseChangeRequest(raw.body, key, where(repo, number)));
}

/** The change request for a key, if one was ever opened by `author`. */
export async function findChangeRequest(
  octokit: GitHubClient,
  repo: Repo,
  key: string,
  author: string,
): Promise<ChangeRequest | undefined> {
  const issue = await findMarkedIssue(octokit, repo, { label: CHANGE_REQUEST_LABEL, key, author });
  return issue === undefined
    ? undefined
    : fromIssue(issue, parseChangeRequest(issue.body, key, where(repo, issue.number)));
}

/** A closed request cannot be approved or deployed under: say what to do instead. */
export function closedRequestError(repo: Repo, request: ChangeRequest): ConfigurationError {
  const done =
    request.record.outcome === null ? 'was closed without an outcome' : `is done (${request.record.outcome.result})`;
  return new ConfigurationError(
    `Change request ${where(repo, request.number)} ${done}: a closed change request approves nothing. Reopen it to go on with this change, or deploy under a new change-key.`,
  );
}
