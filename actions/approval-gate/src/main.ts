import * as core from '@actions/core';
import { GateRefusedError, listen, recordOutcome, runGate, type GateResult } from '@deploy-suite/approval';
import { createGitHubClient, readEventContext, tokenLogin, type GitHubClient } from '@deploy-suite/github';
import { GateClosedError, Inputs, JobSummary, redact, runAction, setOutput, systemClock } from '@deploy-suite/kit';
import { readSettings, type DecideSettings, type GateSettings, type OutcomeSettings } from './settings.ts';
import { renderGateSummary, renderListenSummary, renderOutcomeSummary } from './summary.ts';

const summary = new JobSummary();
const log = (message: string) => core.info(redact(message));

await runAction(async () => {
  const event = readEventContext();
  const settings = readSettings(new Inputs(), event);
  const started = systemClock.now();
  const octokit = createGitHubClient({
    token: settings.token,
    clock: systemClock,
    // A run writes a handful of times (the request, its requesters, its record); the default 1 s
    // pacing is for bulk writers. A secondary rate limit is still waited out as GitHub asks.
    minWriteIntervalMs: 250,
    ...(settings.command === 'gate' ? { deadline: started + settings.timeoutMs } : {}),
    log: { warn: (message) => core.warning(redact(message)) },
  });
  const login = () => tokenLogin(octokit, settings.appBot);
  if (settings.command === 'gate') await gate(octokit, await login(), settings, started);
  else if (settings.command === 'decide') await decide(octokit, login, settings, event.payload);
  else await outcome(octokit, await login(), settings);
}, summary);

async function gate(octokit: GitHubClient, login: string, settings: GateSettings, started: number): Promise<void> {
  if (!settings.policyGiven) log('No policy given: the operations policy defaults apply, in UTC');
  let result: GateResult;
  try {
    result = await runGate({
      octokit,
      repo: settings.repo,
      tokenLogin: login,
      environment: settings.environment,
      changeType: settings.changeType,
      changeKey: settings.changeKey,
      evidence: {
        sha: settings.sha,
        artifactDigest: settings.artifactDigest,
        migrationPlanHash: settings.migrationPlanHash,
        checklistEvidence: settings.checklistEvidence,
      },
      baseSha: settings.baseSha,
      migrations: settings.migrations,
      rollback: settings.rollback,
      policy: settings.policy,
      mode: settings.mode,
      approvers: settings.approvers,
      minimumApprovals: settings.minimumApprovals,
      keywords: settings.keywords,
      excluded: settings.excluded,
      clock: systemClock,
      deadline: started + settings.timeoutMs,
      schedule: { firstIntervalMs: settings.pollIntervalMs, maxIntervalMs: 120_000, fullReadEveryMs: 20 * 60_000 },
      log,
    });
  } catch (error) {
    if (error instanceof GateRefusedError) {
      publish(error.result);
      renderGateSummary(summary, error.result, error.message);
    }
    throw error;
  }
  publish(result);
  renderGateSummary(summary, result);
  log(`Gate: ${result.decision} (${result.request.url})`);
}

/** The gate's outputs; a refusal sets what it knows (the change request, the next window). */
function publish(result: Partial<GateResult>): void {
  const approved = result.decision !== undefined && result.decision !== 'pending';
  setOutput('approved', approved);
  setOutput('decision', result.decision ?? (result.approvals?.state === 'denied' ? 'denied' : 'refused'));
  setOutput('approvers', (result.approvals?.approvers ?? []).join(','));
  if (result.evidenceHash !== undefined) setOutput('evidence-hash', result.evidenceHash);
  setOutput('decision-url', result.approvals?.decisionUrl ?? '');
  if (result.request !== undefined) {
    setOutput('change-request', result.request.number);
    setOutput('change-request-url', result.request.url);
  }
  if (result.risk !== undefined) setOutput('risk', result.risk.level);
  setOutput('next-window-start', result.policy?.nextWindowStart?.toISOString() ?? '');
}

async function decide(
  octokit: GitHubClient,
  login: () => Promise<string>,
  settings: DecideSettings,
  payload: Record<string, unknown>,
): Promise<void> {
  const issue = payload.issue as { number?: unknown; labels?: unknown; pull_request?: unknown } | undefined;
  const comment = payload.comment as { user?: { login?: unknown; type?: unknown } } | undefined;
  const number = settings.changeRequest ?? (typeof issue?.number === 'number' ? issue.number : undefined);
  if (number === undefined) {
    throw new GateClosedError(
      'Nothing to decide: run command: decide on an issue_comment event, or give change-request (the issue number)',
    );
  }
  // A manual run names its change request; a comment event brings the issue's labels.
  const labels = settings.changeRequest !== undefined ? ['change-request'] : labelNames(issue?.labels);
  const user = comment?.user;
  const result = await listen({
    octokit,
    repo: settings.repo,
    tokenLogin: login,
    event: {
      issueNumber: number,
      issueLabels: labels,
      isPullRequest: settings.changeRequest === undefined && issue?.pull_request !== undefined,
      commenter:
        settings.changeRequest === undefined && typeof user?.login === 'string'
          ? { login: user.login, type: typeof user.type === 'string' ? user.type : 'User' }
          : undefined,
    },
    approvers: settings.approvers,
    minimumApprovals: settings.minimumApprovals,
    keywords: settings.keywords,
    policy: settings.policy,
    continuation: settings.continuation,
    runId: settings.runUrl || 'local',
    clock: systemClock,
    log,
  });
  setOutput('decision', result.outcome);
  setOutput('approved', result.outcome === 'approved' || result.outcome === 'post-approved');
  if ('request' in result) {
    setOutput('change-request', result.request.number);
    setOutput('change-request-url', result.request.url);
    setOutput('evidence-hash', result.request.record.evidenceHash);
    setOutput('approvers', result.decision.approvers.join(','));
    setOutput('decision-url', result.decision.decisionUrl ?? '');
  }
  renderListenSummary(summary, result);
  log(result.outcome === 'ignored' ? `Nothing to do: ${result.why}` : `Decision: ${result.outcome}`);
}

async function outcome(octokit: GitHubClient, login: string, settings: OutcomeSettings): Promise<void> {
  const result = await recordOutcome({
    octokit,
    repo: settings.repo,
    tokenLogin: login,
    number: settings.changeRequest,
    result: settings.outcome,
    detail: settings.detail,
    runUrl: settings.runUrl || undefined,
    at: new Date(systemClock.now()),
  });
  setOutput('change-request', result.request.number);
  setOutput('change-request-url', result.request.url);
  renderOutcomeSummary(summary, result.request, result.closed);
  log(`Recorded ${settings.outcome} on ${result.request.url}${result.closed ? '; closed it' : ''}`);
}

function labelNames(labels: unknown): string[] {
  if (!Array.isArray(labels)) return [];
  return labels.map((label: unknown) => {
    if (typeof label === 'string') return label;
    const name = (label as { name?: unknown } | null)?.name;
    return typeof name === 'string' ? name : '';
  });
}
