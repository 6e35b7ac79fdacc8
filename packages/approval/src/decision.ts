import type { IssueComment } from '@deploy-suite/github';
import { InputError } from '@deploy-suite/kit';
import { ChangeRecordError } from './record.ts';
import { DEFAULT_KEYWORDS, wordMatcher, type Keywords } from './keywords.ts';

export interface DecisionRules {
  /** The evidence hash the approval must be given under (`sha256:<hex>`). */
  evidenceHash: string;
  /** Approver logins, already resolved from users and teams (see resolveApprovers). */
  approvers: readonly string[];
  /** Distinct approvers needed (N of M). */
  minimumApprovals: number;
  /**
   * Who never counts, with the reason shown in the summary: the change author, github.actor and
   * github.triggering_actor. An empty or undefined login is skipped.
   */
  excluded: readonly { login: string | undefined; why: string }[];
  keywords?: Keywords;
  /**
   * The account the token acts as: its comments carrying a requesters block add the people who
   * requested the change to `excluded` (see recordRequesters).
   */
  trustedAuthor?: string;
  /** Whether the login can push to the repository now (not when it commented). */
  canWrite: (login: string) => Promise<boolean>;
}

export interface IgnoredComment {
  comment: IssueComment;
  why: string;
}

export interface Decision {
  state: 'approved' | 'denied' | 'pending';
  /** Distinct approvers whose approval counted, in the order they approved. */
  approvers: string[];
  /** Who denied, when denied. */
  deniedBy?: string;
  /** The comment that decided: the first counting deny, or the approval that reached the minimum. */
  decisionUrl?: string;
  /** Every comment that did not count, and why. */
  ignored: IgnoredComment[];
}

const HASH_IN_TEXT = /sha256:[0-9a-f]{64}(?![0-9a-f])/gi;

const isBot = (author: { login: string; type: string }) => author.type === 'Bot' || /\[bot\]$/i.test(author.login);

/** Checks the rules themselves: they come from inputs, so a mistake is an InputError. */
function checkRules(rules: DecisionRules): void {
  if (rules.approvers.length === 0) {
    throw new InputError(
      'approvers',
      'is empty: a change that needs approval needs at least one approver',
      'alice, acme/platform-leads',
    );
  }
  if (!Number.isInteger(rules.minimumApprovals) || rules.minimumApprovals < 1) {
    throw new InputError('minimum-approvals', `is ${rules.minimumApprovals}, not a whole number of at least 1`, '2');
  }
  if (rules.minimumApprovals > rules.approvers.length) {
    throw new InputError(
      'minimum-approvals',
      `is ${rules.minimumApprovals}, more than the ${rules.approvers.length} approver(s) listed, so no approval could ever pass`,
      String(rules.approvers.length),
    );
  }
}

/**
 * The gate's decision from the comments of the change request, oldest first. A comment counts
 * only when all of these hold: it was never edited (an edit keeps the author, so anyone with
 * write access could put words in an approver's mouth); its author is a person, an approver,
 * not the change author nor the run's actor or triggering actor, and can write to the
 * repository now; and, for an approval, it names the current evidence hash and no other.
 * A counting deny ends the gate whatever came before (fail closed: the gate has not acted yet);
 * otherwise `minimumApprovals` distinct approvers approve it. A comment with both an approve and
 * a deny word is a deny. A failed permission lookup throws: a gate that cannot decide says no.
 */
