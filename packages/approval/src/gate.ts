import {
  addIssueComment,
  commitAuthors,
  compareCommits,
  listIssueComments,
  lastSuccessfulDeploymentSha,
  type GitHubClient,
  type Repo,
} from '@deploy-suite/github';
import { ConfigurationError, GateClosedError, type Clock } from '@deploy-suite/kit';
import {
  approvalsFor,
  assessRisk,
  decideChange,
  type ChangeType,
  type Decision as PolicyDecision,
  type Policy,
  type RiskAssessment,
  type RollbackPlan,
} from '@deploy-suite/policy';
import { resolveApprovers, writeAccessOn, type ApproverEntry } from './approvers.ts';
import {
  closedRequestError,
  mergeExcluded,
  openChangeRequest,
  readChangeRequest,
  saveChangeRequest,
  type ChangeRequest,
} from './change-request.ts';
import { renderRequesters, requestersFrom, type Decision } from './decision.ts';
import { checklistEvidenceHash, evidenceHash, type Evidence } from './evidence.ts';
import type { Keywords } from './keywords.ts';
import type { ChangeRecord } from './record.ts';
import { waitForDecision, type PollSchedule } from './wait.ts';

export type WaitMode = 'wait' | 'decide' | 'environment';

export interface GateRequest {
  octokit: GitHubClient;
  repo: Repo;
  /** The account the token acts as: the only author whose change requests are used. */
  tokenLogin: string;
  environment: string;
  changeType: ChangeType;
  changeKey: string;
  evidence: Required<Pick<Evidence, 'sha'>> & Evidence;
  /** The commit live in the environment now, to compare against; looked up when undefined. */
  baseSha: string | undefined;
  migrations: { pending: number; errors: number; warnings: number } | undefined;
  rollback: RollbackPlan & { text?: string | undefined };
  policy: Policy;
  mode: WaitMode;
  approvers: readonly ApproverEntry[];
  /** Approvals asked for by input; the policy may ask more for the assessed risk. */
  minimumApprovals: number | undefined;
  keywords: Keywords;
  /** Who never counts: the change author, github.actor, github.triggering_actor. */
  excluded: readonly { login: string | undefined; why: string }[];
  clock: Clock;
  deadline: number;
  schedule?: PollSchedule;
  log: (message: string) => void;
}

export type GateDecision = 'approved' | 'pre-approved' | 'emergency' | 'environment' | 'pending';

export interface GateResult {
  decision: GateDecision;
  request: ChangeRequest;
  evidenceHash: string;
  risk: RiskAssessment;
  policy: PolicyDecision;
  compareUrl: string | undefined;
  approvals?: Decision;
  required: number;
}

/**
 * A failed gate that still has a change request and a policy decision to report: the summary
 * and the outputs (next-window-start, the request's URL) come from `result`.
 */
export class GateRefusedError extends GateClosedError {
  override name = 'GateRefusedError';
  readonly result: Partial<GateResult>;
  constructor(message: string, result: Partial<GateResult>) {
    super(message);
    this.result = result;
  }
}

/**
 * The gate: evidence hashed from this run's own inputs, risk assessed from facts, the change
 * request opened or reused, the policy applied (windows, freezes, notice, an emergency's rollback
 * plan), then approvals as the change type and the mode ask. Throws GateRefusedError whenever
 * the change may not go ahead; returns only when it may (or, in decide mode, is pending).
 */
