import { onGitHub, type GitHubClient, type Repo } from '@deploy-suite/github';
import { ConfigurationError } from '@deploy-suite/kit';
import { z } from 'zod';

/**
 * The deployment record: one GitHub Deployment per environment and switch, whose payload holds
 * the facts fixed when it was made (what was deployed, which colour it made live, and the exact
 * router state before it), and whose statuses carry what happened (in_progress, success,
 * failure, inactive), so the repository's Environments page shows what runs where. Versioned:
 * every payload carries `deploySuiteRecord`, and a reader refuses a version it does not know.
 */
export const RECORD_VERSION = 1;

const colour = z.string().regex(/^[a-z][a-z0-9-]{0,30}$/);
const weights = z.record(colour, z.number().int().min(0).max(100));

export const deploymentPayloadV1 = z.strictObject({
  deploySuiteRecord: z.literal(1),
  service: z.string().max(100).nullable(),
  sha: z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/),
  artifactDigest: z.string().max(200).nullable(),
  router: z.enum(['nginx', 'kubernetes', 'aws-alb', 'command']),
  /** The colour this deployment made live (or rolled back to). */
  colour,
  /** The router's state before this deployment: what a rollback puts back. */
  previousWeights: weights,
  previousColour: colour.nullable(),
  /** The commit the previous colour runs, when a record of it was found: what a rollback deploys. */
  previousSha: z
    .string()
    .regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/)
    .nullable(),
  /** Set on a rollback's own record: the deployment it undid. */
  rolledBack: z.number().int().positive().nullable(),
  changeRequest: z.number().int().positive().nullable(),
});

export type DeploymentPayload = z.infer<typeof deploymentPayloadV1>;

/** Marks, in a status description, that the deployment's contract migrations ran: a rollback past it is unsafe. */
export const CONTRACT_MIGRATIONS_MARK = 'deploy-suite: contract migrations applied';

export interface DeploymentRecord {
  id: number;
  environment: string;
  createdAt: string;
  creator: string | undefined;
  payload: DeploymentPayload;
  /** Newest first, as GitHub lists them. */
  statuses: { state: string; description: string; createdAt: string; creator: string | undefined }[];
}

export class DeploymentRecordError extends ConfigurationError {
  override name = 'DeploymentRecordError';
}

/** Opens a deployment with its payload and an in_progress status. */
export async function createDeploymentRecord(
  octokit: GitHubClient,
  repo: Repo,
  input: { environment: string; payload: DeploymentPayload; description: string; logUrl: string | undefined },
): Promise<number> {
  const payload = deploymentPayloadV1.parse(input.payload);
  const { data } = await onGitHub(
    {
      doing: `recording a deployment to ${input.environment}`,
      write: { check: `look at the deployments of ${input.environment} in the Environments page` },
      hints: {
        403: 'The token cannot write deployments: grant "deployments: write" in the workflow\'s "permissions:" block.',
      },
    },
    () =>
      octokit.rest.repos.createDeployment({
        ...repo,
        ref: payload.sha,
        environment: input.environment,
        payload,
        description: input.description.slice(0, 140),
        auto_merge: false,
        // The switch is the deployment: the commit's checks were the gates before it.
        required_contexts: [],
        production_environment: /^prod(uction)?$/i.test(input.environment),
      }),
  );
  if (!('id' in data))
    throw new DeploymentRecordError(`GitHub did not create the deployment: ${JSON.stringify(data).slice(0, 200)}`);
  await setDeploymentStatus(octokit, repo, data.id, 'in_progress', input.description, input.logUrl);
  return data.id;
}

export type DeploymentState = 'in_progress' | 'success' | 'failure' | 'error' | 'inactive';

export async function setDeploymentStatus(
  octokit: GitHubClient,
  repo: Repo,
  id: number,
  state: DeploymentState,
  description: string,
  logUrl?: string,
  environmentUrl?: string,
): Promise<void> {
  await onGitHub(
    { doing: `marking deployment ${id} ${state}`, write: { check: `look at deployment ${id}'s statuses` } },
    () =>
      octokit.rest.repos.createDeploymentStatus({
        ...repo,
        deployment_id: id,
        state,
        description: description.slice(0, 140),
        // We post inactive ourselves, for the deployment this one replaced.
        auto_inactive: false,
        ...(logUrl ? { log_url: logUrl } : {}),
        ...(environmentUrl ? { environment_url: environmentUrl } : {}),
      }),
  );
}

/** Marks that a deployment's contract-phase migrations ran (migrate calls this after contract). */
export async function markContractMigrations(
  octokit: GitHubClient,
  repo: Repo,
  id: number,
  logUrl?: string,
): Promise<void> {
  await setDeploymentStatus(octokit, repo, id, 'success', CONTRACT_MIGRATIONS_MARK, logUrl);
}

interface RawDeployment {
  id: number;
  environment: string;
  created_at: string;
  creator?: { login: string } | null;
  payload: unknown;
}

