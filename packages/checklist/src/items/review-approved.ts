import { quoteUntrusted } from '@deploy-suite/kit';
import { listTeamMembers, onGitHub, type GitHubClient, type Repo } from '@deploy-suite/github';
import { z } from 'zod';
import { compareStrings as compare, errorText as message, shortList } from './rule-support.ts';
import type { ChecklistContext, CommonRule, ItemKind, ItemResult, PullRequest } from '../item.ts';

const schema = z
  .object({
    required: z.boolean().default(true),
    /** Approving reviews needed on the PR's current head, by people other than its author. */
    approvals: z
      .number({ error: 'must be a whole number of approvals, 0 or more' })
      .int('must be a whole number of approvals')
      .min(0, 'must be 0 or more')
      .max(100)
      .default(1),
    /** Every changed file needs an approval by one of its code owners (CODEOWNERS at the SHA). */
    codeowners: z.boolean().default(false),
  })
  .strict();

export type ReviewApprovedRule = z.output<typeof schema> & CommonRule;

interface ReviewData {
  id: number;
  user: { login: string } | null;
  state: string;
  commit_id: string | null;
  submitted_at?: string | null;
  html_url: string;
}

/** Where GitHub looks for CODEOWNERS, in its order: the first found is the one used. */
export const CODEOWNERS_PATHS = ['.github/CODEOWNERS', 'CODEOWNERS', 'docs/CODEOWNERS'] as const;

const ID = 'review-approved';
const NAME = 'Review approved';
const listed = (names: string[]): string => shortList(names, 10);

/**
 * The PR holding the SHA has enough approving reviews on its current head, by people other than
 * its author, and no outstanding request for changes: each reviewer's latest review that is not
 * a comment decides, so a later approval or a dismissal clears their request. With codeowners,
 * every changed file owned in CODEOWNERS (at the SHA) has an approving owner, a person or a
 * member of an owning team.
 */
export const reviewApproved: ItemKind<ReviewApprovedRule> = {
  id: ID,
  schema: schema,
  async evaluate(rule, context) {
    const fail = (code: string, reason: string, evidence: Record<string, unknown> = {}) =>
      result(rule, 'fail', code, reason, { sha: context.sha, ...evidence });
    const pull = context.pull;
    if (!pull) {
      return fail('no-pull-request', `No pull request holds ${context.sha.slice(0, 12)}, so no review approved it.`);
    }
    // Approvals cover the PR's head, and the commit its merge made: never another commit of it.
    if (context.sha !== pull.headSha && context.sha !== pull.mergeCommitSha) {
      return fail(
        'not-pr-head',
        `${context.sha.slice(0, 12)} is not the head of #${pull.number} (${pull.headSha.slice(0, 12)}) nor its merge commit: its approvals do not cover it.`,
        { pull: pull.number, headSha: pull.headSha },
      );
    }
    let reviews: ReviewData[];
    try {
      reviews = await listReviews(context.octokit, context.repo, pull.number);
    } catch (error) {
      return fail('unavailable', `The reviews of #${pull.number} could not be read: ${message(error)}`, {
        pull: pull.number,
      });
    }
    const verdict = tally(pull, reviews);
    const evidence: Record<string, unknown> = {
      sha: context.sha,
      pull: pull.number,
      headSha: pull.headSha,
      author: pull.author,
      approvers: verdict.approvals.map((review) => login(review)),
      reviewIds: verdict.approvals.map((review) => review.id),
      changesRequestedBy: verdict.changesRequested.map((review) => ({ login: login(review), id: review.id })),
      staleApprovals: verdict.stale.map((review) => ({
        login: login(review),
        id: review.id,
        commitId: review.commit_id,
      })),
      ignoredAuthorApprovals: verdict.byAuthor.map((review) => review.id),
    };
    const times = verdict.approvals.map((review) => review.submitted_at).filter((at): at is string => !!at);
    const observedAt = times.length > 0 ? times.reduce((a, b) => (a > b ? a : b)) : undefined;
    const done = (status: 'pass' | 'fail', code: string, reason: string): ItemResult => ({
      ...result(rule, status, code, reason, evidence),
      url: pull.url,
      ...(observedAt === undefined ? {} : { observedAt }),
    });
    const head = pull.headSha.slice(0, 12);

    if (verdict.changesRequested.length > 0) {
      const who = verdict.changesRequested.map((review) => quoteUntrusted(login(review), 60));
      return done('fail', 'changes-requested', `#${pull.number} has changes requested by ${listed(who)}.`);
    }
    if (verdict.approvals.length < rule.approvals) {
      const notes: string[] = [];
      if (verdict.stale.length > 0) notes.push(`${verdict.stale.length} on an older head not counted`);
      if (verdict.byAuthor.length > 0) notes.push("the author's own not counted");
      return done(
        'fail',
        'not-enough-approvals',
        `#${pull.number} has ${verdict.approvals.length} of ${rule.approvals} approvals on its head ${head}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}.`,
      );
    }
    if (rule.codeowners) {
      const owners = await checkCodeowners(context, verdict.approvals.map(login));
      evidence.codeowners = owners.evidence;
      if (owners.code !== 'ok') return done('fail', owners.code, owners.reason);
    }
    return done(
      'pass',
      'ok',
      `#${pull.number} approved on its head ${head} by ${listed(verdict.approvals.map((review) => quoteUntrusted(login(review), 60)))}${rule.approvals === 0 && verdict.approvals.length === 0 ? ' (none required)' : ''}.`,
    );
  },
};