export async function runGate(request: GateRequest): Promise<GateResult> {
  const { octokit, repo, policy, clock, log } = request;
  const hash = evidenceHash(request.evidence);
  const { risk, compareUrl } = await assess(request);
  log(`Risk ${risk.level}: ${risk.reasons.join('; ')}`);

  // The commit's authors and its pull requests' authors, as GitHub knows them: a continuation run
  // (dispatched by a bot) knows nobody from its event, and a record block can be edited.
  const required =
    request.changeType === 'standard' ? 0 : Math.max(request.minimumApprovals ?? 0, approvalsFor(risk.level, policy));
  const authors = await commitAuthors(octokit, repo, request.evidence.sha);
  const excluded = [...request.excluded, ...authors.map((login) => ({ login, why: 'the change author' }))];
  const proposed: ChangeRecord = {
    version: 1,
    changeType: request.changeType,
    environment: request.environment,
    risk: { level: risk.level, reasons: risk.reasons.map((reason) => reason.slice(0, 500)) },
    sha: request.evidence.sha,
    compareUrl: compareUrl ?? null,
    artifactDigest: request.evidence.artifactDigest ?? null,
    planHash: request.evidence.migrationPlanHash ?? null,
    evidenceHash: hash,
    rollbackPlan: describeRollback(request.rollback),
    checklistEvidenceHash:
      request.evidence.checklistEvidence === undefined
        ? null
        : checklistEvidenceHash(request.evidence.checklistEvidence),
    state: 'requested',
    approvedBy: null,
    window: null,
    bypassed: [],
    postApproval: null,
    requiredApprovals: required,
    excluded: excludedOf(excluded),
    outcome: null,
  };
  const opened = await openChangeRequest(octokit, repo, request.changeKey, request.tokenLogin, proposed);
  let changeRequest = opened.request;
  log(`${opened.created ? 'Opened' : 'Reusing'} change request #${changeRequest.number}: ${changeRequest.url}`);
  if (opened.replacedEvidence !== undefined) {
    log(`The evidence changed (was ${opened.replacedEvidence}): earlier approvals no longer count`);
  }
  if (changeRequest.state === 'closed') {
    throw new GateRefusedError(closedRequestError(repo, changeRequest).message, {
      request: changeRequest,
      evidenceHash: hash,
    });
  }
  await recordRequesters(request, changeRequest.number, excludedOf(excluded));

  const base = { request: changeRequest, evidenceHash: hash, risk, compareUrl };
  let policyDecision = decideChange(
    policy,
    { type: request.changeType, openedAt: changeRequest.openedAt, rollbackPlan: request.rollback, risk: risk.level },
    new Date(clock.now()),
  );
  const result = (extra: Partial<GateResult> = {}): Partial<GateResult> => ({
    ...base,
    policy: policyDecision,
    required,
    ...extra,
  });
  for (const reason of policyDecision.reasons) log(`Policy: ${reason}`);

  if (policyDecision.outcome === 'refused') {
    throw new GateRefusedError(`Change refused by the policy: ${policyDecision.reasons.join('; ')}`, result());
  }
  if (policyDecision.outcome === 'wait' && policyDecision.until.getTime() > request.deadline) {
    throw new GateRefusedError(
      `Change must wait for the maintenance window opening ${policyDecision.until.toISOString()}, after this step's timeout: re-run the deployment in that window. ${policyDecision.reasons.join('; ')}`,
      result(),
    );
  }

  const window = policyDecision.window;
  const windowRecord =
    window === undefined ? null : { start: window.start.toISOString(), end: window.end.toISOString() };
  const at = new Date(clock.now()).toISOString();

  if (request.changeType === 'standard' || request.changeType === 'emergency' || request.mode === 'environment') {
    // No comments to wait for: record how the change was let through, and go.
    const how =
      request.changeType === 'standard' ? 'standard' : request.changeType === 'emergency' ? 'emergency' : 'environment';
    const record: ChangeRecord = {
      ...changeRequest.record,
      state: 'approved',
      approvedBy: { how, approvers: [], decisionUrl: null, at },
      window: windowRecord,
      bypassed: policyDecision.bypassed.map((bypass) => `${bypass.rule}: ${bypass.detail}`),
      postApproval: how === 'emergency' ? (changeRequest.record.postApproval ?? 'required') : null,
    };
    changeRequest = await saveChangeRequest(octokit, repo, changeRequest, record);
    if (policyDecision.outcome === 'wait') policyDecision = await waitForWindow(request, policyDecision, changeRequest);
    const decision: GateDecision = how === 'standard' ? 'pre-approved' : how;
    return { ...(result() as GateResult), request: changeRequest, policy: policyDecision, decision };
  }

  // A normal change: approvals from comments, bound to this run's evidence hash.
  const approvers = await resolveApprovers(octokit, request.approvers);
  if (required > approvers.length) {
    throw new ConfigurationError(
      `The policy asks ${required} approvals for a ${risk.level}-risk change, but approvers resolve to ${approvers.length} account(s) (${approvers.join(', ') || 'none'}): add approvers, or lower approvals.${risk.level} in the policy.`,
    );
  }
  const rules = {
    evidenceHash: hash,
    approvers,
    minimumApprovals: required,
    // The record's list holds the actors of earlier runs of this change (a continuation run's
    // actor is the bot that dispatched it, not the person who started the deployment).
    excluded: [...excluded, ...changeRequest.record.excluded],
    keywords: request.keywords,
    canWrite: writeAccessOn(octokit, repo),
    trustedAuthor: request.tokenLogin,
  };
  log(`Waiting for ${required} of ${approvers.length} approvers (${approvers.join(', ')}) under ${hash}`);
  const deadline = request.mode === 'decide' ? clock.now() : request.deadline;
  const waited = await waitForDecision({
    octokit,
    repo,
    number: changeRequest.number,
    rules,
    clock,
    deadline,
    ...(request.schedule === undefined ? {} : { schedule: request.schedule }),
    onDecision: (decision) =>
      log(
        `Decision so far: ${decision.state}, ${decision.approvers.length} of ${required} approvals${decision.approvers.length > 0 ? ` (${decision.approvers.join(', ')})` : ''}`,
      ),
  });
  const approvals = waited.decision;
  if (approvals.state === 'denied') {
    changeRequest = await saveChangeRequest(octokit, repo, changeRequest, { ...changeRequest.record, state: 'denied' });
    throw new GateRefusedError(
      `Change denied by ${approvals.deniedBy ?? 'an approver'}: ${approvals.decisionUrl ?? changeRequest.url}`,
      result({ request: changeRequest, approvals }),
    );
  }
  if (waited.end === 'closed') {
    throw new GateRefusedError(
      `Change request #${changeRequest.number} was closed while waiting for approval: ${changeRequest.url}`,
      result({ approvals }),
    );
  }
  if (approvals.state === 'pending') {
    if (request.mode === 'decide') {
      return { ...(result() as GateResult), approvals, decision: 'pending' };
    }
    throw new GateRefusedError(
      `No decision before the timeout: ${approvals.approvers.length} of ${required} approvals under ${hash} on ${changeRequest.url}. A timeout never approves.`,
      result({ approvals }),
    );
  }

  // Approved: the record must still describe this run's change (another run may have replaced it).
  const fresh = await readBack(request, changeRequest);
  if (fresh.state === 'closed') throw closedRequestError(repo, fresh);
  if (fresh.record.evidenceHash !== hash) {
    throw new GateRefusedError(
      `Change request #${changeRequest.number} now describes other evidence (${fresh.record.evidenceHash}), not this run's ${hash}: another run changed what would deploy. Re-run to gate the newest change.`,
      result({ approvals }),
    );
  }
  changeRequest = await saveChangeRequest(octokit, repo, fresh, {
    ...fresh.record,
    state: 'approved',
    approvedBy: {
      how: 'approvals',
      approvers: approvals.approvers,
      decisionUrl: approvals.decisionUrl ?? null,
      at: new Date(clock.now()).toISOString(),
    },
    window: windowRecord,
  });
  if (policyDecision.outcome === 'wait') policyDecision = await waitForWindow(request, policyDecision, changeRequest);
  return {
    ...(result() as GateResult),
    request: changeRequest,
    policy: policyDecision,
    approvals,
    decision: 'approved',
  };
}