export async function decide(comments: readonly IssueComment[], rules: DecisionRules): Promise<Decision> {
  checkRules(rules);
  const keywords = rules.keywords ?? DEFAULT_KEYWORDS;
  const approveWord = wordMatcher(keywords.approve);
  const denyWord = wordMatcher(keywords.deny);
  const approverSet = new Set(rules.approvers.map((login) => login.toLowerCase()));
  const excluded = new Map<string, string>();
  for (const { login, why } of rules.excluded) {
    const key = login?.trim().toLowerCase();
    if (key && !excluded.has(key)) excluded.set(key, why);
  }
  // Who requested the change, as the gate's own never-edited comments record it (the record's
  // block can be edited by anyone who can edit the issue; those comments cannot, unnoticed).
  if (rules.trustedAuthor !== undefined) {
    for (const { login, why } of requestersFrom(comments, rules.trustedAuthor)) {
      const key = login.toLowerCase();
      if (!excluded.has(key)) excluded.set(key, why);
    }
  }
  const current = rules.evidenceHash.toLowerCase();
  const writeAccess = new Map<string, boolean>();
  const canWrite = async (login: string) => {
    let known = writeAccess.get(login);
    if (known === undefined) {
      known = await rules.canWrite(login);
      writeAccess.set(login, known);
    }
    return known;
  };

  const ignored: IgnoredComment[] = [];
  const approvers: string[] = [];
  let quorumUrl: string | undefined;
  let deny: { login: string; url: string } | undefined;

  for (const comment of comments) {
    const ignore = (why: string) => ignored.push({ comment, why });
    const denies = denyWord.test(comment.body);
    // An approval must open the comment ("approve sha256:…"): "I can't approve this yet" is no approval.
    const approves = !denies && approveWord.test(firstWord(comment.body));
    if (!denies && !approves) {
      ignore('no approve or deny keyword');
      continue;
    }
    if (comment.edited || comment.updatedAt !== comment.createdAt) {
      ignore('edited after it was posted: an edited comment never counts');
      continue;
    }
    if (!comment.author) {
      ignore("the author's account was deleted");
      continue;
    }
    if (isBot(comment.author)) {
      ignore(`by a bot (${comment.author.login})`);
      continue;
    }
    const login = comment.author.login.toLowerCase();
    const excludedWhy = excluded.get(login);
    if (excludedWhy !== undefined) {
      ignore(`${login} is ${excludedWhy}, who cannot approve or deny their own change`);
      continue;
    }
    if (!approverSet.has(login)) {
      ignore(`${login} is not an approver`);
      continue;
    }
    if (!(await canWrite(login))) {
      ignore(`${login} has no write access to the repository now`);
      continue;
    }
    if (denies) {
      deny ??= { login, url: comment.url };
      continue;
    }
    const named = [...new Set([...comment.body.matchAll(HASH_IN_TEXT)].map((m) => m[0].toLowerCase()))];
    if (named.length === 0) {
      ignore(`names no evidence hash: approve with "approve ${current}"`);
      continue;
    }
    const other = named.find((hash) => hash !== current);
    if (other !== undefined) {
      ignore(`given under evidence hash ${other}, not the current ${current}: what would run has changed since`);
      continue;
    }
    if (approvers.includes(login)) {
      ignore(`${login} already approved: approvers are counted once`);
      continue;
    }
    approvers.push(login);
    if (approvers.length === rules.minimumApprovals) quorumUrl = comment.url;
  }

  if (deny) return { state: 'denied', approvers, deniedBy: deny.login, decisionUrl: deny.url, ignored };
  if (quorumUrl !== undefined) return { state: 'approved', approvers, decisionUrl: quorumUrl, ignored };
  return { state: 'pending', approvers, ignored };
}

const REQUESTERS = /<!--\s*deploy-suite:requesters\s+(\{[\s\S]*?\})\s*-->/;

/** The first word of a comment (after blank lines), for the approve keyword. */
function firstWord(body: string): string {
  return body.trimStart().split(/\s/, 1)[0] ?? '';
}

/** The comment the gate posts to record who requested a change (never counted as a decision). */
export function renderRequesters(requesters: readonly { login: string; why: string }[]): string {
  const who = requesters.map(({ login, why }) => `@${login} (${why})`).join(', ');
  const block = JSON.stringify({ requesters }).replace(/</g, '\\u003c').replace(/>/g, '\\u003e');
  return `Requested by ${who}: they cannot approve or deny this change.\n\n<!-- deploy-suite:requesters ${block} -->`;
}

/**
 * The requesters recorded in the token account's comments. One that was edited after it was
 * posted is refused outright (fail closed): someone tried to take a name off the list.
 */
export function requestersFrom(
  comments: readonly IssueComment[],
  trustedAuthor: string,
): { login: string; why: string }[] {
  const found: { login: string; why: string }[] = [];
  for (const comment of comments) {
    if (comment.author?.login !== trustedAuthor) continue;
    const match = REQUESTERS.exec(comment.body);
    if (!match) continue;
    if (comment.edited || comment.updatedAt !== comment.createdAt) {
      throw new ChangeRecordError(
        `The comment recording who requested this change was edited after it was posted (${comment.url}): no decision is taken on an edited list. Open a new change request.`,
      );
    }
    try {
      const parsed = JSON.parse(match[1]!) as { requesters?: unknown };
      if (Array.isArray(parsed.requesters)) {
        for (const entry of parsed.requesters as { login?: unknown; why?: unknown }[]) {
          if (typeof entry.login === 'string' && entry.login !== '') {
            found.push({
              login: entry.login,
              why: typeof entry.why === 'string' ? entry.why.slice(0, 100) : 'a requester',
            });
          }
        }
      }
    } catch {
      throw new ChangeRecordError(`The comment recording who requested this change cannot be read (${comment.url})`);
    }
  }
  return found;
}
