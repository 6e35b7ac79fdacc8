import { createHash, createHmac } from 'node:crypto';
import {
  httpRequest,
  HttpTransportError,
  parseRetryAfter,
  retry,
  RetryExhaustedError,
  systemClock,
  type Clock,
  type HttpResponse,
} from '@deploy-suite/kit';
import { statusWord, type Audience, type DeploymentMessage, type Status } from './message.ts';
import type { ChannelName, ThreadState } from './thread.ts';

/** What a channel did with one notification, for the `deliveries` output and the summary. */
export interface Delivery {
  channel: ChannelName;
  outcome: 'delivered' | 'unchanged' | 'failed';
  /** One line for people: what was sent (posted, updated, replied, triggered) or why it failed. */
  detail: string;
  attempts: number;
}

export interface SendContext {
  message: DeploymentMessage;
  audience: Audience;
  /** The thread as read back; a channel reads its own ids here. */
  thread: ThreadState;
  /** The headline text (the template's rendering, or the default headline), plain text. */
  text: string;
  clock: Clock;
  signal?: AbortSignal;
  log: (line: string) => void;
  /** Ends every wait, Retry-After included: the step's own deadline, as epoch ms. */
  deadline: number;
}

/**
 * What a send returns: a line for people, the attempts it took, and the channel's new state
 * (ids, sent stages, digest), which the caller stores in the thread. A channel that had nothing
 * to change returns outcome 'unchanged' with its state as it was.
 */
export interface SendResult {
  outcome: 'delivered' | 'unchanged';
  detail: string;
  attempts: number;
  state: NonNullable<ThreadState[ChannelName]>;
}

export interface Channel {
  name: ChannelName;
  send(context: SendContext): Promise<SendResult>;
}

/** A delivery failed; the message is safe to show (no URL, token or body that could hold a secret). */
export class DeliveryError extends Error {
  override name = 'DeliveryError';
  readonly attempts: number;
  /**
   * What the channel had already done when it failed part-way (a Slack message posted, its reply
   * not): kept in the thread, so the next try edits that message instead of posting another.
   */
  readonly state: SendResult['state'] | undefined;
  /** The HTTP status the service last answered with, when it answered. */
  readonly status: number | undefined;
  constructor(message: string, attempts = 1, state?: SendResult['state'], status?: number) {
    super(message);
    this.attempts = attempts;
    this.state = state;
    this.status = status;
  }
}

/** A failed HTTP answer that may be retried (429, 5xx) and the wait the server asked for. */
class RetryableStatus extends Error {
  readonly retryAfterMs: number | undefined;
  readonly status: number;
  constructor(status: number, retryAfterMs: number | undefined) {
    super(`HTTP ${status}`);
    this.status = status;
    this.retryAfterMs = retryAfterMs;
  }
}

export interface PostOptions {
  /** Names the service in errors ("Slack webhook", "PagerDuty"). */
  service: string;
  url: URL;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  context: Pick<SendContext, 'clock' | 'signal' | 'deadline'>;
  ca?: string;
  /** Answers that count as delivered; default 2xx. */
  ok?: (response: HttpResponse) => boolean;
  /**
   * The request creates something (an annotation): one that timed out or met a 5xx may have
   * landed, and a second would be a duplicate, so it is tried again only when it surely did not
   * (429 or 503, which say "not now", or the connection refused).
   */
  creates?: boolean;
  attempts?: number;
}

/**
 * One request with the suite's delivery rules: retried on 429, 5xx and transport failures with
 * backoff, a Retry-After honoured, never past the step's deadline; any other answer fails at once.
 * Errors name the service and the status, never the URL (webhook URLs are secrets).
 */