/** Sleeps until the window opens (already checked to be before the deadline), then asks the policy again. */
async function waitForWindow(
  request: GateRequest,
  waiting: Extract<PolicyDecision, { outcome: 'wait' }>,
  changeRequest: ChangeRequest,
): Promise<PolicyDecision> {
  const { clock, log } = request;
  log(`Waiting for the maintenance window opening ${waiting.until.toISOString()}`);
  const left = waiting.until.getTime() - clock.now();
  if (left > 0) await clock.sleep(left);
  const again = decideChange(
    request.policy,
    {
      type: request.changeType,
      openedAt: changeRequest.openedAt,
      rollbackPlan: request.rollback,
      risk: changeRequest.record.risk.level,
    },
    new Date(clock.now()),
  );
  if (again.outcome !== 'allowed') {
    throw new GateRefusedError(
      `When the window opened, the policy still did not allow the change: ${again.reasons.join('; ')}`,
      {
        request: changeRequest,
        policy: again,
      },
    );
  }
  for (const reason of again.reasons) log(`Policy: ${reason}`);
  return again;
}

function readBack(request: GateRequest, changeRequest: ChangeRequest): Promise<ChangeRequest> {
  return readChangeRequest(request.octokit, request.repo, changeRequest.number, request.tokenLogin, changeRequest.key);
}

