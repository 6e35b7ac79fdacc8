import { onGitHub, type GitHubClient, type Repo } from '@deploy-suite/github';
import { CONTRACT_MIGRATIONS_MARK, deploymentPayloadV1, type DeploymentPayload } from '@deploy-suite/record';
import { z } from 'zod';

/**
 * A deployment record (a GitHub Deployment made by blue-green-switch) as the incident reads it:
 * its payload by the record's own schema, and every status, oldest first. All of it came back
 * from GitHub, so all of it is untrusted input: validated here, escaped where it is shown.
 */
export interface IncidentRecord {
  id: number;
  environment: string;
  createdAt: string;
  creator: string;
  payload: DeploymentPayload;
  /** Oldest first. `own` is whether the token's own login posted it: only those count as facts. */
  statuses: { state: DeploymentStatusState; description: string; createdAt: string; creator: string; own: boolean }[];
}

const STATES = ['error', 'failure', 'inactive', 'pending', 'success', 'queued', 'in_progress'] as const;
export type DeploymentStatusState = (typeof STATES)[number];

const isoTime = z.iso.datetime({ offset: true });
const login = z.string().min(1).max(100);

const rawDeployment = z.object({
  id: z.number().int().positive(),
  environment: z.string().min(1).max(255),
  created_at: isoTime,
  creator: z.object({ login }).nullable().optional(),
  payload: z.unknown(),
});

const rawStatus = z.object({
  state: z.enum(STATES),
  description: z.string().max(2000).nullable().optional(),
  created_at: isoTime,
  creator: z.object({ login }).nullable().optional(),
});

/** At most this many statuses are read (ten pages): a record is a handful. */
const MAX_STATUSES = 1000;

/**
 * Reads deployment `id` and all its statuses. Undefined, with a warning saying why, when the
 * deployment is not the token's own (`author`), holds no record this version reads, or belongs to
 * another environment: a record anyone else could have written never steers the incident.
 */
export async function readIncidentRecord(
  octokit: GitHubClient,
  repo: Repo,
  id: number,
  options: { author: string; environment: string; warn: (line: string) => void },
): Promise<IncidentRecord | undefined> {
  const where = `deployment ${id} of ${repo.owner}/${repo.repo}`;
  const { data } = await onGitHub(
    {
      doing: `reading ${where}`,
      hints: {
        404: `Deployment ${id} does not exist in ${repo.owner}/${repo.repo}, or the token cannot see it (deployments: read).`,
      },
    },
    () => octokit.rest.repos.getDeployment({ ...repo, deployment_id: id }),
  );
  const deployment = rawDeployment.safeParse(data);
  if (!deployment.success) {
    options.warn(`${where} did not read as a deployment: the incident's timeline leaves it out`);
    return undefined;
  }
  const creator = deployment.data.creator?.login;
  if (creator !== options.author) {
    options.warn(
      `${where} was made by ${creator ?? 'an unknown account'}, not ${options.author}: it is not the suite's record, and the incident leaves it out`,
    );
    return undefined;
  }
  const raw = deployment.data.payload;
  const payload = deploymentPayloadV1.safeParse(typeof raw === 'string' ? safeJson(raw) : raw);
  if (!payload.success) {
    options.warn(
      `${where} holds no deploy-suite record of a version this action reads: the incident's timeline leaves it out`,
    );
    return undefined;
  }
  if (deployment.data.environment.toLowerCase() !== options.environment.toLowerCase()) {
    options.warn(
      `${where} is a deployment to ${deployment.data.environment.slice(0, 100)}, not ${options.environment}: the incident leaves it out`,
    );
    return undefined;
  }
  const statuses: IncidentRecord['statuses'] = [];
  let unreadable = 0;
  let read = 0;
  await onGitHub({ doing: `reading the statuses of ${where}` }, async () => {
    for await (const page of octokit.paginate.iterator(octokit.rest.repos.listDeploymentStatuses, {
      ...repo,
      deployment_id: id,
      per_page: 100,
    })) {
      for (const item of page.data) {
        read++;
        const status = rawStatus.safeParse(item);
        if (!status.success) {
          unreadable++;
          continue;
        }
        const by = status.data.creator?.login ?? 'unknown';
        statuses.push({
          state: status.data.state,
          description: status.data.description ?? '',
          createdAt: status.data.created_at,
          creator: by,
          own: by === options.author,
        });
      }
      if (read >= MAX_STATUSES) break;
    }
  });
  if (unreadable > 0)
    options.warn(`${unreadable} status(es) of ${where} did not read as deployment statuses: left out`);
  statuses.sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));
  return {
    id: deployment.data.id,
    environment: deployment.data.environment,
    createdAt: deployment.data.created_at,
    creator,
    payload: payload.data,
    statuses,
  };
}

/** What the record says happened, from the token's own statuses only. */
export function recordFacts(record: IncidentRecord): {
  trafficMoved: boolean;
  rolledBack: boolean;
  rollbackFailed: boolean;
  migrated: boolean;
} {
  const own = record.statuses.filter((status) => status.own && status.description !== CONTRACT_MIGRATIONS_MARK);
  const migrated = record.statuses.some(
    (status) => status.own && status.state === 'success' && status.description === CONTRACT_MIGRATIONS_MARK,
  );
  if (record.payload.rolledBack !== null) {
    // A rollback's own record: how it ended is how the rollback went.
    const last = own.filter((status) => status.state !== 'in_progress' && status.state !== 'inactive').at(-1);
    const failed = last?.state === 'failure' || last?.state === 'error';
    return { trafficMoved: true, rolledBack: last?.state === 'success', rollbackFailed: failed, migrated };
  }
  return {
    // A switch posts success when it finished and failure only once it began routing.
    trafficMoved: own.some((status) => status.state === 'success' || status.state === 'failure'),
    rolledBack: own.some((status) => status.state === 'inactive' && /^rolled back/i.test(status.description)),
    rollbackFailed: false,
    migrated,
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
