import {
  addIssueComment,
  commitAuthors,
  deleteIssueComment,
  dispatchWorkflow,
  listIssueComments,
  readStateBlock,
  renderStateBlock,
  type GitHubClient,
  type IssueComment,
  type Repo,
} from '@deploy-suite/github';
import type { Clock } from '@deploy-suite/kit';
import type { Policy } from '@deploy-suite/policy';
import { resolveApprovers, writeAccessOn, type ApproverEntry } from './approvers.ts';
import { CHANGE_REQUEST_LABEL, readChangeRequest, saveChangeRequest, type ChangeRequest } from './change-request.ts';
import { decide, type Decision } from './decision.ts';
import type { Keywords } from './keywords.ts';
import type { ChangeRecord } from './record.ts';

/** The comment event the listener runs on, as the payload gives it (untrusted). */
export interface CommentEvent {
  issueNumber: number;
  issueLabels: string[];
  isPullRequest: boolean;
  commenter: { login: string; type: string } | undefined;
}

export interface ListenRequest {
  octokit: GitHubClient;
  repo: Repo;
  /** The account the token acts as, asked only when the comment is worth reading. */
  tokenLogin: () => Promise<string>;
  event: CommentEvent;
  approvers: readonly ApproverEntry[];
  minimumApprovals: number | undefined;
  keywords: Keywords;
  policy: Policy;
  /** The deployment workflow to dispatch once approved, and the ref to run it on. */
  continuation: { workflow: string; ref: string } | undefined;
  /** Identifies this run in its claim, e.g. the run URL. */
  runId: string;
  clock: Clock;
  log: (message: string) => void;
}

export type ListenResult =
  | { outcome: 'ignored'; why: string }
  | { outcome: 'pending'; request: ChangeRequest; decision: Decision; required: number }
  | {
      outcome: 'approved' | 'denied' | 'post-approved' | 'post-denied';
      request: ChangeRequest;
      decision: Decision;
      dispatched: boolean;
      required: number;
    }
  | { outcome: 'claimed-elsewhere'; request: ChangeRequest; decision: Decision; required: number };

const CLAIM = 'deploy-suite:claim';
const isBot = (who: { login: string; type: string }) => who.type === 'Bot' || /\[bot\]$/i.test(who.login);

/**
 * The decision listener (`command: decide`), run on every issue comment. A comment that is not
 * on a change request, or is by a bot, is ignored before any API call. Otherwise it decides from
 * every comment, exactly as the gate does, and when the decision is final it claims it (a
 * comment; the oldest claim for that evidence and decision wins, so two listeners running at
 * once act once), updates the record and dispatches the deployment's continuation. The
 * continuation's own gate decides again from its own evidence: the dispatch only wakes it.
 */