async function listReviews(octokit: GitHubClient, repo: Repo, number: number): Promise<ReviewData[]> {
  const reviews = await onGitHub({ doing: `listing the reviews of ${repo.owner}/${repo.repo}#${number}` }, () =>
    octokit.paginate(octokit.rest.pulls.listReviews, { ...repo, pull_number: number, per_page: 100 }),
  );
  return reviews;
}

interface Tally {
  /** The latest deciding review of each reviewer other than the author: an approval of the current head. */
  approvals: ReviewData[];
  /** Reviewers whose latest deciding review requests changes. */
  changesRequested: ReviewData[];
  /** Reviewers whose latest deciding review approves an older head. */
  stale: ReviewData[];
  /** The author's own approvals. */
  byAuthor: ReviewData[];
}

/** Each reviewer's latest review that is not a comment decides what they think of the PR. */
export function tally(pull: Pick<PullRequest, 'author' | 'headSha'>, reviews: readonly ReviewData[]): Tally {
  const ordered = [...reviews].sort((a, b) => compare(a.submitted_at ?? '', b.submitted_at ?? '') || a.id - b.id);
  const latest = new Map<string, ReviewData>();
  for (const review of ordered) {
    if (!review.user?.login) continue;
    if (review.state !== 'APPROVED' && review.state !== 'CHANGES_REQUESTED' && review.state !== 'DISMISSED') continue;
    latest.set(review.user.login.toLowerCase(), review);
  }
  const author = pull.author.toLowerCase();
  const tallied: Tally = { approvals: [], changesRequested: [], stale: [], byAuthor: [] };
  for (const [who, review] of [...latest].sort(([a], [b]) => compare(a, b))) {
    if (review.state === 'CHANGES_REQUESTED') tallied.changesRequested.push(review);
    else if (review.state !== 'APPROVED') continue;
    else if (who === author || author === '') tallied.byAuthor.push(review);
    else if (review.commit_id?.toLowerCase() === pull.headSha.toLowerCase()) tallied.approvals.push(review);
    else tallied.stale.push(review);
  }
  return tallied;
}

interface OwnerRule {
  pattern: string;
  regex: RegExp;
  owners: string[];
  line: number;
}

interface CodeownersVerdict {
  code: string;
  reason: string;
  evidence: Record<string, unknown>;
}

async function checkCodeowners(context: ChecklistContext, approvers: string[]): Promise<CodeownersVerdict> {
  let found: { path: string; text: string } | undefined;
  let files: string[];
  try {
    found = await readCodeowners(context.octokit, context.repo, context.sha);
    files = await context.changedFiles();
  } catch (error) {
    return { code: 'unavailable', reason: `CODEOWNERS could not be checked: ${message(error)}`, evidence: {} };
  }
  if (!found) {
    return {
      code: 'codeowner-missing',
      reason: `Code owners are required, but there is no CODEOWNERS file (${CODEOWNERS_PATHS.join(', ')}) at ${context.sha.slice(0, 12)}.`,
      evidence: { file: null },
    };
  }
  const rules = parseCodeowners(found.text);
  const approving = new Set(approvers.map((who) => who.toLowerCase()));
  const teams = new Map<string, Set<string>>();
  const judged: { file: string; owners: string[]; line: number | null; approvedBy: string[] }[] = [];
  try {
    for (const file of [...files].sort(compare)) {
      const rule = ownerRuleFor(rules, file);
      if (!rule || rule.owners.length === 0) {
        judged.push({ file, owners: [], line: rule?.line ?? null, approvedBy: [] });
        continue;
      }
      const approvedBy: string[] = [];
      for (const owner of rule.owners) {
        const name = owner.replace(/^@/, '').toLowerCase();
        if (!owner.startsWith('@')) continue; // an e-mail address: no login to match an approval with
        if (!name.includes('/')) {
          if (approving.has(name)) approvedBy.push(name);
          continue;
        }
        if (approving.size === 0) continue;
        let members = teams.get(name);
        if (!members) {
          const [org, slug] = name.split('/') as [string, string];
          members = new Set((await listTeamMembers(context.octokit, org, slug)).map((m) => m.toLowerCase()));
          teams.set(name, members);
        }
        for (const who of approving) if (members.has(who)) approvedBy.push(`${who} (${owner})`);
      }
      judged.push({ file, owners: rule.owners, line: rule.line, approvedBy: [...new Set(approvedBy)].sort(compare) });
    }
  } catch (error) {
    return {
      code: 'unavailable',
      reason: `The owning teams in ${found.path} could not be read: ${message(error)}`,
      evidence: { file: found.path },
    };
  }
  const missing = judged.filter((entry) => entry.owners.length > 0 && entry.approvedBy.length === 0);
  const evidence = { file: found.path, files: judged };
  if (missing.length > 0) {
    const named = missing.map(
      (entry) =>
        `${quoteUntrusted(entry.file, 120)} (owners ${entry.owners.map((o) => quoteUntrusted(o, 60)).join(', ')})`,
    );
    return {
      code: 'codeowner-missing',
      reason: `${missing.length} changed files have no approval from a code owner: ${listed(named)}.`,
      evidence,
    };
  }
  return { code: 'ok', reason: 'every owned file has an approving owner', evidence };
}

