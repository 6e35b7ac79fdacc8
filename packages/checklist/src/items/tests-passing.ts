import { durationTooLong, parseDuration, quoteUntrusted } from '@deploy-suite/kit';
import {
  getIfChanged,
  onGitHub,
  PageCache,
  listAllIfChanged,
  type GitHubClient,
  type Repo,
} from '@deploy-suite/github';
import { z } from 'zod';
import { compareStrings as compare, errorText as message, shortList } from './rule-support.ts';
import type { CommonRule, ItemKind, ItemResult } from '../item.ts';

const CONCLUSIONS = [
  'success',
  'failure',
  'neutral',
  'cancelled',
  'skipped',
  'timed_out',
  'action_required',
  'stale',
] as const;
type Conclusion = (typeof CONCLUSIONS)[number];

/** A check's name or a pattern of names: `*` matches any run of characters, `?` one. */
const namePattern = z
  .string()
  .trim()
  .min(1, 'must name a check or give a pattern such as "build*"')
  .max(200)
  .refine((text) => !/\p{Cc}/u.test(text), 'must not hold control characters')
  .refine((text) => !/\*\*\*/.test(text), 'is not a valid pattern ("***")');

const duration = z.union([z.string(), z.number()]).transform((value, context): number => {
  const ms = typeof value === 'number' ? (value >= 0 ? value * 1000 : undefined) : parseDuration(value);
  if (ms === undefined) {
    context.addIssue({
      code: 'custom',
      message: `must be a duration such as 90s, 10m or 1h, got ${JSON.stringify(value)}`,
    });
    return z.NEVER;
  }
  const tooLong = durationTooLong(ms);
  if (tooLong !== undefined) {
    context.addIssue({ code: 'custom', message: tooLong });
    return z.NEVER;
  }
  return ms;
});

const schema = z
  .object({
    required: z.boolean().default(true),
    /** Conclusions of a completed check run that count as passing. */
    'allowed-conclusions': z
      .array(z.enum(CONCLUSIONS))
      .min(1)
      .default(['success', 'skipped', 'neutral'] as Conclusion[]),
    /** Checks that must be present (by name or pattern) and, when an app is named, made by that app. */
    'required-checks': z
      .array(
        z.strictObject({
          name: namePattern,
          /** The app's slug, e.g. github-actions. */
          app: z.string().trim().min(1).optional(),
        }),
      )
      .default([]),
    /** Checks not judged at all (names or patterns), e.g. the deploy workflow's own job. */
    ignore: z.array(namePattern).default([]),
    /** How long to wait for pending checks (e.g. 10m); 0 judges at once. Parsed to ms. */
    wait: duration.default(0),
  })
  .strict();

export type TestsPassingRule = z.output<typeof schema> & CommonRule;

/** One check run or commit status as the verdict reads it. */
interface Check {
  kind: 'check-run' | 'status';
  name: string;
  /** The app's slug for a check run; a status has none (its creator is a user). */
  app: string | undefined;
  /** completed or pending (queued, in progress, or a pending status). */
  state: 'completed' | 'pending';
  /** A check run's conclusion, or a status's state (success, failure, error). */
  conclusion: string | null;
  id: number;
  completedAt: string | null;
  url: string | null;
}

interface CheckRunData {
  id: number;
  name: string;
  status: string;
  conclusion: string | null;
  completed_at: string | null;
  html_url: string | null;
  app: { slug?: string } | null;
}

interface StatusData {
  id: number;
  context: string;
  state: string;
  updated_at: string;
  target_url: string | null;
}

/** What polling keeps between reads: every page's ETag and body. */
interface Caches {
  runs: PageCache;
  statuses: PageCache;
}

const ID = 'tests-passing';
const NAME = 'Tests passing';
/** First wait between polls, and the longest. */
const FIRST_POLL_MS = 5_000;
const MAX_POLL_MS = 60_000;
/** Names listed in a reason before "and N more". */
const listed = (names: string[]): string => shortList(names, 10);

/**
 * Every check run and commit status on the SHA (every page) passed or has an allowed conclusion;
 * required checks are present, made by the app named; a pending check is not passing. With a
 * wait, pending (or not yet started) checks are polled with conditional requests, backing off,
 * until they finish or the wait is over.
 */