export async function listen(request: ListenRequest): Promise<ListenResult> {
  const { octokit, repo, event, log } = request;
  if (event.isPullRequest) return { outcome: 'ignored', why: 'a comment on a pull request, not a change request' };
  if (!event.issueLabels.includes(CHANGE_REQUEST_LABEL)) {
    return { outcome: 'ignored', why: `#${event.issueNumber} has no ${CHANGE_REQUEST_LABEL} label` };
  }
  if (event.commenter !== undefined && isBot(event.commenter)) {
    return { outcome: 'ignored', why: `a comment by a bot (${event.commenter.login})` };
  }

  const login = await request.tokenLogin();
  const changeRequest = await readChangeRequest(octokit, repo, event.issueNumber, login);
  const { record } = changeRequest;
  if (changeRequest.state === 'closed') return { outcome: 'ignored', why: `#${changeRequest.number} is closed` };
  const phase = record.state === 'requested' ? 'before' : record.postApproval === 'required' ? 'after' : undefined;
  if (phase === undefined) {
    return { outcome: 'ignored', why: `#${changeRequest.number} is ${record.state}: nothing left to decide` };
  }

  const approvers = await resolveApprovers(octokit, request.approvers);
  // As many as the gate asked, or more: a listener asking fewer would wake a continuation that
  // stays pending.
  const required = Math.max(
    request.minimumApprovals ?? 0,
    request.policy.approvals[record.risk.level],
    record.requiredApprovals,
  );
  if (required > approvers.length) {
    log(
      `The policy asks ${required} approvals for a ${record.risk.level}-risk change, but approvers resolve to ${approvers.length} account(s): nothing can be decided`,
    );
    return { outcome: 'ignored', why: `${required} approvals needed, ${approvers.length} approver(s) listed` };
  }
  const comments = await listIssueComments(octokit, repo, changeRequest.number);
  const decision = await decide(comments, {
    evidenceHash: record.evidenceHash,
    approvers,
    minimumApprovals: required,
    // The commit's authors from GitHub as well as the record's list, which anyone who can edit the issue can edit.
    excluded: [
      ...record.excluded,
      ...(await commitAuthors(octokit, repo, record.sha)).map((login) => ({ login, why: 'the change author' })),
    ],
    keywords: request.keywords,
    canWrite: writeAccessOn(octokit, repo),
    trustedAuthor: login,
  });
  log(`Decision on #${changeRequest.number}: ${decision.state}, ${decision.approvers.length} of ${required} approvals`);
  if (decision.state === 'pending') return { outcome: 'pending', request: changeRequest, decision, required };

  const claimed = await claim(request, login, changeRequest, comments, decision);
  if (claimed === undefined) return { outcome: 'claimed-elsewhere', request: changeRequest, decision, required };

  const at = new Date(request.clock.now()).toISOString();
  let next: ChangeRecord;
  if (phase === 'after') {
    next = {
      ...record,
      postApproval: decision.state === 'approved' ? 'approved' : 'denied',
      approvedBy: {
        how: 'emergency',
        approvers: decision.approvers,
        decisionUrl: decision.decisionUrl ?? null,
        at,
      },
    };
  } else if (decision.state === 'approved') {
    // Only the gate approves (in the continuation, from its own evidence): the record stays requested.
    next = record;
  } else {
    next = { ...record, state: 'denied' };
  }
  // An emergency approved after the fact whose outcome is known is done; anything denied stays open for people.
  const close = phase === 'after' && decision.state === 'approved' && record.outcome !== null;
  const saved = await saveChangeRequest(octokit, repo, changeRequest, next, { close });

  let dispatched = false;
  if (phase === 'before' && decision.state === 'approved' && request.continuation !== undefined) {
    try {
      await dispatchWorkflow(octokit, repo, {
        workflow: request.continuation.workflow,
        ref: request.continuation.ref,
        inputs: {
          'change-request': String(changeRequest.number),
          sha: record.sha,
          'evidence-hash': record.evidenceHash,
        },
      });
    } catch (error) {
      // Without its continuation the claim would strand the approval: take it back so the next
      // comment, or a manual re-run, dispatches.
      await deleteIssueComment(octokit, repo, claimed).catch(() => undefined);
      throw error;
    }
    dispatched = true;
    log(`Dispatched ${request.continuation.workflow} on ${request.continuation.ref}`);
  }
  const outcome =
    phase === 'after'
      ? decision.state === 'approved'
        ? 'post-approved'
        : 'post-denied'
      : decision.state === 'approved'
        ? 'approved'
        : 'denied';
  return { outcome, request: saved, decision, dispatched, required };
}

interface ClaimData {
  key: string;
  evidenceHash: string;
  decision: string;
  run: string;
}

/**
 * Claims the final decision with a comment and reads every comment back: the oldest claim by the
 * token's own account for this evidence and decision wins. Returns the claim's comment id when
 * this run won; a run that lost takes its claim back and gets undefined.
 */
async function claim(
  request: ListenRequest,
  login: string,
  changeRequest: ChangeRequest,
  before: readonly IssueComment[],
  decision: Decision,
): Promise<number | undefined> {
  const { octokit, repo } = request;
  const mine = (comment: IssueComment): ClaimData | undefined => {
    if (comment.author?.login !== login) return undefined;
    const block = readStateBlock(comment.body.replace(CLAIM, 'deploy-suite:state'));
    if (block === undefined || !comment.body.includes(CLAIM)) return undefined;
    const data = block.data as Partial<ClaimData> | undefined;
    return block.key === changeRequest.key &&
      data?.evidenceHash === changeRequest.record.evidenceHash &&
      data.decision === decision.state
      ? (data as ClaimData)
      : undefined;
  };
  if (before.some((comment) => mine(comment) !== undefined)) return undefined;
  const words =
    decision.state === 'approved'
      ? `Approved by ${decision.approvers.join(', ')} under \`${changeRequest.record.evidenceHash}\`${request.continuation ? `: continuing the deployment (${request.continuation.workflow} on ${request.continuation.ref}).` : '.'}`
      : `Denied by ${decision.deniedBy ?? 'an approver'}: the deployment does not continue.`;
  const body = `${words}\n\n${renderStateBlock(changeRequest.key, {
    evidenceHash: changeRequest.record.evidenceHash,
    decision: decision.state,
    run: request.runId,
  }).replace('deploy-suite:state', CLAIM)}`;
  const posted = await addIssueComment(octokit, repo, changeRequest.number, body);
  const after = await listIssueComments(octokit, repo, changeRequest.number);
  const first = after.filter((comment) => mine(comment) !== undefined).sort((a, b) => a.id - b.id)[0];
  if (first === undefined || first.id === posted.id) return posted.id;
  request.log(`Another run claimed this decision first (${first.url}); taking this run's claim back`);
  await deleteIssueComment(octokit, repo, posted.id).catch(() => undefined);
  return undefined;
}