/** The first CODEOWNERS found at the ref, in GitHub's order; undefined when there is none. */
async function readCodeowners(
  octokit: GitHubClient,
  repo: Repo,
  ref: string,
): Promise<{ path: string; text: string } | undefined> {
  for (const path of CODEOWNERS_PATHS) {
    try {
      const { data } = await onGitHub({ doing: `reading ${path} at ${ref.slice(0, 12)}` }, () =>
        octokit.rest.repos.getContent({ ...repo, path, ref }),
      );
      if (Array.isArray(data) || data.type !== 'file' || !('content' in data)) continue;
      const text = Buffer.from(data.content, 'base64').toString('utf8');
      return { path, text };
    } catch (error) {
      if ((error as { status?: number }).status === 404) continue;
      throw error;
    }
  }
  return undefined;
}

/** CODEOWNERS rules in file order: a pattern and its owners; comments, blanks and negations skipped. */
export function parseCodeowners(text: string): OwnerRule[] {
  const rules: OwnerRule[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const tokens = line.split(/\s+/);
    const end = tokens.findIndex((token) => token.startsWith('#'));
    const [pattern, ...owners] = end < 0 ? tokens : tokens.slice(0, end);
    // GitHub does not support negation (!) or character ranges in CODEOWNERS: such a line matches nothing.
    if (!pattern || pattern.startsWith('!')) return;
    rules.push({ pattern, regex: codeownersRegExp(pattern), owners, line: index + 1 });
  });
  return rules;
}

/** The rule that owns a file: the last one whose pattern matches it, as in GitHub. */
export function ownerRuleFor(rules: readonly OwnerRule[], file: string): OwnerRule | undefined {
  const path = file.replace(/^\/+/, '');
  for (let i = rules.length - 1; i >= 0; i--) if (rules[i]!.regex.test(path)) return rules[i];
  return undefined;
}

/**
 * A CODEOWNERS pattern (gitignore-like) as a regular expression over a repository path: a
 * pattern with a slash (other than a trailing one) is anchored at the root, otherwise it matches
 * at any depth; `*` and `?` stay within a folder, `**` crosses them; a trailing slash names a
 * folder and everything under it; a literal name matches a file or a folder (and all under it);
 * a last part with a wildcard (docs/*) matches files directly under it only.
 */
export function codeownersRegExp(pattern: string): RegExp {
  let body = pattern;
  const folder = body.endsWith('/');
  if (folder) body = body.replace(/\/+$/, '');
  const anchored = body.includes('/');
  body = body.replace(/^\/+/, '');
  let source = '';
  for (let i = 0; i < body.length; i++) {
    const char = body[i]!;
    if (char === '*' && body[i + 1] === '*') {
      const slash = body[i + 2] === '/';
      source += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  const last = body.split('/').pop() ?? '';
  const suffix = folder ? '/.*' : /[*?]/.test(last) ? '' : '(?:/.*)?';
  return new RegExp(`^${anchored ? '' : '(?:.*/)?'}${source}${suffix}$`, 's');
}

function result(
  rule: ReviewApprovedRule,
  status: 'pass' | 'fail',
  code: string,
  reason: string,
  evidence: Record<string, unknown>,
): ItemResult {
  return { id: ID, name: NAME, required: rule.required, status, code, reason, evidence };
}

const login = (review: ReviewData): string => review.user?.login ?? '';