/** Risk from facts: the diff against what is live (GitHub's compare), migrations and their lint, risky paths. */
async function assess(request: GateRequest): Promise<{ risk: RiskAssessment; compareUrl: string | undefined }> {
  const { octokit, repo, log } = request;
  const head = request.evidence.sha;
  const base = request.baseSha ?? (await lastSuccessfulDeploymentSha(octokit, repo, request.environment));
  let diff = { files: Number.NaN, lines: Number.NaN };
  let changedFiles: string[] = [];
  let compareUrl: string | undefined;
  if (base === undefined) {
    log(`No successful deployment to ${request.environment} found to compare with: the diff size counts as unknown`);
  } else if (base !== head) {
    const comparison = await compareCommits(octokit, repo, base, head);
    compareUrl = comparison.url;
    changedFiles = comparison.files.map((file) => file.filename);
    const lines = comparison.files.reduce((sum, file) => sum + file.additions + file.deletions, 0);
    diff = { files: comparison.files.length, lines };
  } else {
    diff = { files: 0, lines: 0 };
  }
  const migrations =
    request.migrations === undefined || request.migrations.pending === 0
      ? undefined
      : { errors: request.migrations.errors, warnings: request.migrations.warnings };
  const risk = assessRisk(
    {
      changeType: request.changeType,
      environment: request.environment,
      diff,
      changedFiles,
      ...(migrations ? { migrations } : {}),
    },
    request.policy,
  );
  return { risk, compareUrl };
}

function describeRollback(plan: GateRequest['rollback']): string | null {
  const parts: string[] = [];
  if (plan.backupId !== undefined)
    parts.push(`backup ${plan.backupId}${plan.backupVerified ? ' (verified)' : ' (not verified)'}`);
  if (plan.previousColour !== undefined) {
    parts.push(`previous colour ${plan.previousColour}${plan.previousColourRunning ? ' (running)' : ' (not running)'}`);
  }
  if (plan.text !== undefined) parts.push(plan.text);
  return parts.length === 0 ? null : parts.join('; ').slice(0, 4000);
}

/** The excluded logins, trimmed, lowercased, each once. */
function excludedOf(entries: readonly { login: string | undefined; why: string }[]): { login: string; why: string }[] {
  return mergeExcluded(
    [],
    entries
      .filter(
        (entry): entry is { login: string; why: string } => entry.login !== undefined && entry.login.trim() !== '',
      )
      .map((entry) => ({ login: entry.login.trim().toLowerCase(), why: entry.why })),
  );
}

/**
 * Posts who requested the change in a comment of the token's own account, unless its earlier
 * comments already name them all: the record's block can be edited by anyone who can edit the
 * issue, but an edited comment is seen as edited, and then no decision is taken (decide()).
 */
async function recordRequesters(
  request: GateRequest,
  number: number,
  requesters: { login: string; why: string }[],
): Promise<void> {
  const comments = await listIssueComments(request.octokit, request.repo, number);
  const known = new Set(requestersFrom(comments, request.tokenLogin).map(({ login }) => login.toLowerCase()));
  const missing = requesters.filter(({ login }) => !known.has(login));
  if (missing.length > 0) await addIssueComment(request.octokit, request.repo, number, renderRequesters(missing));
}
