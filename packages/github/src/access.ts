import type { GitHubClient } from './client.ts';
import { onGitHub } from './errors.ts';
import type { Repo } from './issues.ts';

/**
 * Logins of a team's members, every page read (child teams' members included, as GitHub lists
 * them). A team that does not exist, or that the token cannot see (the workflow's GITHUB_TOKEN
 * never can), is a GitHubApiError naming the team and the permission to grant — never an empty list.
 */
export async function listTeamMembers(octokit: GitHubClient, org: string, teamSlug: string): Promise<string[]> {
  const members = await onGitHub(
    {
      doing: `listing the members of team ${org}/${teamSlug}`,
      hints: {
        404: `The team ${org}/${teamSlug} does not exist, or the token cannot see it: the workflow's GITHUB_TOKEN cannot read teams, so pass a token with the organization's "members: read" permission.`,
        403: `The token cannot read team ${org}/${teamSlug}: it needs the organization's "members: read" permission.`,
      },
    },
    () => octokit.paginate(octokit.rest.teams.listMembersInOrg, { org, team_slug: teamSlug, per_page: 100 }),
  );
  return members.map((member) => member.login);
}

export type RepoPermission = 'admin' | 'write' | 'read' | 'none';

export interface CollaboratorPermission {
  /** GitHub's permission level: maintain counts as write, triage as read. */
  permission: RepoPermission;
  /** The role as named in the repository's settings (admin, maintain, write, triage, read or a custom one). */
  roleName: string;
  /** Whether the user can push now (admin, maintain or write). */
  canWrite: boolean;
}

const PERMISSIONS = new Set<string>(['admin', 'write', 'read', 'none']);

/**
 * A user's permission on a repository now (not when they commented); a user who is not a
 * collaborator, or does not exist, has none. Any other failure is a GitHubApiError.
 */
export async function getCollaboratorPermission(
  octokit: GitHubClient,
  repo: Repo,
  username: string,
): Promise<CollaboratorPermission> {
  try {
    const { data } = await onGitHub(
      { doing: `reading the permission of ${username} on ${repo.owner}/${repo.repo}` },
      () => octokit.rest.repos.getCollaboratorPermissionLevel({ ...repo, username }),
    );
    // What comes back is input: an unknown level counts as none (fail closed).
    const permission = PERMISSIONS.has(data.permission) ? (data.permission as RepoPermission) : 'none';
    return { permission, roleName: data.role_name, canWrite: permission === 'admin' || permission === 'write' };
  } catch (error) {
    if ((error as { status?: number }).status === 404) return { permission: 'none', roleName: 'none', canWrite: false };
    throw error;
  }
}

export interface WorkflowDispatchRequest {
  /** The workflow's file name (deploy.yml) or id. */
  workflow: string | number;
  /** The branch or tag to run it on. */
  ref: string;
  /** At most 25 inputs, as the workflow declares them. */
  inputs?: Record<string, string | number | boolean>;
}

/**
 * Starts a workflow_dispatch run. A write: never retried, since a dispatch that failed with a
 * 5xx may have started a run all the same.
 */
export async function dispatchWorkflow(
  octokit: GitHubClient,
  repo: Repo,
  request: WorkflowDispatchRequest,
): Promise<void> {
  await onGitHub(
    {
      doing: `dispatching workflow ${request.workflow} on ${request.ref} in ${repo.owner}/${repo.repo}`,
      write: { check: `look in the Actions tab for a new run of ${request.workflow}` },
      hints: {
        404: `Workflow ${request.workflow} was not found in ${repo.owner}/${repo.repo}, or the token cannot see it.`,
        422: `GitHub refused the dispatch: ${request.workflow} must declare "on: workflow_dispatch" with these inputs on ${request.ref}.`,
        403: 'The token cannot dispatch workflows: grant "actions: write" in the workflow\'s "permissions:" block.',
      },
    },
    () =>
      octokit.rest.actions.createWorkflowDispatch({
        ...repo,
        workflow_id: request.workflow,
        ref: request.ref,
        ...(request.inputs === undefined ? {} : { inputs: request.inputs }),
      }),
  );
}
