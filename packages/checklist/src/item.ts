import type { GitHubClient, Repo } from '@deploy-suite/github';
import type { Clock } from '@deploy-suite/kit';
import type { z } from 'zod';

/** The pull request that holds the SHA, as far as the checklist reads it (untrusted text: body, title). */
export interface PullRequest {
  number: number;
  url: string;
  author: string;
  /** The PR body, '' when it has none (a bot's PR often has none). */
  body: string;
  headSha: string;
  /** The commit a merged PR made on its base (what a deploy from the base branch runs). */
  mergeCommitSha?: string | undefined;
  baseRef: string;
  labels: string[];
  draft: boolean;
}

/** What every item is evaluated against: the exact SHA, its pull request, and the way to read GitHub. */
export interface ChecklistContext {
  octokit: GitHubClient;
  repo: Repo;
  /** The full SHA being deployed. */
  sha: string;
  environment: string;
  artifactDigest: string | undefined;
  /** The pull request holding the SHA, when one was found. */
  pull: PullRequest | undefined;
  /** Files changed by the change (the PR's files, every page; or the push's comparison). Read once, on demand. */
  changedFiles(): Promise<string[]>;
  /** The repository checked out at the SHA (GITHUB_WORKSPACE), for items that read files. */
  workspace: string;
  /**
   * The commit the workspace is checked out at, when it is a git checkout; items that read files
   * fail when it is another commit (a pull_request checkout is the merge commit, not the head).
   */
  workspaceSha?: string | undefined;
  clock: Clock;
  log: (message: string) => void;
}

/**
 * An item's result before waivers. Unknown or unavailable evidence is a fail with its own code,
 * never a pass: the checklist fails closed.
 */
export interface ItemResult {
  /** The rule id, e.g. "tests-passing", or "custom:<name>". */
  id: string;
  /** What the summary shows. */
  name: string;
  required: boolean;
  status: 'pass' | 'fail';
  /**
   * Why, as a stable code for machines: "ok", or e.g. "check-failed", "check-missing",
   * "check-pending", "wrong-app", "no-pull-request", "too-old", "unavailable", "not-found".
   */
  code: string;
  /** Why, in words for the summary (remote text escaped, bounded). */
  reason: string;
  /** The facts the verdict rests on (ids, names, conclusions, hashes), JSON only, stable between runs. */
  evidence: Record<string, unknown>;
  /** A link to the evidence (a check run, a review, a deployment). */
  url?: string;
  /** When the evidence was made (ISO 8601), for its age; absent when it has no time. */
  observedAt?: string;
}

/** One kind of item: its rule's schema (validated with the rules file) and how it is judged. */
export interface ItemKind<Rule> {
  id: string;
  /** The rule's options as written in the rules file (kebab-case keys), with defaults. */
  schema: z.ZodType<Rule>;
  evaluate(rule: Rule, context: ChecklistContext): Promise<ItemResult | ItemResult[]>;
}

/** Options every item's rule has. */
export interface CommonRule {
  /** A required item that fails fails the checklist; an optional one is reported only. */
  required: boolean;
}
