import { Octokit } from '@octokit/core';
import { paginateRest } from '@octokit/plugin-paginate-rest';
import { restEndpointMethods } from '@octokit/plugin-rest-endpoint-methods';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { RequestError } from '@octokit/request-error';
import { readRunContext, registerSecret } from '@deploy-suite/kit';

const SuiteOctokit = Octokit.plugin(restEndpointMethods, paginateRest, retry, throttling);
export type GitHubClient = InstanceType<typeof SuiteOctokit>;

/** Methods that change nothing, so a retry after a 5xx cannot apply a write twice. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface GitHubClientOptions {
  token: string;
  /** API root; default from the runner (GITHUB_API_URL), so GHES works unchanged. */
  baseUrl?: string;
  /** Retries of an idempotent request after a 5xx or a network error. */
  retries?: number;
  /** Base of the retry wait in ms (the plugin waits base × (n+1)²); tests shorten it. */
  retryBaseMs?: number;
  /** Times a rate-limited request is tried again after the wait GitHub asks for. */
  rateLimitRetries?: number;
  log?: { warn: (message: string) => void };
}

/**
 * Octokit for every action that talks to GitHub: the runner's API URL (GHES), the token masked,
 * rate limits waited out as GitHub says (Retry-After / reset), and retries after 5xx only for
 * idempotent requests — a POST that failed with 502 may still have landed, so it is never replayed.
 */
export function createGitHubClient(options: GitHubClientOptions): GitHubClient {
  registerSecret(options.token);
  const log = options.log ?? { warn: () => {} };
  const rateLimitRetries = options.rateLimitRetries ?? 2;
  const onLimit =
    (kind: string) =>
    (retryAfter: number, request: { method: string; url: string }, _octokit: unknown, retryCount: number) => {
      const again = retryCount < rateLimitRetries;
      log.warn(
        `GitHub ${kind} rate limit on ${request.method} ${request.url}; ${again ? `retrying in ${retryAfter} s` : 'giving up'}`,
      );
      return again;
    };
  const octokit = new SuiteOctokit({
    auth: options.token,
    baseUrl: (options.baseUrl ?? readRunContext().apiUrl).replace(/\/$/, ''),
    userAgent: 'deploy-suite',
    retry: {
      retries: options.retries ?? 3,
      retryAfterBaseValue: options.retryBaseMs ?? 1000,
      doNotRetry: [400, 401, 403, 404, 409, 410, 422, 429, 451],
    },
    throttle: { onRateLimit: onLimit('primary'), onSecondaryRateLimit: onLimit('secondary') },
  });
  octokit.hook.before('request', (request) => {
    if (!IDEMPOTENT.has(request.method.toUpperCase())) request.request = { ...request.request, retries: 0 };
  });
  return octokit;
}

export interface ConditionalResult<T> {
  /** False when GitHub answered 304: nothing changed since the ETag given. */
  changed: boolean;
  etag: string | undefined;
  data: T | undefined;
}

/**
 * A conditional GET for polling: sends If-None-Match, and turns the 304 that Octokit throws into
 * { changed: false }. A 304 does not count against the rate limit.
 */
export async function getIfChanged<T>(
  octokit: GitHubClient,
  route: string,
  parameters: Record<string, unknown>,
  etag: string | undefined,
): Promise<ConditionalResult<T>> {
  try {
    const response = await octokit.request(route, {
      ...parameters,
      headers: etag === undefined ? {} : { 'if-none-match': etag },
    });
    return { changed: true, etag: response.headers.etag, data: response.data as T };
  } catch (error) {
    if (error instanceof RequestError && error.status === 304) return { changed: false, etag, data: undefined };
    throw error;
  }
}
