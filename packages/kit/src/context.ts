/** Who and what this run is, from the runner's environment; the same shape for every action. */
export interface RunContext {
  repository: string;
  sha: string;
  ref: string;
  runId: string;
  runAttempt: number;
  runUrl: string;
  actor: string;
  triggeringActor: string;
  workflow: string;
  job: string;
  eventName: string;
  /** The job's deployment environment, when the workflow names one (passed in by the caller). */
  environment: string | undefined;
  serverUrl: string;
  apiUrl: string;
  runnerTemp: string;
}

export function readRunContext(env: NodeJS.ProcessEnv = process.env, environment?: string): RunContext {
  const serverUrl = env.GITHUB_SERVER_URL ?? 'https://github.com';
  const repository = env.GITHUB_REPOSITORY ?? '';
  const runId = env.GITHUB_RUN_ID ?? '';
  return {
    repository,
    sha: env.GITHUB_SHA ?? '',
    ref: env.GITHUB_REF ?? '',
    runId,
    runAttempt: Number(env.GITHUB_RUN_ATTEMPT ?? '1') || 1,
    runUrl: repository && runId ? `${serverUrl}/${repository}/actions/runs/${runId}` : '',
    actor: env.GITHUB_ACTOR ?? '',
    triggeringActor: env.GITHUB_TRIGGERING_ACTOR ?? env.GITHUB_ACTOR ?? '',
    workflow: env.GITHUB_WORKFLOW ?? '',
    job: env.GITHUB_JOB ?? '',
    eventName: env.GITHUB_EVENT_NAME ?? '',
    environment: environment ?? env.DEPLOY_ENVIRONMENT,
    serverUrl,
    // GHES sets GITHUB_API_URL to https://HOST/api/v3; github.com to https://api.github.com.
    apiUrl: env.GITHUB_API_URL ?? 'https://api.github.com',
    runnerTemp: env.RUNNER_TEMP ?? (env.TMPDIR || '/tmp'),
  };
}
