import {
  httpRequest,
  HttpTransportError,
  parseRetryAfter,
  quoteUntrusted,
  RemoteError,
  retry,
  RetryExhaustedError,
  systemClock,
  type Clock,
  type HttpResponse,
} from '@deploy-suite/kit';
import { LABEL_NAME } from './render.ts';

/** What the Pushgateway wants for the text format. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** A label value that can go into the URL path as it is; anything else goes Base64url-encoded. */
const PLAIN_VALUE = /^[A-Za-z0-9_.-]+$/;

export interface PushOptions {
  /** The Pushgateway's root URL (a path prefix is kept), e.g. https://pushgateway.example.com. */
  url: URL;
  /** The job label of the group. */
  job: string;
  /** More grouping labels, after the job (e.g. the repository), so each group is its own. */
  grouping?: Record<string, string>;
  /** The text exposition to put. */
  body: string;
  /** The Authorization header's value (Bearer …, Basic …), already masked by the caller. */
  authorization?: string;
  /** The whole push, retries included. */
  timeoutMs?: number;
  attempts?: number;
  clock?: Clock;
}

export interface PushResult {
  url: URL;
  status: number;
  attempts: number;
}

/** The Pushgateway refused the push or could not be reached: names it, what it said and what to do. */
export class PushgatewayError extends RemoteError {
  override name = 'PushgatewayError';
  readonly status: number | undefined;
  constructor(message: string, status: number | undefined) {
    super(message);
    this.status = status;
  }
}

/**
 * The URL of a group: <root>/metrics/job/<job>{/<label>/<value>}. A value that is not plain
 * (a slash, a space, empty) goes as <label>@base64/<Base64url>, as the Pushgateway reads it.
 */
export function pushgatewayUrl(root: URL, job: string, grouping: Record<string, string> = {}): URL {
  if (job === '') throw new RangeError('the job label must not be empty');
  const segment = (name: string, value: string): string =>
    PLAIN_VALUE.test(value)
      ? `${name}/${value}`
      : `${name}@base64/${value === '' ? '=' : Buffer.from(value).toString('base64url')}`;
  const parts = [segment('job', job)];
  for (const [name, value] of Object.entries(grouping)) {
    if (!LABEL_NAME.test(name) || name === 'job' || name.startsWith('__')) {
      throw new RangeError(`not a grouping label name: ${JSON.stringify(name)}`);
    }
    parts.push(segment(name, value));
  }
  const url = new URL(root.href);
  url.username = '';
  url.password = '';
  url.search = '';
  url.hash = '';
  url.pathname = `${root.pathname.replace(/\/+$/, '')}/metrics/${parts.join('/')}`;
  return url;
}

/**
 * Replaces the group's metrics with the exposition (PUT, so figures that went away go away too).
 * PUT is idempotent, so a transport failure, a 5xx or a 429 is tried again (Retry-After honoured)
 * within the timeout; any other answer is final. TLS is verified; redirects are not followed.
 */
export async function pushMetrics(options: PushOptions): Promise<PushResult> {
  const url = pushgatewayUrl(options.url, options.job, options.grouping);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const clock = options.clock ?? systemClock;
  const started = clock.now();
  const where = `the Pushgateway at ${url.origin}`;
  const headers: Record<string, string> = { 'content-type': EXPOSITION_CONTENT_TYPE };
  if (options.authorization !== undefined) headers.authorization = options.authorization;
  try {
    const { value, attempts } = await retry(
      async () => {
        const remaining = Math.max(1, timeoutMs - (clock.now() - started));
        const response = await httpRequest({
          method: 'PUT',
          url,
          headers,
          body: options.body,
          timeoutMs: remaining,
          maxBodyBytes: 64 * 1024,
        });
        if (response.status === 429 || response.status >= 500) throw new RetryableAnswer(response);
        return response;
      },
      {
        attempts: options.attempts ?? 3,
        deadlineMs: timeoutMs,
        baseDelayMs: 500,
        maxDelayMs: 5000,
        clock,
        retryable: (error) => error instanceof RetryableAnswer || error instanceof HttpTransportError,
        retryAfterMs: (error) =>
          error instanceof RetryableAnswer ? parseRetryAfter(error.response.headers['retry-after']) : undefined,
      },
    );
    if (value.status < 200 || value.status >= 300) throw refused(where, url, value);
    return { url, status: value.status, attempts };
  } catch (error) {
    if (error instanceof PushgatewayError) throw error;
    if (error instanceof RetryExhaustedError) {
      const last = error.lastError;
      const tries = `${error.attempts} attempt${error.attempts === 1 ? '' : 's'}`;
      if (last instanceof RetryableAnswer) {
        throw new PushgatewayError(
          `${describe(where, url, last.response)} (after ${tries}). The metrics were not pushed: check that the Pushgateway is up, then re-run the job.`,
          last.response.status,
        );
      }
      if (last instanceof HttpTransportError) {
        throw new PushgatewayError(
          `Could not reach ${where} to PUT ${url.pathname}: ${last.message} (after ${tries}). Check pushgateway-url and that the runner can reach it.`,
          undefined,
        );
      }
      throw last;
    }
    throw error;
  }
}

class RetryableAnswer extends Error {
  readonly response: HttpResponse;
  constructor(response: HttpResponse) {
    super(`answered ${response.status}`);
    this.response = response;
  }
}

function describe(where: string, url: URL, response: HttpResponse): string {
  const said = response.body.trim() === '' ? '' : `: ${quoteUntrusted(response.body.trim(), 300)}`;
  return `${where} answered ${response.status} to PUT ${url.pathname}${said}`;
}

function refused(where: string, url: URL, response: HttpResponse): PushgatewayError {
  let next: string;
  if (response.status === 401 || response.status === 403)
    next =
      'The Pushgateway refused the credentials: check pushgateway-token (or the user and password in pushgateway-url).';
  else if (response.status === 404)
    next =
      'Nothing serves /metrics/job/ there: pushgateway-url must be the root of the Pushgateway (without /metrics).';
  else if (response.status === 400)
    next =
      'The Pushgateway rejected the metrics: another push may hold the same names with other types or help texts in this group.';
  else if (response.status >= 300 && response.status < 400)
    next = `It redirects to ${quoteUntrusted(response.headers.location ?? '')}: give that URL as pushgateway-url.`;
  else next = 'Check pushgateway-url.';
  return new PushgatewayError(`${describe(where, url, response)}. ${next}`, response.status);
}
