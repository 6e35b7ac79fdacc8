import { getCollaboratorPermission, listIssueComments, type GitHubClient, type Repo } from '@deploy-suite/github';
import type { PullRequest } from './item.ts';

/** A waiver as data: which item, why, who granted it, until when, and where it was given. */
export interface Waiver {
  item: string;
  reason: string;
  grantedBy: string;
  expires: string;
  url: string;
}

export interface WaiverReading {
  /** Waivers that count: granted by someone allowed, not the author, not edited, not expired. */
  valid: Waiver[];
  /** Waiver comments that do not count, and why (for the summary). */
  refused: { url: string; by: string; why: string }[];
}

/**
 * `/waive <item> until <YYYY-MM-DD or ISO time> because <reason>` as the first line of a comment.
 * The date ends the waiver (a date alone: the end of that day, UTC).
 */
const WAIVE =
  /^\/waive\s+([a-z][\w:.-]*)\s+until\s+(\d{4}-\d{2}-\d{2}(?:T[\d:.]+(?:Z|[+-]\d{2}:\d{2}))?)\s+because\s+(\S[^\n]{2,})$/i;

/**
 * Waivers from the pull request's comments. A waiver is granted by its comment's author, as
 * GitHub says (never by text in the body): it counts only when that person holds one of `roles`
 * on the repository now, is not the PR's author, never edited the comment, and it has not expired.
 */
export async function readWaivers(
  octokit: GitHubClient,
  repo: Repo,
  pull: PullRequest | undefined,
  roles: readonly string[],
  now: Date,
): Promise<WaiverReading> {
  const reading: WaiverReading = { valid: [], refused: [] };
  if (pull === undefined) return reading;
  const comments = await listIssueComments(octokit, repo, pull.number);
  const roleOf = new Map<string, string>();
  for (const comment of comments) {
    const firstLine = comment.body.trimStart().split(/\r?\n/, 1)[0] ?? '';
    if (!firstLine.toLowerCase().startsWith('/waive')) continue;
    const by = comment.author?.login ?? 'a deleted account';
    const refuse = (why: string) => reading.refused.push({ url: comment.url, by, why });
    const match = WAIVE.exec(firstLine.trim());
    if (!match) {
      refuse('not of the form "/waive <item> until <date> because <reason>"');
      continue;
    }
    const [, item, until, reason] = match as unknown as [string, string, string, string];
    const expires = new Date(until.length === 10 ? `${until}T23:59:59Z` : until);
    if (!Number.isFinite(expires.getTime())) refuse(`"${until}" is not a date`);
    else if (comment.edited) refuse('edited after it was posted');
    else if (comment.author === undefined) refuse("the granter's account was deleted");
    else if (comment.author.login.toLowerCase() === pull.author.toLowerCase()) refuse('granted by the change author');
    else if (expires.getTime() <= now.getTime()) refuse(`expired ${expires.toISOString()}`);
    else {
      const login = comment.author.login;
      let role = roleOf.get(login);
      if (role === undefined) {
        role = (await getCollaboratorPermission(octokit, repo, login)).roleName;
        roleOf.set(login, role);
      }
      if (!roles.includes(role)) refuse(`${login} is ${role} on the repository; waivers need ${roles.join(' or ')}`);
      else
        reading.valid.push({
          item: item.toLowerCase(),
          reason: reason.trim().slice(0, 300),
          grantedBy: login,
          expires: expires.toISOString(),
          url: comment.url,
        });
    }
  }
  return reading;
}