/**
 * A deployment's record, read as untrusted input: the payload must match the version's schema
 * exactly, and only the token's own deployments count (anyone with deployments write could make
 * one with a payload of their choosing).
 */
async function toRecord(octokit: GitHubClient, repo: Repo, raw: RawDeployment): Promise<DeploymentRecord | undefined> {
  const payload = typeof raw.payload === 'string' ? safeJson(raw.payload) : raw.payload;
  const parsed = deploymentPayloadV1.safeParse(payload);
  if (!parsed.success) return undefined;
  const { data } = await onGitHub({ doing: `reading the statuses of deployment ${raw.id}` }, () =>
    octokit.rest.repos.listDeploymentStatuses({ ...repo, deployment_id: raw.id, per_page: 100 }),
  );
  return {
    id: raw.id,
    environment: raw.environment,
    createdAt: raw.created_at,
    creator: raw.creator?.login,
    payload: parsed.data,
    statuses: data.map((status) => ({
      state: status.state,
      description: status.description ?? '',
      createdAt: status.created_at,
      creator: status.creator?.login,
    })),
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export async function readDeploymentRecord(octokit: GitHubClient, repo: Repo, id: number): Promise<DeploymentRecord> {
  const { data } = await onGitHub(
    {
      doing: `reading deployment ${id}`,
      hints: { 404: `Deployment ${id} does not exist in ${repo.owner}/${repo.repo}.` },
    },
    () => octokit.rest.repos.getDeployment({ ...repo, deployment_id: id }),
  );
  const record = await toRecord(octokit, repo, data);
  if (record === undefined) {
    throw new DeploymentRecordError(
      `Deployment ${id} holds no deploy-suite record of a version this action reads (version ${RECORD_VERSION}): it was not made by blue-green-switch, or by another version of it`,
    );
  }
  return record;
}

/**
 * The environment's current deployment: the newest of the token's own records whose latest
 * status is success (an inactive, failed or unfinished one is not what runs), among the 30 newest.
 */
export function currentDeployment(
  octokit: GitHubClient,
  repo: Repo,
  environment: string,
  author: string | undefined,
): Promise<DeploymentRecord | undefined> {
  return newestDeployment(octokit, repo, environment, author, ['success']);
}

/**
 * The deployment a rollback undoes: the newest of the token's own records that may have moved
 * traffic and was not undone — a success, but also a switch cut off mid-way (still
 * in_progress) or one that failed (its automatic rollback may have been off). Inactive ones were
 * replaced or rolled back; errored ones never touched the router.
 */
export function lastSwitch(
  octokit: GitHubClient,
  repo: Repo,
  environment: string,
  author: string | undefined,
): Promise<DeploymentRecord | undefined> {
  return newestDeployment(octokit, repo, environment, author, ['success', 'in_progress', 'failure']);
}

/** The state a record is in: its latest status other than the contract-migrations mark. */
export function stateOf(record: DeploymentRecord): string | undefined {
  return (record.statuses.find((status) => status.description !== CONTRACT_MIGRATIONS_MARK) ?? record.statuses[0])
    ?.state;
}

async function newestDeployment(
  octokit: GitHubClient,
  repo: Repo,
  environment: string,
  author: string | undefined,
  states: string[],
): Promise<DeploymentRecord | undefined> {
  const { data } = await onGitHub({ doing: `listing the deployments to ${environment}` }, () =>
    octokit.rest.repos.listDeployments({ ...repo, environment, per_page: 30 }),
  );
  for (const raw of data) {
    if (author !== undefined && raw.creator?.login !== author) continue;
    const record = await toRecord(octokit, repo, raw);
    if (record === undefined) continue;
    const state = stateOf(record);
    if (state !== undefined && states.includes(state)) return record;
  }
  return undefined;
}

/** Whether the record says the deployment's contract migrations ran. */
export function contractMigrationsRan(record: DeploymentRecord): boolean {
  return record.statuses.some(
    (status) => status.state === 'success' && status.description === CONTRACT_MIGRATIONS_MARK,
  );
}

/**
 * The commit a colour last ran, from the newest of the token's own records before `beforeId`
 * that made that colour live: what a rollback to the colour deploys again.
 */
export async function commitLastServing(
  octokit: GitHubClient,
  repo: Repo,
  environment: string,
  author: string | undefined,
  colour: string,
  beforeId: number,
): Promise<string | undefined> {
  const { data } = await onGitHub({ doing: `listing the deployments to ${environment}` }, () =>
    octokit.rest.repos.listDeployments({ ...repo, environment, per_page: 30 }),
  );
  for (const raw of data) {
    if (raw.id >= beforeId || (author !== undefined && raw.creator?.login !== author)) continue;
    const parsed = deploymentPayloadV1.safeParse(typeof raw.payload === 'string' ? safeJson(raw.payload) : raw.payload);
    if (parsed.success && parsed.data.colour === colour) return parsed.data.sha;
  }
  return undefined;
}
