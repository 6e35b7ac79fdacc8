import { onGitHub, type GitHubClient, type Repo } from '@deploy-suite/github';
import type { DeploymentRecord } from '@deploy-suite/record';
import { z } from 'zod';
import { transitions } from './read.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface Window {
  /** Inclusive. */
  from: Date;
  /** Exclusive. */
  to: Date;
}

export interface DoraOptions {
  window: Window;
  /**
   * The time of a commit (GitHub's commit date: see `commitDates`), or undefined when unknown;
   * without it, lead time is null. Called once per SHA.
   */
  commits?: (sha: string) => Promise<Date | undefined>;
  /**
   * Environments to report even when no record of them was read (their figures are zeros and
   * nulls), besides every environment among the records: the ones a caller asked for by name.
   */
  environments?: string[];
}

/**
 * The four DORA figures of one environment over a window [from, to).
 *
 * A *change* is a deployment record that is not itself a rollback (`rolledBack` null); a
 * rollback's record is the remedy, not a change, and counts only as a restore. Statuses are read
 * without the contract-migrations mark (a second success posted later). A change *succeeded* at
 * its first success status; it *failed* at the earlier of its first failure status and the
 * creation of a rollback record that undid it (same environment); it is *finished* once it
 * succeeded or failed (in_progress, pending or errored ones are not: an errored deployment never
 * touched the router).
 */
export interface EnvironmentFigures {
  environment: string;
  /** Changes that succeeded within the window. */
  successful: number;
  /**
   * Deployment frequency: changes that succeeded within the window ÷ the window's length in days
   * (0 when none did; null only for a zero-length window).
   */
  deploymentFrequencyPerDay: number | null;
  /**
   * Lead time for changes: the median, in hours, over the SHAs whose first successful change in
   * this environment (among the records read) falls within the window, of that success's time
   * minus the commit's time (clamped at 0). SHAs whose commit time is unknown are left out; null
   * when none is left. The production environment's figure is DORA's lead time.
   */
  leadTimeHours: number | null;
  leadTimeSamples: number;
  /** Changes created within the window that failed (failure status or rolled back). */
  failed: number;
  /** Changes created within the window that are finished (succeeded or failed). */
  finished: number;
  /** Change failure rate: failed ÷ finished; null when nothing finished. */
  changeFailureRate: number | null;
  /**
   * Time to restore: the median, in hours, over the failures (as defined above) that happened
   * within the window, of the time from the failure to the next success status of any other
   * record in this environment (a rollback's or a new change's) after it; null when no failure
   * in the window was restored. Each failure counts on its own, even when one success restores
   * several.
   */
  timeToRestoreHours: number | null;
  restored: number;
  /** Failures within the window with no success after them yet. */
  unrestored: number;
}

export interface DoraReport {
  window: { from: string; to: string; days: number };
  /** Sorted by name. */
  environments: EnvironmentFigures[];
}

/** One record of an environment, classified as the figures read it (see EnvironmentFigures). */
export interface Classified {
  record: DeploymentRecord;
  created: number;
  succeeded: number | undefined;
  failed: number | undefined;
  /** Success times of this record, oldest first. */
  successes: number[];
}

/**
 * The four DORA figures per environment (every environment among the records, and every one
 * named in `options.environments`), over the window.
 */