export async function deliver(options: PostOptions): Promise<{ response: HttpResponse; attempts: number }> {
  const { context } = options;
  const ok = options.ok ?? ((response: HttpResponse) => response.status >= 200 && response.status < 300);
  try {
    const { value, attempts } = await retry(
      async () => {
        const remaining = context.deadline - context.clock.now();
        if (remaining <= 0) throw new DeliveryError(`${options.service}: the step's deadline passed`);
        const response = await httpRequest({
          method: options.method ?? 'POST',
          url: options.url,
          headers: { 'content-type': 'application/json', ...options.headers },
          ...(options.body === undefined ? {} : { body: options.body }),
          timeoutMs: Math.min(30_000, remaining),
          maxBodyBytes: 64 * 1024,
          ...(options.ca === undefined ? {} : { ca: options.ca }),
          ...(context.signal === undefined ? {} : { signal: context.signal }),
        });
        if (ok(response)) return response;
        if (response.status === 429 || response.status >= 500) {
          throw new RetryableStatus(
            response.status,
            parseRetryAfter(response.headers['retry-after'], context.clock.now()),
          );
        }
        throw new DeliveryError(
          `${options.service} answered HTTP ${response.status}${describeBody(response.body)}`,
          1,
          undefined,
          response.status,
        );
      },
      {
        attempts: options.attempts ?? 4,
        baseDelayMs: 1000,
        maxDelayMs: 15_000,
        deadlineMs: Math.max(0, context.deadline - context.clock.now()),
        clock: context.clock,
        ...(context.signal === undefined ? {} : { signal: context.signal }),
        retryable: (error) =>
          options.creates === true
            ? (error instanceof RetryableStatus && (error.status === 429 || error.status === 503)) ||
              (error instanceof HttpTransportError && error.code === 'ECONNREFUSED')
            : error instanceof RetryableStatus || error instanceof HttpTransportError,
        retryAfterMs: (error) => (error instanceof RetryableStatus ? error.retryAfterMs : undefined),
      },
    );
    return { response: value, attempts };
  } catch (error) {
    if (error instanceof RetryExhaustedError) {
      const last = error.lastError;
      const why =
        last instanceof RetryableStatus ? `HTTP ${last.status}` : last instanceof Error ? last.message : String(last);
      const how =
        error.reason === 'deadline'
          ? `; the next try (in ${Math.ceil((error.refusedDelayMs ?? 0) / 1000)} s) would pass the step's deadline`
          : error.reason === 'attempts'
            ? ` after ${error.attempts} attempts`
            : options.creates === true
              ? '; not tried again: it may have been made, and a second try would make it twice'
              : '';
      const status = last instanceof RetryableStatus || last instanceof DeliveryError ? last.status : undefined;
      throw new DeliveryError(
        last instanceof DeliveryError ? last.message : `${options.service} failed: ${why}${how}`,
        error.attempts,
        undefined,
        status,
      );
    }
    throw error;
  }
}

/** A short, safe excerpt of an error body (services explain refusals there). */
function describeBody(body: string): string {
  const text = body.replace(/\s+/g, ' ').trim().slice(0, 200);
  return text === '' ? '' : `: ${JSON.stringify(text)}`;
}

/** sha256 hex of a rendered payload: the same content twice is the same digest. */
export function digestOf(value: unknown): string {
  return createHash('sha256')
    .update(typeof value === 'string' ? value : JSON.stringify(value))
    .digest('hex');
}

export { systemClock };

/** A stage this channel already sent (a re-run): nothing to do, its state as it was. */
export function unchangedIfSent(state: SendResult['state'] | undefined, status: Status): SendResult | undefined {
  if (state === undefined || !state.sent.includes(status)) return undefined;
  return { outcome: 'unchanged', detail: `already sent "${statusWord(status)}"`, attempts: 0, state };
}

/**
 * A tag over message ids kept in the thread, made with the channel's own secret (its token):
 * ids that someone else wrote into a thread (the thread input, a check run) do not carry it, so
 * they are never used to edit a message the suite did not post.
 */
export function sealOf(secret: string, ids: string): string {
  return createHmac('sha256', secret).update(`deploy-suite thread ids\0${ids}`).digest('hex').slice(0, 32);
}
