import { createHash } from 'node:crypto';
import { GitHubApiError, gitHubFailure, tokenLogin, type GitHubClient, type Repo } from '@deploy-suite/github';
import { DeliveryError, digestOf, type Channel, type SendContext, type SendResult } from '../channel.ts';
import { markdownText } from '../escape.ts';
import { allLinks, facts, statusWord, type DeploymentMessage, type Status } from '../message.ts';
import type { ThreadState } from '../thread.ts';

/** Where the comment lives: a pull request or issue (the change request), or a commit. */
export type GitHubCommentTarget = { kind: 'issue'; number: number } | { kind: 'commit'; sha: string };

export interface GitHubCommentConfig {
  octokit: GitHubClient;
  repo: Repo;
  target: GitHubCommentTarget;
  /**
   * The login the token acts as, whose comments count as the suite's own. Default: asked of
   * GitHub (a personal token), else `appBot` (an installation token cannot read its own login).
   */
  login?: string;
  /** The bot an installation token acts as; default github-actions[bot] (the workflow's GITHUB_TOKEN). */
  appBot?: string;
}

type GitHubState = NonNullable<ThreadState['github']>;

/** GitHub refuses comments over 65,536 characters; details are cut to stay well within. */
const MAX_BODY = 60_000;

const ICONS: Record<Status, string> = {
  scheduled: '🗓️',
  started: '🚀',
  approved: '👍',
  'backed-up': '💾',
  migrated: '🗄️',
  switched: '🔀',
  verified: '🔎',
  warning: '⚠️',
  succeeded: '✅',
  failed: '❌',
  'rolled-back': '↩️',
};

/**
 * The hidden marker that makes a comment the thread's own: a hash of the thread key, so a
 * re-run whose thread state was lost finds its comment instead of posting a second one.
 */
export function gitHubCommentMarker(threadKey: string): string {
  return `<!-- deploy-suite:notify ${createHash('sha256').update(threadKey).digest('hex').slice(0, 16)} -->`;
}

/** A link target safe inside `[label](…)`: http(s) only, with nothing that could end it early. */
export function linkTarget(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return undefined;
  return parsed.href.replace(/\(/g, '%28').replace(/\)/g, '%29').replace(/</g, '%3C').replace(/>/g, '%3E');
}

/** Escaped lines of free text (details), kept as lines. */
function textLines(text: string): string {
  return text
    .split(/\r?\n|\r/)
    .map((line) => markdownText(line))
    .join('  \n');
}

/**
 * The comment's body: a headline, the title, a table of facts, the timeline of the thread's
 * stages, links, details folded away, and the marker. Every value a person typed is escaped
 * with markdownText, so it can neither format, link nor mention.
 */
export function renderGitHubComment(context: SendContext): string {
  const { message, thread } = context;
  const parts: string[] = [
    gitHubCommentMarker(thread.key),
    `### ${ICONS[message.status]} ${markdownText(context.text)}`,
  ];
  if (message.title !== undefined && message.title.trim() !== '') parts.push(`**${markdownText(message.title)}**`);
  const rows = facts(message, context.audience);
  if (rows.length > 0) {
    parts.push(
      [
        '| | |',
        '| --- | --- |',
        ...rows.map((row) => `| ${markdownText(row.label)} | ${markdownText(row.value)} |`),
      ].join('\n'),
    );
  }
  parts.push(`**Timeline**\n\n${timeline(message, thread)}`);
  const links = allLinks(message)
    .map((link) => ({ label: markdownText(link.label), url: linkTarget(link.url) }))
    .filter((link): link is { label: string; url: string } => link.url !== undefined)
    .map((link) => `[${link.label}](${link.url})`);
  if (links.length > 0) parts.push(links.join(' · '));
  const head = parts.join('\n\n');
  if (message.details !== undefined && message.details.trim() !== '') {
    const room = MAX_BODY - head.length - 100;
    let details = textLines(message.details);
    if (details.length > room) details = `${details.slice(0, Math.max(0, room)).replace(/\\$/, '')}…`;
    return `${head}\n\n<details><summary>Details</summary>\n\n${details}\n\n</details>\n`;
  }
  return `${head}\n`;
}