export const testsPassing: ItemKind<TestsPassingRule> = {
  id: ID,
  schema: schema,
  async evaluate(rule, context) {
    const caches: Caches = { runs: new PageCache(), statuses: new PageCache() };
    const deadline = context.clock.now() + rule.wait;
    let pause = FIRST_POLL_MS;
    for (;;) {
      let checks: Check[];
      try {
        checks = await readChecks(context.octokit, context.repo, context.sha, caches);
      } catch (error) {
        return result(
          rule,
          'fail',
          'unavailable',
          `Checks of ${context.sha.slice(0, 12)} could not be read: ${message(error)}`,
          {
            sha: context.sha,
          },
        );
      }
      const verdict = judge(rule, context.sha, checks);
      const waiting = ['check-pending', 'no-checks', 'check-missing'].includes(verdict.code);
      const left = deadline - context.clock.now();
      if (!waiting || left <= 0) return verdict;
      const sleep = Math.min(pause, left);
      context.log(`${NAME}: ${verdict.reason} Checking again in ${Math.ceil(sleep / 1000)} s.`);
      await context.clock.sleep(sleep);
      pause = Math.min(MAX_POLL_MS, Math.round(pause * 1.5));
    }
  },
};

/** Check runs (the latest per app and name) and statuses (the newest per context), every page. */
async function readChecks(octokit: GitHubClient, repo: Repo, sha: string, caches: Caches): Promise<Check[]> {
  const runs = await onGitHub({ doing: `listing the check runs of ${sha.slice(0, 12)}` }, () =>
    listCheckRuns(octokit, repo, sha, caches.runs),
  );
  const statuses = await onGitHub({ doing: `listing the commit statuses of ${sha.slice(0, 12)}` }, () =>
    listAllIfChanged<StatusData>(
      octokit,
      'GET /repos/{owner}/{repo}/commits/{ref}/statuses',
      { ...repo, ref: sha },
      caches.statuses,
    ),
  );
  const latestRuns = new Map<string, CheckRunData>();
  for (const run of runs) {
    const key = `${run.app?.slug ?? ''}\u0000${run.name}`;
    const seen = latestRuns.get(key);
    if (!seen || run.id > seen.id) latestRuns.set(key, run);
  }
  const checks: Check[] = [...latestRuns.values()].map((run) => ({
    kind: 'check-run',
    name: run.name,
    app: run.app?.slug,
    state: run.status === 'completed' ? 'completed' : 'pending',
    conclusion: run.status === 'completed' ? run.conclusion : null,
    id: run.id,
    completedAt: run.status === 'completed' ? run.completed_at : null,
    url: run.html_url,
  }));
  // Statuses come newest first: the first of each context is the one that counts.
  const contexts = new Set<string>();
  for (const status of statuses.items) {
    if (contexts.has(status.context)) continue;
    contexts.add(status.context);
    checks.push({
      kind: 'status',
      name: status.context,
      app: undefined,
      state: status.state === 'pending' ? 'pending' : 'completed',
      conclusion: status.state === 'pending' ? null : status.state,
      id: status.id,
      completedAt: status.state === 'pending' ? null : status.updated_at,
      url: status.target_url,
    });
  }
  return checks.sort((a, b) => compare(a.name, b.name) || compare(a.app ?? '', b.app ?? '') || a.id - b.id);
}

/**
 * Every page of the check runs (GitHub wraps them in { total_count, check_runs }), each page a
 * conditional request: a 304 reuses the page read before, at no cost in rate limit.
 */
async function listCheckRuns(octokit: GitHubClient, repo: Repo, sha: string, cache: PageCache) {
  const runs: CheckRunData[] = [];
  for (let page = 1; ; page++) {
    const cached = cache.pages.get(page);
    const answer = await getIfChanged<{ check_runs?: unknown }>(
      octokit,
      'GET /repos/{owner}/{repo}/commits/{ref}/check-runs',
      { ...repo, ref: sha, filter: 'latest', per_page: 100, page },
      cached?.etag,
    );
    let current = cached;
    if (answer.changed || !current) {
      const list = answer.data?.check_runs;
      if (!Array.isArray(list)) throw new TypeError('GitHub answered the check runs with something other than a list');
      current = { etag: answer.etag, data: list, hasNext: /\brel="next"/.test(answer.link ?? '') };
      cache.pages.set(page, current);
    }
    runs.push(...(current.data as CheckRunData[]));
    if (!current.hasNext) {
      for (const stale of [...cache.pages.keys()].filter((p) => p > page)) cache.pages.delete(stale);
      return runs;
    }
  }
}