export async function doraFigures(records: DeploymentRecord[], options: DoraOptions): Promise<DoraReport> {
  const from = options.window.from.getTime();
  const to = options.window.to.getTime();
  if (!Number.isFinite(from) || !Number.isFinite(to) || to < from) {
    throw new RangeError(
      `the window must run forwards: ${options.window.from.toString()} to ${options.window.to.toString()}`,
    );
  }
  const inWindow = (time: number | undefined): time is number => time !== undefined && time >= from && time < to;
  const commitTimes = new Map<string, Promise<Date | undefined>>();
  const commitTime = (sha: string): Promise<Date | undefined> => {
    let time = commitTimes.get(sha);
    if (time === undefined) commitTimes.set(sha, (time = options.commits?.(sha) ?? Promise.resolve(undefined)));
    return time;
  };

  const byEnvironment = groupByEnvironment(records, options.environments);

  const environments: EnvironmentFigures[] = [];
  for (const [environment, list] of byEnvironment) {
    const all = classify(list);
    const changes = all.filter((c) => c.record.payload.rolledBack === null);

    const successful = changes.filter((c) => inWindow(c.succeeded)).length;

    // Lead time: each SHA once, at its first successful change here.
    const firstSuccess = new Map<string, number>();
    for (const change of changes) {
      if (change.succeeded === undefined) continue;
      const sha = change.record.payload.sha;
      firstSuccess.set(sha, Math.min(firstSuccess.get(sha) ?? Infinity, change.succeeded));
    }
    const leadTimes: number[] = [];
    for (const [sha, succeeded] of firstSuccess) {
      if (!inWindow(succeeded)) continue;
      const committed = await commitTime(sha);
      if (committed === undefined || !Number.isFinite(committed.getTime())) continue;
      leadTimes.push(Math.max(0, succeeded - committed.getTime()) / HOUR);
    }

    const created = changes.filter((c) => inWindow(c.created));
    const failed = created.filter((c) => c.failed !== undefined).length;
    const finished = created.filter((c) => c.failed !== undefined || c.succeeded !== undefined).length;

    const restoreTimes: number[] = [];
    let unrestored = 0;
    for (const change of changes) {
      const failedAt = change.failed;
      if (!inWindow(failedAt)) continue;
      let next = Infinity;
      for (const other of all) {
        if (other === change) continue;
        const success = other.successes.find((time) => time > failedAt);
        if (success !== undefined) next = Math.min(next, success);
      }
      if (Number.isFinite(next)) restoreTimes.push((next - failedAt) / HOUR);
      else unrestored++;
    }

    environments.push({
      environment,
      successful,
      deploymentFrequencyPerDay: to > from ? successful / ((to - from) / DAY) : null,
      leadTimeHours: median(leadTimes),
      leadTimeSamples: leadTimes.length,
      failed,
      finished,
      changeFailureRate: finished > 0 ? failed / finished : null,
      timeToRestoreHours: median(restoreTimes),
      restored: restoreTimes.length,
      unrestored,
    });
  }
  return {
    window: { from: options.window.from.toISOString(), to: options.window.to.toISOString(), days: (to - from) / DAY },
    environments,
  };
}

/**
 * Records by environment, sorted by name; `named` environments are present even without records.
 */
export function groupByEnvironment(records: DeploymentRecord[], named: string[] = []): Map<string, DeploymentRecord[]> {
  const byEnvironment = new Map<string, DeploymentRecord[]>(named.map((name) => [name, []]));
  for (const record of records) {
    const list = byEnvironment.get(record.environment) ?? [];
    list.push(record);
    byEnvironment.set(record.environment, list);
  }
  return new Map([...byEnvironment].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * The records of one environment classified: when each succeeded (first success status) and,
 * for a change (not itself a rollback), when it failed (the earlier of its first failure status
 * and the creation of a rollback record that undid it).
 */
export function classify(list: DeploymentRecord[]): Classified[] {
  const rollbacks = new Map<number, number>();
  for (const record of list) {
    const undone = record.payload.rolledBack;
    if (undone === null) continue;
    const created = Date.parse(record.createdAt);
    rollbacks.set(undone, Math.min(rollbacks.get(undone) ?? Infinity, created));
  }
  return list.map((record) => {
    const oldestFirst = [...transitions(record)].reverse();
    const successes = oldestFirst.filter((s) => s.state === 'success').map((s) => Date.parse(s.createdAt));
    const failure = oldestFirst.find((s) => s.state === 'failure');
    const failedAt = Math.min(
      failure ? Date.parse(failure.createdAt) : Infinity,
      record.payload.rolledBack === null ? (rollbacks.get(record.id) ?? Infinity) : Infinity,
    );
    return {
      record,
      created: Date.parse(record.createdAt),
      succeeded: successes[0],
      failed: record.payload.rolledBack === null && Number.isFinite(failedAt) ? failedAt : undefined,
      successes,
    };
  });
}

/** The median, or null for no values (never NaN). */
export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const commitAnswer = z.object({
  commit: z.object({ committer: z.object({ date: z.iso.datetime({ offset: true }) }).nullish() }),
});

/**
 * The `commits` callback read from GitHub: the commit's committer date (when it landed on the
 * branch, for a merge or squash commit), undefined when GitHub does not know the SHA or gives no
 * date. One request per SHA (doraFigures asks once per SHA).
 */
export function commitDates(octokit: GitHubClient, repo: Repo): (sha: string) => Promise<Date | undefined> {
  return async (sha) => {
    const answer = await onGitHub({ doing: `reading commit ${sha}` }, async () => {
      try {
        return await octokit.request('GET /repos/{owner}/{repo}/commits/{ref}', { ...repo, ref: sha });
      } catch (error) {
        // An unknown SHA (force-pushed away, another fork's): no lead time for it, not a failure.
        const status = (error as { status?: unknown }).status;
        if (status === 404 || status === 422) return undefined;
        throw error;
      }
    });
    const parsed = commitAnswer.safeParse(answer?.data);
    const date = parsed.success ? parsed.data.commit.committer?.date : undefined;
    return date === undefined ? undefined : new Date(date);
  };
}