/** The thread's stages in order, this one included, each with its time. */
function timeline(message: DeploymentMessage, thread: ThreadState): string {
  const stages = thread.stages.map((stage) => ({ status: stage.status, at: stage.at }));
  if (!stages.some((stage) => stage.status === message.status)) stages.push({ status: message.status, at: message.at });
  return stages
    .map(
      (stage) =>
        `- ${ICONS[stage.status]} ${markdownText(statusWord(stage.status))} · ${markdownText(stage.at.replace('T', ' ').replace(/\.\d+/, '').replace(/Z$/, ' UTC'))}`,
    )
    .join('\n');
}

interface Comment {
  id: number;
  body: string;
  login: string | undefined;
}

/**
 * A comment on the pull request, issue or commit, one per deployment: posted at the first
 * stage and edited in place at every later one (only when its body changed). When the thread
 * state was lost, the suite's own comment (by the token's login, with the thread's marker) is
 * found and edited rather than a second one posted; a comment deleted meanwhile is posted again.
 */
export function gitHubCommentChannel(config: GitHubCommentConfig): Channel {
  const { octokit, repo, target } = config;
  const targetId = target.kind === 'issue' ? String(target.number) : target.sha;
  const where =
    target.kind === 'issue'
      ? `${repo.owner}/${repo.repo}#${target.number}`
      : `commit ${target.sha.slice(0, 12)} of ${repo.owner}/${repo.repo}`;
  const permission =
    target.kind === 'issue'
      ? 'The token cannot comment here: grant "pull-requests: write" (a pull request) or "issues: write" (an issue) in the workflow\'s "permissions:" block.'
      : 'The token cannot comment on commits: grant "contents: write" in the workflow\'s "permissions:" block.';
  let login: string | undefined = config.login;

  function failure(error: unknown, doing: string, write: boolean): unknown {
    const failed = gitHubFailure(error, {
      doing,
      hints: {
        403: permission,
        ...(target.kind === 'issue'
          ? { 404: `${where} was not found, or the token cannot see it.` }
          : {
              404: `The commit was not found in ${repo.owner}/${repo.repo}, or the token cannot see it.`,
              422: `No commit ${target.sha} in ${repo.owner}/${repo.repo}.`,
            }),
      },
      ...(write ? { write: { check: `look for the deployment comment on ${where}` } } : {}),
    });
    return failed;
  }

  async function list(): Promise<Comment[]> {
    try {
      const raw =
        target.kind === 'issue'
          ? await octokit.paginate(octokit.rest.issues.listComments, {
              ...repo,
              issue_number: target.number,
              per_page: 100,
            })
          : await octokit.paginate(octokit.rest.repos.listCommentsForCommit, {
              ...repo,
              commit_sha: target.sha,
              per_page: 100,
            });
      return raw.map((comment) => ({ id: comment.id, body: comment.body ?? '', login: comment.user?.login }));
    } catch (error) {
      throw failure(error, `listing the comments of ${where}`, false);
    }
  }

  /** The thread's own comment: by the token's login and carrying the marker (a lookalike by anyone else is ignored). */
  async function findOwn(marker: string): Promise<Comment | undefined> {
    login ??= await tokenLogin(octokit, config.appBot ?? 'github-actions[bot]');
    return (await list()).find((comment) => comment.login === login && comment.body.includes(marker));
  }

  async function create(body: string, marker: string): Promise<number> {
    try {
      const { data } =
        target.kind === 'issue'
          ? await octokit.rest.issues.createComment({ ...repo, issue_number: target.number, body })
          : await octokit.rest.repos.createCommitComment({ ...repo, commit_sha: target.sha, body });
      return data.id;
    } catch (error) {
      const failed = failure(error, `commenting on ${where}`, true);
      // No answer or a 5xx: the comment may have landed; look before reporting a failure.
      if (failed instanceof GitHubApiError && (failed.status === undefined || failed.status >= 500)) {
        const landed = await findOwn(marker).catch(() => undefined);
        if (landed) return landed.id;
      }
      throw failed;
    }
  }

  /**
   * Whether a comment id read back from the thread is this thread's own comment on this target:
   * by the token's login and carrying the marker. A thread someone edited could name any comment
   * in the repository; only our own is ever edited.
   */
  async function isOwn(id: number, marker: string): Promise<boolean> {
    login ??= await tokenLogin(octokit, config.appBot ?? 'github-actions[bot]');
    try {
      const { data } =
        target.kind === 'issue'
          ? await octokit.rest.issues.getComment({ ...repo, comment_id: id })
          : await octokit.rest.repos.getCommitComment({ ...repo, comment_id: id });
      const onTarget =
        target.kind === 'issue'
          ? 'issue_url' in data &&
            typeof data.issue_url === 'string' &&
            data.issue_url.endsWith(`/issues/${target.number}`)
          : 'commit_id' in data && data.commit_id === target.sha;
      return onTarget && data.user?.login === login && (data.body ?? '').includes(marker);
    } catch (error) {
      const failed = failure(error, `reading comment ${id} on ${where}`, false);
      if (failed instanceof GitHubApiError && failed.status === 404) return false;
      throw failed;
    }
  }

  /** Edits the comment; false when it no longer exists. */
  async function edit(id: number, body: string): Promise<boolean> {
    try {
      if (target.kind === 'issue') await octokit.rest.issues.updateComment({ ...repo, comment_id: id, body });
      else await octokit.rest.repos.updateCommitComment({ ...repo, comment_id: id, body });
      return true;
    } catch (error) {
      const failed = failure(error, `editing comment ${id} on ${where}`, true);
      if (failed instanceof GitHubApiError && failed.status === 404) return false;
      throw failed;
    }
  }

  async function send(context: SendContext): Promise<SendResult> {
    const { message, thread } = context;
    const previous = thread.github;
    const marker = gitHubCommentMarker(thread.key);
    const state: GitHubState | undefined =
      previous !== undefined && previous.kind === target.kind && previous.target === targetId ? previous : undefined;
    if (state?.sent.includes(message.status)) {
      return {
        outcome: 'unchanged',
        detail: `comment ${state.commentId} already shows the ${statusWord(message.status)} stage`,
        attempts: 0,
        state,
      };
    }
    const body = renderGitHubComment(context);
    const digest = digestOf(body);
    const sent = [...(state?.sent ?? []), message.status];
    const next = (commentId: number): GitHubState => ({ sent, digest, kind: target.kind, commentId, target: targetId });

    let note = '';
    if (state !== undefined && !(await isOwn(state.commentId, marker))) {
      // Gone, or not ours: find our own comment by its marker, or post one.
      note = `comment ${state.commentId} on ${where} is gone or not this thread's own; `;
    } else if (state !== undefined) {
      if (state.digest === digest) {
        return {
          outcome: 'unchanged',
          detail: `comment ${state.commentId} already says this`,
          attempts: 0,
          state: next(state.commentId),
        };
      }
      if (await edit(state.commentId, body)) {
        return {
          outcome: 'delivered',
          detail: `edited comment ${state.commentId} on ${where}`,
          attempts: 1,
          state: next(state.commentId),
        };
      }
      const id = await create(body, marker);
      return {
        outcome: 'delivered',
        detail: `comment ${state.commentId} on ${where} had been deleted; posted comment ${id} in its place`,
        attempts: 2,
        state: next(id),
      };
    }

    const own = await findOwn(marker);
    if (own !== undefined) {
      if (digestOf(own.body) === digest) {
        return {
          outcome: 'unchanged',
          detail: `found comment ${own.id} on ${where}, already up to date`,
          attempts: 1,
          state: next(own.id),
        };
      }
      if (await edit(own.id, body)) {
        return {
          outcome: 'delivered',
          detail: `${note}found comment ${own.id} on ${where} by its marker and edited it`,
          attempts: 2,
          state: next(own.id),
        };
      }
    }
    const id = await create(body, marker);
    return {
      outcome: 'delivered',
      detail: `${note}posted comment ${id} on ${where}`,
      attempts: own === undefined ? 2 : 3,
      state: next(id),
    };
  }

  return {
    name: 'github',
    async send(context: SendContext): Promise<SendResult> {
      try {
        return await send(context);
      } catch (error) {
        // GitHub's own words, redacted and with the next step, as a delivery failure.
        if (error instanceof GitHubApiError) throw new DeliveryError(error.message);
        throw error;
      }
    },
  };
}
