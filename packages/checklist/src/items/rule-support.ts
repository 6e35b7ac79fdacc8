import { realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import { onGitHub } from '@deploy-suite/github';
import { escapeUntrusted, parseDuration } from '@deploy-suite/kit';
import { globToRegExp } from '@deploy-suite/policy';
import { z } from 'zod';
import type { ChecklistContext, ItemResult } from '../item.ts';

/** Parts shared by the checklist's items: rule values, GitHub reads and results. */

/** `required` as every rule has it: an item is required unless the rules say otherwise. */
export const requiredSchema = z.boolean().default(true);

/**
 * A maximum age ("24h", "7d", "1h30m", or a number of seconds) as milliseconds. Anything else is
 * refused by name ("3 fortnights", "-1h", "0s"): an age that cannot be read never widens a check.
 */
export const durationSchema = z.union([z.string(), z.number()]).transform((raw, ctx) => {
  const ms = typeof raw === 'number' && raw < 0 ? undefined : parseDuration(String(raw));
  if (ms === undefined || !Number.isFinite(ms) || ms <= 0) {
    ctx.issues.push({
      code: 'custom',
      message: `must be a positive duration such as 24h, 7d or 1h30m (units ms, s, m, h, d), got "${String(raw)}"`,
      input: raw,
    });
    return z.NEVER;
  }
  return ms;
});

/** What globToRegExp understands; anything else (braces, classes, negation) would match literally. */
const GLOB_REFUSED = /[[\]{}!\\]/;

/** Why a path glob cannot be used, or undefined when it can. */
export function globError(glob: string): string | undefined {
  const text = glob.trim();
  if (text === '') return 'is empty';
  if (text.startsWith('/') || /^[A-Za-z]:/.test(text)) return 'must be relative to the repository root, not absolute';
  if (text.split('/').includes('..')) return 'must not climb out of the repository with ..';
  if (GLOB_REFUSED.test(text)) return 'uses syntax that is not supported here ([ ] { } ! \\): only *, ** and ? are';
  if (/\*\*\*/.test(text)) return 'has *** (use ** to cross folders)';
  if (/[^/]\*\*|\*\*[^/]/.test(text)) return 'has ** next to other characters (write **/ or /**)';
  try {
    globToRegExp(text);
  } catch {
    return 'does not compile';
  }
  return undefined;
}

/** A path glob, validated: `*` and `?` within a folder, `**` across folders, a trailing / for a whole folder. */
export const globSchema = z.string().transform((raw, ctx) => {
  const error = globError(raw);
  if (error !== undefined) {
    ctx.issues.push({ code: 'custom', message: `"${raw}" is not a valid glob: ${error}`, input: raw });
    return z.NEVER;
  }
  return raw.trim();
});

/** One glob or a list of them, as a list (each validated as globSchema does). */
export const globsSchema = z.union([z.string(), z.array(z.string())]).transform((raw, ctx): string[] => {
  const list = typeof raw === 'string' ? [raw] : raw;
  if (list.length === 0) {
    ctx.issues.push({ code: 'custom', message: 'needs at least one glob', input: raw });
    return z.NEVER;
  }
  const globs: string[] = [];
  for (const [index, glob] of list.entries()) {
    const error = globError(glob);
    if (error === undefined) globs.push(glob.trim());
    else
      ctx.issues.push({
        code: 'custom',
        message: `"${glob}" is not a valid glob: ${error}`,
        input: glob,
        ...(typeof raw === 'string' ? {} : { path: [index] }),
      });
  }
  return globs.length === list.length ? globs : z.NEVER;
});

/** A folder or file inside the repository, written relative to its root ("db/migrations"). */
export const repoPathSchema = z.string().transform((raw, ctx) => {
  const text = raw.trim().replace(/^\.\//, '').replace(/\/+$/, '');
  const problem =
    text === '' || text === '.'
      ? 'is empty'
      : isAbsolute(text) || /^[A-Za-z]:/.test(text)
        ? 'must be relative to the repository root'
        : text.split(/[\\/]/).includes('..')
          ? 'must not climb out of the repository with ..'
          : undefined;
  if (problem !== undefined) {
    ctx.issues.push({ code: 'custom', message: `"${raw}" ${problem}`, input: raw });
    return z.NEVER;
  }
  return text;
});

/** Whether a repository path lies at or below a folder. */
export const isUnder = (file: string, folder: string): boolean => {
  const path = file.replace(/^\.\//, '');
  return path === folder || path.startsWith(`${folder}/`);
};

/** Whether a path exists inside the workspace (a link pointing outside it does not count). */
export function existsInside(workspace: string, path: string): boolean {
  try {
    const root = realpathSync(workspace);
    const real = realpathSync(join(workspace, path));
    const inside = relative(root, real);
    if (inside.startsWith(`..${sep}`) || inside === '..' || isAbsolute(inside)) return false;
    statSync(real);
    return true;
  } catch {
    return false;
  }
}

/** The base of one item's results. */
export interface ResultBase {
  id: string;
  name: string;
  required: boolean;
}

/** A result of the given status: the base, a stable code, the reason, the evidence and any link or time. */
const judged =
  (status: ItemResult['status']) =>
  (
    base: ResultBase,
    code: string,
    reason: string,
    evidence: Record<string, unknown>,
    extra: Pick<ItemResult, 'url' | 'observedAt'> = {},
  ): ItemResult => ({ ...base, status, code, reason, evidence, ...defined(extra) });

export const pass = judged('pass');
export const fail = judged('fail');

const defined = (extra: Pick<ItemResult, 'url' | 'observedAt'>) =>
  Object.fromEntries(Object.entries(extra).filter(([, value]) => value !== undefined)) as Pick<
    ItemResult,
    'url' | 'observedAt'
  >;

/** Evidence that could not be read is a fail ("unavailable"), never a pass: what went wrong, bounded. */
export function unavailable(
  base: ResultBase,
  doing: string,
  error: unknown,
  evidence: Record<string, unknown> = {},
): ItemResult {
  const message = error instanceof Error ? error.message : String(error);
  return fail(base, 'unavailable', `Could not ${doing}: ${escapeUntrusted(message, 400)}`, {
    ...evidence,
    unavailable: doing,
  });
}

/** The age of a remote time at the context's now, or undefined when the time cannot be read. */
export function ageOf(context: ChecklistContext, iso: string | null | undefined): number | undefined {
  const at = iso ? Date.parse(iso) : Number.NaN;
  return Number.isFinite(at) ? context.clock.now() - at : undefined;
}

/** "3 h", "2 d 4 h": an age for a reason line. */
export function formatAge(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${Math.max(0, minutes)} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h${minutes % 60 ? ` ${minutes % 60} min` : ''}`;
  return `${Math.floor(hours / 24)} d${hours % 24 ? ` ${hours % 24} h` : ''}`;
}

/** The fields of a check run the items read. */
export interface CheckRunFacts {
  id: number;
  name: string;
  status: string;
  conclusion: string | null;
  app: string | undefined;
  completedAt: string | undefined;
  url: string;
  output: { title: string | null; summary: string | null; text: string | null };
}

/** The app a single check run must come from unless a rule names another: any installed app can post a run of any name. */
export const checkAppSchema = z.string().trim().min(1, 'names no app').default('github-actions');

/**
 * The newest check run with this exact name on the SHA made by `app` (every page read), or
 * undefined when there is none. A re-run makes a new check run with a higher id; the newest one
 * speaks.
 */
export async function latestCheckRun(
  context: ChecklistContext,
  name: string,
  app: string,
): Promise<CheckRunFacts | undefined> {
  const { octokit, repo, sha } = context;
  const runs = await onGitHub({ doing: `listing the check runs named ${name} on ${sha.slice(0, 12)}` }, () =>
    octokit.paginate(octokit.rest.checks.listForRef, {
      ...repo,
      ref: sha,
      check_name: name,
      filter: 'all',
      per_page: 100,
    }),
  );
  const named = runs.filter((run) => run.name === name && run.head_sha === sha && run.app?.slug === app);
  const newest = named.reduce<(typeof named)[number] | undefined>(
    (top, run) => (top === undefined || run.id > top.id ? run : top),
    undefined,
  );
  if (newest === undefined) return undefined;
  return {
    id: newest.id,
    name: newest.name,
    status: newest.status,
    conclusion: newest.conclusion,
    app: newest.app?.slug,
    completedAt: newest.completed_at ?? undefined,
    url: newest.html_url ?? newest.url,
    output: { title: newest.output.title, summary: newest.output.summary, text: newest.output.text },
  };
}

/** A line of the PR body with where it sits: inside a fenced or indented code block or an HTML comment. */
export interface BodyLine {
  text: string;
  /** Inside a fenced (``` or ~~~) or indented code block, or an HTML comment: not prose. */
  code: boolean;
}

const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const LIST_ITEM = /^\s*(?:[-*+]|\d+[.)])\s/;

/**
 * The PR body's lines, marking those that are code or commented out: a fence closes only with
 * the same character at least as long; an indented block (4 spaces or a tab) starts after a blank
 * line that does not continue a list; `<!-- … -->` hides what it wraps (PR templates use it).
 */
export function bodyLines(body: string): BodyLine[] {
  const lines = body.replace(/\r\n?/g, '\n').split('\n');
  const out: BodyLine[] = [];
  let fence: string | undefined;
  let comment = false;
  let indented = false;
  let inList = false;
  let previousBlank = true;
  for (const text of lines) {
    if (fence !== undefined) {
      const close = FENCE.exec(text);
      if (close && close[1]![0] === fence[0] && close[1]!.length >= fence.length && text.trim() === close[1])
        fence = undefined;
      out.push({ text, code: true });
      continue;
    }
    if (comment) {
      if (text.includes('-->')) comment = false;
      out.push({ text, code: true });
      continue;
    }
    const blank = text.trim() === '';
    const isIndented = /^( {4}|\t)/.test(text);
    if (indented && (blank || isIndented)) {
      out.push({ text, code: true });
      previousBlank = blank;
      continue;
    }
    indented = false;
    if (!blank && isIndented && previousBlank && !inList) {
      indented = true;
      out.push({ text, code: true });
      previousBlank = false;
      continue;
    }
    const open = FENCE.exec(text);
    if (open) {
      fence = open[1]!;
      out.push({ text, code: true });
      previousBlank = false;
      continue;
    }
    const commentStart = text.indexOf('<!--');
    if (commentStart !== -1 && !text.includes('-->', commentStart + 4)) {
      comment = true;
      // What comes before the comment on its line is still prose.
      out.push({ text: text.slice(0, commentStart), code: false });
      previousBlank = false;
      continue;
    }
    out.push({ text: text.replace(/<!--.*?-->/g, ''), code: false });
    if (!blank) inList = LIST_ITEM.test(text) || (inList && /^\s+/.test(text));
    previousBlank = blank;
  }
  return out;
}

/** A list for a reason line: the first few, then how many more. */
export function shortList(items: string[], shown = 5): string {
  const head = items.slice(0, shown).join(', ');
  return items.length > shown ? `${head} and ${items.length - shown} more` : head;
}

/** An error's message on one line, bounded, for a reason. */
export function errorText(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').slice(0, 400);
}

/** Code-point order, the same on every machine (localeCompare is not). */
export const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Why the checkout cannot speak for the SHA, or undefined when it can (or is not a git checkout). */
export function checkoutProblem(context: ChecklistContext): string | undefined {
  const at = context.workspaceSha;
  if (at === undefined || at === context.sha) return undefined;
  return `the workspace is checked out at ${at.slice(0, 12)}, not ${context.sha.slice(0, 12)}: check out the SHA being deployed (actions/checkout with ref: the head SHA)`;
}
