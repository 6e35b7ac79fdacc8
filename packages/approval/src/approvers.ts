import { getCollaboratorPermission, listTeamMembers, type GitHubClient, type Repo } from '@deploy-suite/github';
import { InputError } from '@deploy-suite/kit';

export type ApproverEntry = { kind: 'user'; login: string } | { kind: 'team'; org: string; slug: string };

// GitHub's own rules: a login is up to 39 letters, digits and single hyphens; a team slug is lowercase words and hyphens.
const LOGIN = /^[a-z\d](?:[a-z\d]|-(?=[a-z\d])){0,38}$/i;
const SLUG = /^[a-z\d][a-z\d_.-]{0,99}$/i;
const EXAMPLE = 'alice, bob, acme/platform-leads';

/** Approver entries from an input: users and org/team, separated by commas or whitespace, an @ allowed. */
export function parseApprovers(text: string, input = 'approvers'): ApproverEntry[] {
  const entries: ApproverEntry[] = [];
  for (const raw of text.split(/[\s,]+/).filter((word) => word !== '')) {
    const word = raw.replace(/^@/, '');
    const [first, second, ...rest] = word.split('/');
    if (second === undefined && LOGIN.test(first!)) {
      entries.push({ kind: 'user', login: first!.toLowerCase() });
    } else if (second !== undefined && rest.length === 0 && LOGIN.test(first!) && SLUG.test(second)) {
      entries.push({ kind: 'team', org: first!.toLowerCase(), slug: second.toLowerCase() });
    } else {
      throw new InputError(input, `has "${raw}", which is neither a GitHub login nor org/team`, EXAMPLE);
    }
  }
  return entries;
}

/**
 * The approvers' logins: users as given, teams expanded to their members (every page), all
 * lowercased and deduplicated, in first-seen order. A team that cannot be read fails
 * (GitHubApiError): an approver list silently missing a team is not one to decide with.
 */
export async function resolveApprovers(octokit: GitHubClient, entries: readonly ApproverEntry[]): Promise<string[]> {
  const logins = new Set<string>();
  for (const entry of entries) {
    if (entry.kind === 'user') {
      logins.add(entry.login.toLowerCase());
    } else {
      for (const member of await listTeamMembers(octokit, entry.org, entry.slug)) logins.add(member.toLowerCase());
    }
  }
  return [...logins];
}

/** `canWrite` for decide(): each login's permission on the repository read now, from GitHub. */
export function writeAccessOn(octokit: GitHubClient, repo: Repo): (login: string) => Promise<boolean> {
  return async (login) => (await getCollaboratorPermission(octokit, repo, login)).canWrite;
}
