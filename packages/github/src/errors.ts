import { RequestError } from '@octokit/request-error';
import { RemoteError, redact } from '@deploy-suite/kit';

/** GitHub's API answered badly or not at all: names what was being done, and the next step. */
export class GitHubApiError extends RemoteError {
  override name = 'GitHubApiError';
  /** The HTTP status, or undefined when no answer came (Octokit reports that as 500 without a response). */
  readonly status: number | undefined;
  constructor(message: string, status: number | undefined, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
  }
}

export interface Failure {
  /** What was being done, e.g. "listing comments of acme/service#12". */
  doing: string;
  /** For a write: what to check before trying again, since a failed write may have landed. */
  write?: { check: string };
  /** Status-specific advice, e.g. { 404: 'the team does not exist or the token cannot see it' }. */
  hints?: Partial<Record<number, string>>;
}

/**
 * Turns an Octokit RequestError into a GitHubApiError that says what failed, what GitHub said and
 * what to do next. Anything else (a bug) is returned unchanged so it keeps its stack.
 */
export function gitHubFailure(error: unknown, failure: Failure): unknown {
  if (!(error instanceof RequestError)) return error;
  const answered = error.response !== undefined;
  const status = answered ? error.status : undefined;
  const said = redact(remoteMessage(error));
  const head = `GitHub API: ${failure.doing} failed: ${answered ? `${error.status} ${said}` : `no answer (${said})`}.`;
  const hint = status === undefined ? undefined : failure.hints?.[status];
  let next: string;
  if (hint !== undefined) next = hint;
  else if (status === 401) next = 'The token was refused: check the token input (expired, revoked or mistyped).';
  else if (status === 403 || status === 429)
    next =
      /rate limit/i.test(said) || status === 429
        ? "GitHub's rate limit held past the step's deadline: wait for it to reset, then re-run the job."
        : 'The token lacks a permission: grant it in the workflow\'s "permissions:" block (or use a token that has it).';
  else if (status === 404)
    next = "Not found, or the token cannot see it: check the names and the token's repository access.";
  else if (status === 422) next = 'GitHub rejected the request as invalid; check the values passed.';
  else if (failure.write)
    next = `The write may have landed all the same: ${failure.write.check} before trying again. See https://www.githubstatus.com.`;
  else next = 'GitHub may be having trouble (see https://www.githubstatus.com); re-run the job later.';
  return new GitHubApiError(`${head} ${next}`, status, { cause: error });
}

function remoteMessage(error: RequestError): string {
  const data = error.response?.data as { message?: unknown } | undefined;
  const message = typeof data?.message === 'string' ? data.message : error.message;
  // A remote's words are untrusted: one line, bounded.
  return message.replace(/\s+/g, ' ').slice(0, 300);
}

/** Runs a GitHub call and reports its failure as a GitHubApiError. */
export async function onGitHub<T>(failure: Failure, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw gitHubFailure(error, failure);
  }
}
