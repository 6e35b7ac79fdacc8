import { addIssueComment, type GitHubClient, type Repo } from '@deploy-suite/github';
import { readChangeRequest, saveChangeRequest, type ChangeRequest } from './change-request.ts';
import { markdownText, type ChangeRecord } from './record.ts';

export const OUTCOMES = ['succeeded', 'failed', 'rolled-back'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface OutcomeRequest {
  octokit: GitHubClient;
  repo: Repo;
  tokenLogin: string;
  number: number;
  result: Outcome;
  detail: string | undefined;
  runUrl: string | undefined;
  at: Date;
}

/**
 * The last step of the change process (document): the outcome goes into the record and a comment,
 * and the request is closed — unless it is an emergency still waiting for its approval after the
 * fact, which stays open and labelled until people approve it.
 */
export async function recordOutcome(request: OutcomeRequest): Promise<{ request: ChangeRequest; closed: boolean }> {
  const { octokit, repo } = request;
  const changeRequest = await readChangeRequest(octokit, repo, request.number, request.tokenLogin);
  const record: ChangeRecord = {
    ...changeRequest.record,
    state: request.result === 'succeeded' ? 'executed' : 'failed',
    outcome: {
      result: request.result,
      at: request.at.toISOString(),
      ...(request.runUrl === undefined ? {} : { runUrl: request.runUrl }),
      ...(request.detail === undefined ? {} : { detail: request.detail.slice(0, 2000) }),
    },
  };
  const close = record.postApproval !== 'required' && record.postApproval !== 'denied';
  const saved = await saveChangeRequest(octokit, repo, changeRequest, record, { close });
  const run = request.runUrl === undefined ? '' : ` ([run](${encodeURI(request.runUrl)}))`;
  const detail = request.detail === undefined ? '' : `\n\n${markdownText(request.detail.slice(0, 2000))}`;
  const still = close ? '' : '\n\nThis emergency change stays open until it is approved after the fact.';
  await addIssueComment(octokit, repo, changeRequest.number, `Outcome: **${request.result}**${run}.${detail}${still}`);
  return { request: saved, closed: close };
}