function judge(rule: TestsPassingRule, sha: string, all: Check[]): ItemResult {
  const ignorePatterns = rule.ignore.map(patternToRegExp);
  const ignored = all.filter((check) => ignorePatterns.some((pattern) => pattern.test(check.name)));
  const judged = all.filter((check) => !ignored.includes(check));
  const allowed = new Set<string>(rule['allowed-conclusions']);
  const passed = (check: Check) =>
    check.kind === 'status' ? check.conclusion === 'success' : allowed.has(check.conclusion ?? '');
  const failed = judged.filter((check) => check.state === 'completed' && !passed(check));
  const pending = judged.filter((check) => check.state === 'pending');

  const missing: string[] = [];
  const wrongApp: string[] = [];
  const wrongAppEvidence: { name: string; wanted: string; madeBy: string[] }[] = [];
  for (const required of rule['required-checks']) {
    const pattern = patternToRegExp(required.name);
    const named = all.filter((check) => pattern.test(check.name));
    if (named.length === 0) missing.push(required.name);
    else if (required.app !== undefined && !named.some((check) => check.app === required.app)) {
      const apps = [...new Set(named.map((check) => check.app ?? 'a commit status'))];
      wrongAppEvidence.push({ name: required.name, wanted: required.app, madeBy: apps });
      wrongApp.push(
        `${quoteUntrusted(required.name, 100)} (wanted ${required.app}, made by ${apps.map((a) => quoteUntrusted(a, 60)).join(', ')})`,
      );
    }
  }

  const completions = judged.map((check) => check.completedAt).filter((at): at is string => at !== null);
  const evidence = {
    sha,
    checks: judged.map((check) => ({
      name: check.name,
      kind: check.kind,
      app: check.app ?? null,
      conclusion: check.state === 'pending' ? 'pending' : check.conclusion,
      id: check.id,
      completedAt: check.completedAt,
    })),
    // No ids: an ignored check is often this very job, whose run id changes with every run.
    ignored: ignored.map((check) => ({ name: check.name, kind: check.kind })),
    requiredChecks: rule['required-checks'].map((required) => ({ name: required.name, app: required.app ?? null })),
    missing,
    wrongApp: wrongAppEvidence,
  };
  const observedAt = completions.length > 0 ? completions.reduce((a, b) => (a > b ? a : b)) : undefined;
  const done = (status: 'pass' | 'fail', code: string, reason: string, url?: string | null): ItemResult => ({
    ...result(rule, status, code, reason, evidence),
    ...(url ? { url } : {}),
    ...(observedAt === undefined ? {} : { observedAt }),
  });
  const short = sha.slice(0, 12);

  if (all.length === 0) {
    const required =
      missing.length > 0 ? ` (required: ${listed(missing.map((name) => quoteUntrusted(name, 100)))})` : '';
    return done('fail', 'no-checks', `Nothing ran on ${short}: no check run or commit status${required}.`);
  }
  if (failed.length > 0) {
    const names = failed.map(
      (check) => `${quoteUntrusted(check.name, 100)} (${quoteUntrusted(check.conclusion ?? 'none', 30)})`,
    );
    return done(
      'fail',
      'check-failed',
      `${failed.length} of ${judged.length} checks on ${short} did not pass: ${listed(names)}.`,
      failed[0]!.url,
    );
  }
  if (wrongApp.length > 0) {
    return done('fail', 'wrong-app', `Required checks on ${short} made by another app: ${listed(wrongApp)}.`);
  }
  if (missing.length > 0) {
    return done(
      'fail',
      'check-missing',
      `Required checks absent from ${short}: ${listed(missing.map((name) => quoteUntrusted(name, 100)))}.`,
    );
  }
  if (pending.length > 0) {
    return done(
      'fail',
      'check-pending',
      `${pending.length} of ${judged.length} checks on ${short} have not finished: ${listed(pending.map((check) => quoteUntrusted(check.name, 100)))}.`,
      pending[0]!.url,
    );
  }
  if (judged.length === 0) {
    return done('fail', 'no-checks', `Nothing but ignored checks ran on ${short} (${ignored.length} ignored).`);
  }
  return done(
    'pass',
    'ok',
    `All ${judged.length} checks on ${short} passed${ignored.length > 0 ? ` (${ignored.length} ignored)` : ''}.`,
  );
}

function result(
  rule: TestsPassingRule,
  status: 'pass' | 'fail',
  code: string,
  reason: string,
  evidence: Record<string, unknown>,
): ItemResult {
  return { id: ID, name: NAME, required: rule.required, status, code, reason, evidence };
}

/** A check name pattern: `*` any run of characters, `?` one, the rest literal; the whole name must match. */
export function patternToRegExp(pattern: string): RegExp {
  const source = Array.from(pattern.trim(), (char) => char)
    .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, 's');
}
