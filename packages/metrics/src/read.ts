import { listAllIfChanged, onGitHub, PageCache, type GitHubClient, type Repo } from '@deploy-suite/github';
import { CONTRACT_MIGRATIONS_MARK, deploymentPayloadV1, type DeploymentRecord } from '@deploy-suite/record';
import { z } from 'zod';

/** GitHub's answer for one deployment, checked before use: anyone with deployments write can make one. */
const rawDeployment = z.object({
  id: z.number().int().positive(),
  environment: z.string().min(1).max(255),
  created_at: z.iso.datetime({ offset: true }),
  creator: z.object({ login: z.string() }).nullish(),
  payload: z.unknown(),
});

const rawStatus = z.object({
  state: z.enum(['error', 'failure', 'inactive', 'pending', 'success', 'queued', 'in_progress']),
  description: z.string().nullish(),
  created_at: z.iso.datetime({ offset: true }),
  creator: z.object({ login: z.string() }).nullish(),
});

/** ETags and pages kept between reads in one process (a poller, a re-run of the summary). */
export class MetricsCache {
  readonly deployments = new Map<string, PageCache>();
  readonly statuses = new Map<number, PageCache>();
}

export interface ReadOptions {
  /** Only these environments (one listing each); default every environment of the repository. */
  environments?: string[];
  /** Deployments created before this are left out (their statuses are not read). */
  since: Date;
  /**
   * Only deployments — and statuses — made by this login count, as the record reads them: the
   * token's own (for GITHUB_TOKEN, "github-actions[bot]"). Undefined reads everyone's records.
   */
  author?: string;
  cache?: MetricsCache;
}

export interface ReadResult {
  records: DeploymentRecord[];
  /** Requests made, and how many answered 304 (free of rate limit). */
  requests: number;
  notModified: number;
  /** Deployments listed that were left out: foreign, not a record, malformed, or before `since`. */
  skipped: number;
}

/**
 * Every deployment record of the repository created since `since`: every page of the deployments
 * list (per_page 100, conditional requests with the cache's ETags), only the author's own
 * deployments whose payload parses as the record schema, each with all its statuses (newest
 * first, as GitHub lists them), everything validated as untrusted input. Sorted oldest first.
 */
export async function readDeployments(octokit: GitHubClient, repo: Repo, options: ReadOptions): Promise<ReadResult> {
  const cache = options.cache ?? new MetricsCache();
  const since = options.since.getTime();
  let requests = 0;
  let notModified = 0;
  let skipped = 0;
  const records: DeploymentRecord[] = [];
  const seen = new Set<number>();
  for (const environment of options.environments ?? [undefined]) {
    const key = environment ?? '';
    let pages = cache.deployments.get(key);
    if (pages === undefined) cache.deployments.set(key, (pages = new PageCache()));
    const listed = await onGitHub({ doing: `listing the deployments${environment ? ` to ${environment}` : ''}` }, () =>
      listAllIfChanged<unknown>(
        octokit,
        'GET /repos/{owner}/{repo}/deployments',
        { ...repo, ...(environment === undefined ? {} : { environment }) },
        pages,
        100,
        // GitHub lists deployments newest first: a page made wholly before `since` ends the read.
        (page) => page.length > 0 && page.every((item) => createdBefore(item, since)),
      ),
    );
    requests += listed.requests;
    notModified += listed.notModified;
    for (const item of listed.items) {
      const raw = rawDeployment.safeParse(item);
      if (!raw.success || seen.has(raw.data.id)) {
        skipped++;
        continue;
      }
      const deployment = raw.data;
      const payload = deploymentPayloadV1.safeParse(
        typeof deployment.payload === 'string' ? safeJson(deployment.payload) : deployment.payload,
      );
      if (
        !payload.success ||
        (options.author !== undefined && deployment.creator?.login !== options.author) ||
        Date.parse(deployment.created_at) < since ||
        (environment !== undefined && deployment.environment !== environment)
      ) {
        skipped++;
        continue;
      }
      seen.add(deployment.id);
      let statusPages = cache.statuses.get(deployment.id);
      if (statusPages === undefined) cache.statuses.set(deployment.id, (statusPages = new PageCache()));
      const statuses = await onGitHub({ doing: `reading the statuses of deployment ${deployment.id}` }, () =>
        listAllIfChanged<unknown>(
          octokit,
          'GET /repos/{owner}/{repo}/deployments/{deployment_id}/statuses',
          { ...repo, deployment_id: deployment.id },
          statusPages,
        ),
      );
      requests += statuses.requests;
      notModified += statuses.notModified;
      records.push({
        id: deployment.id,
        environment: deployment.environment,
        createdAt: deployment.created_at,
        creator: deployment.creator?.login,
        payload: payload.data,
        statuses: statuses.items.flatMap((item) => {
          const status = rawStatus.safeParse(item);
          if (!status.success) return [];
          // Anyone with deployments write may post a status on our deployment: only ours count.
          if (options.author !== undefined && status.data.creator?.login !== options.author) return [];
          return [
            {
              state: status.data.state,
              description: (status.data.description ?? '').slice(0, 1000),
              createdAt: status.data.created_at,
              creator: status.data.creator?.login,
            },
          ];
        }),
      });
    }
  }
  records.sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt) || a.id - b.id);
  return { records, requests, notModified, skipped };
}

/** Statuses that say what happened to the deployment, without the contract-migrations mark. */
export function transitions(record: DeploymentRecord): DeploymentRecord['statuses'] {
  return record.statuses.filter((status) => status.description !== CONTRACT_MIGRATIONS_MARK);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Whether a listed deployment was made before `since`; an unreadable date is not (read on). */
function createdBefore(item: unknown, since: number): boolean {
  const created = (item as { created_at?: unknown } | null)?.created_at;
  return typeof created === 'string' && Date.parse(created) < since;
}
