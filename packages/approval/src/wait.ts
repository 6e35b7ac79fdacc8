import { PageCache, pollIssue, pollIssueComments, type GitHubClient, type Repo } from '@deploy-suite/github';
import type { Clock } from '@deploy-suite/kit';
import { decide, type Decision, type DecisionRules } from './decision.ts';

export interface PollSchedule {
  /** The first wait after a look that found nothing new; activity on the issue resets to it. */
  firstIntervalMs: number;
  /** The longest wait between two looks, which the waits grow to (×1.5 each). */
  maxIntervalMs: number;
  /**
   * How often the whole decision is taken again even though the issue did not change: an
   * approver may have gained write access or joined a team since.
   */
  fullReadEveryMs: number;
}

/**
 * While idle, one conditional read of the issue per look (a 304 costs no rate limit), growing to
 * one every 2 minutes, plus the full decision every 20 minutes (every comment page, conditional,
 * and the write-access lookups): about 47 requests in an idle hour (38 of them 304s; `pnpm bench approval`), under the 60 asked for.
 */
export const DEFAULT_SCHEDULE: PollSchedule = {
  firstIntervalMs: 10_000,
  maxIntervalMs: 120_000,
  fullReadEveryMs: 20 * 60_000,
};

export type WaitResult =
  | { end: 'decided'; decision: Decision }
  | { end: 'closed'; decision: Decision }
  | { end: 'timed-out'; decision: Decision };

export interface WaitOptions {
  octokit: GitHubClient;
  repo: Repo;
  number: number;
  /** Rules for decide(); the list of approvers is resolved once, before waiting. */
  rules: DecisionRules;
  clock: Clock;
  /** The time on `clock` after which the wait ends undecided. */
  deadline: number;
  schedule?: PollSchedule;
  /** Told about each decision taken, to log progress. */
  onDecision?: (decision: Decision) => void;
}

/**
 * Waits for the change request's decision. A look asks only whether the issue changed (one
 * conditional request: a new or deleted comment, a label, a close all change the issue); only a
 * change brings a read of every comment page (conditional too) and a new decision. A closed
 * issue, a deny or the deadline ends the wait; so does a quorum of approvals.
 */
export async function waitForDecision(options: WaitOptions): Promise<WaitResult> {
  const { octokit, repo, number, rules, clock, deadline } = options;
  const schedule = options.schedule ?? DEFAULT_SCHEDULE;
  const issueCache: { etag?: string | undefined } = {};
  const comments = new PageCache();

  const decideNow = async (): Promise<Decision> => {
    const polled = await pollIssueComments(octokit, repo, number, comments);
    const decision = await decide(polled.items, rules);
    options.onDecision?.(decision);
    return decision;
  };

  // The first look reads everything: the issue's state, then every comment.
  // A closed request decides nothing, even when its approvals are in: closing it cancels the change.
  const first = await pollIssue(octokit, repo, number, issueCache);
  let decision = await decideNow();
  if (first?.state === 'closed') return { end: 'closed', decision };
  if (decision.state !== 'pending') return { end: 'decided', decision };
  let lastFullRead = clock.now();
  let interval = schedule.firstIntervalMs;

  for (;;) {
    const left = deadline - clock.now();
    if (left <= 0) return { end: 'timed-out', decision };
    await clock.sleep(Math.min(interval, left));
    if (clock.now() >= deadline) return { end: 'timed-out', decision };

    const changed = await pollIssue(octokit, repo, number, issueCache);
    if (changed !== undefined) {
      decision = await decideNow();
      lastFullRead = clock.now();
      if (changed.state === 'closed') return { end: 'closed', decision };
      if (decision.state !== 'pending') return { end: 'decided', decision };
      interval = schedule.firstIntervalMs;
      continue;
    }
    if (clock.now() - lastFullRead >= schedule.fullReadEveryMs) {
      decision = await decideNow();
      lastFullRead = clock.now();
      if (decision.state !== 'pending') return { end: 'decided', decision };
    }
    interval = Math.min(schedule.maxIntervalMs, Math.round(interval * 1.5));
  }
}
