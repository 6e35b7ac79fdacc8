import type { GitHubClient } from './client.ts';
import { gitHubFailure, onGitHub } from './errors.ts';
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

/**
 * The login the token acts as. A personal token can read it (GET /user); an installation token
 * (the workflow's GITHUB_TOKEN, a GitHub App's) cannot, and acts as its app's bot, so the caller
 * names that bot (github-actions[bot] for GITHUB_TOKEN).
 */
export async function tokenLogin(octokit: GitHubClient, appBot: string): Promise<string> {
  try {
    const { data } = await octokit.rest.users.getAuthenticated();
    return data.login;
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (status === 403 || status === 404) return appBot;
    throw gitHubFailure(error, { doing: 'reading which account the token acts as' });
  }
}

export interface ChangedFile {
  filename: string;
  additions: number;
  deletions: number;
}

export interface Comparison {
  url: string;
  files: ChangedFile[];
  /** GitHub lists at most 300 files of a comparison; true when it may have left some out. */
  truncated: boolean;
}

/** The files changed between two commits, as GitHub's compare API lists them (at most 300). */
export async function compareCommits(
  octokit: GitHubClient,
  repo: Repo,
  base: string,
  head: string,
): Promise<Comparison> {
  const { data } = await onGitHub(
    {
      doing: `comparing ${base.slice(0, 12)}...${head.slice(0, 12)} in ${repo.owner}/${repo.repo}`,
      hints: {
        404: `One of the commits ${base} or ${head} is not in ${repo.owner}/${repo.repo}, or the token cannot read its contents.`,
      },
    },
    () => octokit.rest.repos.compareCommitsWithBasehead({ ...repo, basehead: `${base}...${head}`, per_page: 1 }),
  );
  const files = (data.files ?? []).map((file) => ({
    filename: file.filename,
    additions: file.additions,
    deletions: file.deletions,
  }));
  return { url: data.html_url, files, truncated: files.length >= 300 };
}

/**
 * The commit of the newest deployment to an environment whose latest status is success, looked
 * for among its 30 newest deployments; undefined when there is none.
 */
export async function lastSuccessfulDeploymentSha(
  octokit: GitHubClient,
  repo: Repo,
  environment: string,
): Promise<string | undefined> {
  const { data: deployments } = await onGitHub(
    { doing: `listing the deployments to ${environment} in ${repo.owner}/${repo.repo}` },
    () => octokit.rest.repos.listDeployments({ ...repo, environment, per_page: 30 }),
  );
  for (const deployment of deployments) {
    const { data: statuses } = await onGitHub({ doing: `reading the statuses of deployment ${deployment.id}` }, () =>
      octokit.rest.repos.listDeploymentStatuses({ ...repo, deployment_id: deployment.id, per_page: 1 }),
    );
    if (statuses[0]?.state === 'success') return deployment.sha;
  }
  return undefined;
}

/**
 * Who wrote a commit, as GitHub knows it: the author and committer accounts (not GitHub's own
 * web-flow) and the authors of the pull requests that hold it. Read from GitHub, not from
 * anything a person can edit, so a gate can keep them from approving their own change. A
 * commit GitHub does not know gives an empty list.
 */
export async function commitAuthors(octokit: GitHubClient, repo: Repo, sha: string): Promise<string[]> {
  const logins = new Set<string>();
  try {
    const { data } = await octokit.rest.repos.getCommit({ ...repo, ref: sha });
    for (const who of [data.author, data.committer]) {
      if (who && 'login' in who && who.login !== 'web-flow') logins.add(who.login.toLowerCase());
    }
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (status === 404 || status === 422) return [];
    throw gitHubFailure(error, { doing: `reading commit ${sha.slice(0, 12)}` });
  }
  const pulls = await onGitHub({ doing: `listing the pull requests of commit ${sha.slice(0, 12)}` }, () =>
    octokit.rest.repos.listPullRequestsAssociatedWithCommit({ ...repo, commit_sha: sha, per_page: 100 }),
  );
  for (const pull of pulls.data) if (pull.user?.login) logins.add(pull.user.login.toLowerCase());
  return [...logins];
}
