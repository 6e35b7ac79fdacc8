import { retry, RetryExhaustedError } from '@deploy-suite/kit';
// Types only: the client (and its HTTP stack) is loaded when a Slack message is sent, so an
// action run without Slack does not pay for it at start-up.
import type { FetchFunction, Logger, LogLevel, WebAPICallResult, WebClient } from '@slack/web-api';
import {
  DeliveryError,
  digestOf,
  type Channel,
  type SendContext,
  type SendResult,
  unchangedIfSent,
  sealOf,
} from '../channel.ts';
import { allLinks, facts, statusWord, type DeploymentMessage, type Status } from '../message.ts';
import { slackText } from '../escape.ts';
import type { ThreadState } from '../thread.ts';

export interface SlackConfig {
  /** A bot token (xoxb-…) with chat:write. */
  token: string;
  /** A channel ID (C0123ABCD) or a name (#deploys). */
  channel: string;
  /** The Web API's base URL, ending in '/'; Slack's own unless a test points it elsewhere. */
  apiUrl?: string;
}

/** Attempts per Web API call, the first included. */
const ATTEMPTS = 4;
/** Slack's limits: a section's text, a field, a button's label, fields per section. */
const SECTION_MAX = 3000;
const FIELD_MAX = 2000;
const BUTTON_LABEL_MAX = 75;
const FIELDS_PER_SECTION = 10;
const BUTTONS_MAX = 25;

/** What the client may log goes nowhere: its debug lines carry request bodies and URLs. */
const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  setLevel: () => undefined,
  // LogLevel.ERROR, written as its value: the enum lives in the lazily loaded client.
  getLevel: () => 'error' as unknown as LogLevel,
  setName: () => undefined,
};

/** What a Slack error code means for the person reading the warning. */
const HINTS: Record<string, string> = {
  invalid_auth: 'the bot token is not valid: check the token (xoxb-…) and that the app is installed in the workspace',
  not_authed: 'no bot token reached Slack: check the token input',
  token_revoked: 'the bot token was revoked: reinstall the app and use its new token',
  token_expired: 'the bot token expired: use a bot token without expiry or refresh it',
  account_inactive: 'the app or its user was deactivated: reinstall the app',
  not_in_channel: 'the app is not a member of the channel: invite the app to the channel (/invite @your-app)',
  channel_not_found:
    'Slack does not know that channel, or the app cannot see it: check the channel ID or name, and invite the app to a private channel',
  is_archived: 'the channel is archived: unarchive it or name another channel',
  missing_scope: 'the app lacks a scope: give it chat:write (and reinstall it)',
  restricted_action: 'the workspace does not let the app post in that channel',
  msg_too_long: 'the message was too long for Slack',
  invalid_blocks: 'Slack refused the message layout',
  invalid_blocks_format: 'Slack refused the message layout',
  cant_update_message: 'the app may only edit messages it posted itself',
  edit_window_closed: 'the workspace no longer allows editing that message',
  team_access_not_granted: 'the token has no access to that workspace',
};

/**
 * Slack with a bot token: one message per deployment, posted at the first stage and edited in
 * place at each later one (its timeline growing), with a thread reply per stage holding the
 * engineers' details. Every call goes through the Web API client with its own retries off: our
 * retry waits on the step's clock and never past its deadline, a 429's Retry-After included.
 */
export function slackChannel(config: SlackConfig): Channel {
  return {
    name: 'slack',
    send: (context) => sendSlack(config, context),
  };
}

async function sendSlack(config: SlackConfig, context: SendContext): Promise<SendResult> {
  const { message } = context;
  const kept = context.thread.slack;
  // Ids this channel did not record itself (a thread input or check run someone edited) are not used.
  const previous =
    kept !== undefined && kept.seal === sealOf(config.token, `${kept.channel}/${kept.ts}`) ? kept : undefined;
  if (kept !== undefined && previous === undefined) {
    context.log("slack: the thread's message ids do not carry this token's seal; posting a new message");
  }
  const unchanged = unchangedIfSent(previous, message.status);
  if (unchanged !== undefined) return unchanged;
  const api = await SlackApi.open(config, context);
  const timeline = timelineOf(context.thread, message);
  const main = renderSlackMessage(context, timeline);
  const digest = digestOf(main);
  const done: string[] = [];
  let channel: string;
  let ts: string;
  let replied: Status[];
  if (previous === undefined) {
    ({ channel, ts } = await api.post({ channel: config.channel, ...main }));
    replied = [];
    done.push('posted the message');
  } else if (previous.digest === digest) {
    ({ channel, ts } = previous);
    replied = [...previous.replied];
  } else {
    try {
      await api.call('chat.update', { channel: previous.channel, ts: previous.ts, ...main });
      ({ channel, ts } = previous);
      replied = [...previous.replied];
      done.push('updated the message');
    } catch (error) {
      const code = platformCode(error);
      if (code !== 'message_not_found' && code !== 'channel_not_found') throw api.failure(error, 'chat.update');
      // Someone deleted the message (or the channel): start the thread again rather than lose the stage.
      ({ channel, ts } = await api.post({ channel: config.channel, ...main }));
      replied = [];
      done.push(`posted a new message (the earlier one was gone: ${code})`);
    }
  }
  // A reply for this stage, and for any stage sent to Slack before whose reply this thread lacks
  // (a new thread after the old message was deleted); stages routed elsewhere get none.
  const sentBefore = previous?.sent ?? [];
  let replies = 0;
  for (const stage of timeline) {
    if (replied.includes(stage.status)) continue;
    if (stage.status !== message.status && !sentBefore.includes(stage.status)) continue;
    const reply = stage.status === message.status ? renderReply(message) : renderMissedReply(stage);
    try {
      await api.post({ channel, thread_ts: ts, ...reply });
    } catch (error) {
      // The message stands: keep it (this stage not yet sent), so the next try replies under it.
      const failure = api.failure(error, 'chat.postMessage');
      throw new DeliveryError(failure.message, failure.attempts, {
        sent: previous?.sent ?? [],
        digest,
        channel,
        ts,
        replied,
        seal: sealOf(config.token, `${channel}/${ts}`),
      });
    }
    replied.push(stage.status);
    replies++;
  }
  if (replies > 0) done.push(replies === 1 ? 'replied in its thread' : `replied ${replies} times in its thread`);
  return {
    outcome: 'delivered',
    detail: done.length > 0 ? done.join(', ') : 'nothing to change',
    attempts: api.attempts,
    state: {
      sent: [...(previous?.sent ?? []), message.status],
      digest,
      channel,
      ts,
      replied,
      seal: sealOf(config.token, `${channel}/${ts}`),
    },
  };
}

/** The Web API client for one send: bounded by the step's deadline, retried our way, errors without the token. */
class SlackApi {
  private readonly client: WebClient;
  private readonly context: SendContext;
  attempts = 0;
  static async open(config: SlackConfig, context: SendContext): Promise<SlackApi> {
    const { WebClient } = await import('@slack/web-api');
    return new SlackApi(WebClient, config, context);
  }

  private constructor(Client: typeof WebClient, config: SlackConfig, context: SendContext) {
    this.context = context;
    // Each request ends at the step's deadline (or sooner), and when the step is cancelled.
    const fetchWithDeadline: FetchFunction = (url, init) => {
      const remaining = context.deadline - context.clock.now();
      const signals = [AbortSignal.timeout(Math.max(1, Math.min(30_000, remaining)))];
      if (context.signal !== undefined) signals.push(context.signal);
      if (init?.signal !== undefined) signals.push(init.signal);
      return fetch(url, { ...init, signal: AbortSignal.any(signals) }).catch((error: unknown) => {
        throw sameRealm(error);
      });
    };
    this.client = new Client(config.token, {
      ...(config.apiUrl === undefined ? {} : { slackApiUrl: config.apiUrl }),
      logger: silentLogger,
      // The client's own retries wait on real timers with no deadline (ten retries over half an
      // hour by default, and it sleeps out any Retry-After): off, so a 429 comes back to us as
      // a rate-limited error and our retry below waits on the step's clock within its deadline.
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      allowAbsoluteUrls: false,
      fetch: fetchWithDeadline,
    });
  }

  /** chat.postMessage; answers the channel ID and ts Slack gave the message. */
  async post(args: Record<string, unknown>): Promise<{ channel: string; ts: string }> {
    let result: WebAPICallResult & { channel?: unknown; ts?: unknown };
    try {
      // A post that timed out or met a 5xx may have landed: tried again only when it surely did not.
      result = await this.call('chat.postMessage', { unfurl_links: false, unfurl_media: false, ...args }, notLanded);
    } catch (error) {
      const failed = this.failure(error, 'chat.postMessage');
      const unsure = !(error instanceof RetryExhaustedError) && !(error instanceof DeliveryError) && !notLanded(error);
      throw unsure
        ? new DeliveryError(
            `${failed.message}; not tried again: it may have been posted, and a second try would post it twice`,
            failed.attempts,
          )
        : failed;
    }
    // Read back, so input: the ids must have Slack's shapes before they are kept in the thread.
    const { channel, ts } = result;
    if (
      typeof channel !== 'string' ||
      !/^[A-Z0-9]{2,40}$/.test(channel) ||
      typeof ts !== 'string' ||
      !/^\d{1,12}\.\d{1,8}$/.test(ts)
    ) {
      throw new DeliveryError('Slack chat.postMessage answered without a channel ID and message ts', this.attempts);
    }
    return { channel, ts };
  }

  /** One Web API call, retried on 429 (after its Retry-After), 5xx and transport failures. */
  async call(
    method: string,
    args: Record<string, unknown>,
    mayRetry: (error: unknown) => boolean = retryable,
  ): Promise<WebAPICallResult & Record<string, unknown>> {
    const { context } = this;
    const { value } = await retry(
      async () => {
        if (context.deadline - context.clock.now() <= 0) {
          throw new DeliveryError(`Slack ${method}: the step's deadline passed`, this.attempts);
        }
        this.attempts++;
        return (await this.client.apiCall(method, args)) as WebAPICallResult & Record<string, unknown>;
      },
      {
        attempts: ATTEMPTS,
        baseDelayMs: 1000,
        maxDelayMs: 15_000,
        deadlineMs: Math.max(0, context.deadline - context.clock.now()),
        clock: context.clock,
        ...(context.signal === undefined ? {} : { signal: context.signal }),
        retryable: mayRetry,
        retryAfterMs: (error) => {
          const seconds = clientError(error, RATE_LIMITED)?.retryAfter;
          return seconds === undefined ? undefined : seconds * 1000;
        },
      },
    ).catch((error: unknown) => {
      // A refusal that is not retryable comes back as itself, so the caller can read its code.
      if (error instanceof RetryExhaustedError && error.reason === 'not-retryable') throw error.lastError;
      throw error;
    });
    return value;
  }

  /** Any failure of a call as a DeliveryError naming the method, the reason and the next step. */
  failure(error: unknown, method: string): DeliveryError {
    if (error instanceof DeliveryError) return error;
    if (error instanceof RetryExhaustedError) {
      const why = describe(error.lastError);
      if (error.reason === 'deadline') {
        const wait = Math.ceil((error.refusedDelayMs ?? 0) / 1000);
        const asked =
          clientError(error.lastError, RATE_LIMITED) !== undefined
            ? `Slack asked to wait ${wait} s (Retry-After)`
            : `the next try (in ${wait} s)`;
        return new DeliveryError(
          `Slack ${method} failed: ${why}; ${asked}, which would pass the step's deadline`,
          this.attempts,
        );
      }
      if (error.reason === 'attempts')
        return new DeliveryError(`Slack ${method} failed: ${why} after ${error.attempts} attempts`, this.attempts);
      return new DeliveryError(`Slack ${method} failed: ${why}`, this.attempts);
    }
    return new DeliveryError(`Slack ${method} failed: ${describe(error)}`, this.attempts);
  }
}

/**
 * fetch's error as an Error of this realm: the client keeps a failure's cause (ECONNREFUSED…)
 * only for an `instanceof Error`, and fetch's errors can come from another realm (a test VM).
 */
function sameRealm(error: unknown): Error {
  if (error instanceof Error) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    name?: unknown;
    message?: unknown;
    cause?: unknown;
  };
  const copy = new Error(typeof e.message === 'string' ? e.message : 'fetch failed', { cause: e.cause });
  if (typeof e.name === 'string') copy.name = e.name;
  return copy;
}

/** The client's error codes (its ErrorCode values), read by code since the client loads lazily. */
const RATE_LIMITED = 'slack_webapi_rate_limited_error';
const REQUEST_FAILED = 'slack_webapi_request_error';
const HTTP_ERROR = 'slack_webapi_http_error';
const PLATFORM_ERROR = 'slack_webapi_platform_error';

interface ClientError {
  code: string;
  /** Rate limited: the seconds Slack asked to wait. */
  retryAfter?: number;
  statusCode?: number;
  data?: { error?: unknown; needed?: unknown };
  original?: unknown;
}

/** The Slack client's error of this code, or undefined. */
function clientError(error: unknown, code: string): ClientError | undefined {
  if (typeof error !== 'object' || error === null || (error as { code?: unknown }).code !== code) return undefined;
  return error as ClientError;
}

/** A failure after which the request surely did not land: rate limited, unavailable (503), or refused. */
function notLanded(error: unknown): boolean {
  if (clientError(error, RATE_LIMITED) !== undefined || clientError(error, HTTP_ERROR)?.statusCode === 503) return true;
  const original = clientError(error, REQUEST_FAILED)?.original as { cause?: { code?: unknown } } | undefined;
  return original?.cause?.code === 'ECONNREFUSED';
}

function retryable(error: unknown): boolean {
  return (
    clientError(error, RATE_LIMITED) !== undefined ||
    clientError(error, REQUEST_FAILED) !== undefined ||
    (clientError(error, HTTP_ERROR)?.statusCode ?? 0) >= 500
  );
}

function platformCode(error: unknown): string | undefined {
  const code = clientError(error, PLATFORM_ERROR)?.data?.error;
  return typeof code === 'string' ? code : undefined;
}

/** A reason without the token, the URL or a body: Slack's error code and what to do about it. */
function describe(error: unknown): string {
  const code = platformCode(error);
  if (code !== undefined) {
    const safe = /^[a-z0-9_]{1,60}$/.test(code) ? code : 'an unknown error';
    const hint = HINTS[safe];
    const needed = clientError(error, PLATFORM_ERROR)?.data?.needed;
    const scope =
      safe === 'missing_scope' && typeof needed === 'string' && /^[a-z:.,_]{1,200}$/.test(needed)
        ? ` (needs ${needed})`
        : '';
    return `${safe}${scope}${hint === undefined ? '' : `: ${hint}`}`;
  }
  const limited = clientError(error, RATE_LIMITED);
  if (limited !== undefined) return `rate limited (HTTP 429, Retry-After ${limited.retryAfter ?? '?'} s)`;
  const http = clientError(error, HTTP_ERROR);
  if (http !== undefined) return `HTTP ${http.statusCode ?? '?'}`;
  const request = clientError(error, REQUEST_FAILED);
  if (request !== undefined) {
    // Read by shape: fetch's errors may come from another realm than this module's Error.
    const original = (request.original ?? {}) as { name?: unknown; cause?: { name?: unknown; code?: unknown } };
    const cause = typeof original.cause === 'object' && original.cause !== null ? original.cause : undefined;
    if (original.name === 'TimeoutError' || cause?.name === 'TimeoutError')
      return 'no answer before the request timed out';
    if (original.name === 'AbortError') return 'the request was cancelled';
    const code = cause?.code;
    return `could not reach Slack${typeof code === 'string' && /^E[A-Z_]+$/.test(code) ? ` (${code})` : ''}`;
  }
  // The client's own wording may hold the URL; only a known case is named.
  if (error instanceof Error && error.message.startsWith('Retry header did not contain a valid timeout')) {
    return 'rate limited (HTTP 429) without a usable Retry-After';
  }
  return 'an unexpected failure of the Slack client';
}

interface Stage {
  status: Status;
  at: string;
}

/** The stages so far, in order, the current one included once. */
function timelineOf(thread: ThreadState, message: DeploymentMessage): Stage[] {
  const stages: Stage[] = [];
  for (const stage of thread.stages) {
    if (!stages.some((s) => s.status === stage.status)) stages.push({ status: stage.status, at: stage.at });
  }
  const current = stages.find((s) => s.status === message.status);
  if (current === undefined) stages.push({ status: message.status, at: message.at });
  return stages;
}

function clockTime(iso: string): string {
  const time = Date.parse(iso);
  return Number.isNaN(time) ? '' : `${new Date(time).toISOString().slice(11, 16)} UTC`;
}

const cut = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

type Block = Record<string, unknown>;

function mrkdwn(text: string, max = SECTION_MAX): { type: 'mrkdwn'; text: string } {
  return { type: 'mrkdwn', text: cut(text, max) };
}

function factSections(rows: { label: string; value: string }[]): Block[] {
  const fields = rows.map((row) => mrkdwn(`*${slackText(row.label)}*\n${slackText(row.value)}`, FIELD_MAX));
  const sections: Block[] = [];
  for (let i = 0; i < fields.length; i += FIELDS_PER_SECTION) {
    sections.push({ type: 'section', fields: fields.slice(i, i + FIELDS_PER_SECTION) });
  }
  return sections;
}

/** The stakeholders' message, edited in place: headline, title, facts, the timeline, links. */
export function renderSlackMessage(
  context: Pick<SendContext, 'message' | 'audience' | 'text'>,
  timeline: Stage[],
): { text: string; blocks: Block[] } {
  const { message } = context;
  const blocks: Block[] = [{ type: 'section', text: mrkdwn(`*${slackText(context.text)}*`) }];
  if (message.title !== undefined && message.title !== '') {
    blocks.push({ type: 'section', text: mrkdwn(slackText(message.title)) });
  }
  blocks.push(...factSections(facts(message, context.audience)));
  blocks.push({
    type: 'context',
    elements: [
      mrkdwn(timeline.map((stage) => `${statusWord(stage.status)} ${clockTime(stage.at)}`.trim()).join('  →  ')),
    ],
  });
  const links = allLinks(message).slice(0, BUTTONS_MAX);
  if (links.length > 0) {
    blocks.push({
      type: 'actions',
      elements: links.map((link) => ({
        type: 'button',
        text: { type: 'plain_text', text: cut(link.label, BUTTON_LABEL_MAX) },
        url: link.url,
      })),
    });
  }
  return { text: slackText(context.text), blocks };
}

/** The engineers' reply for the current stage: every fact and the stage's details. */
function renderReply(message: DeploymentMessage): { text: string; blocks: Block[] } {
  const title = `${statusWord(message.status)[0]?.toUpperCase() ?? ''}${statusWord(message.status).slice(1)}`;
  const blocks: Block[] = [{ type: 'section', text: mrkdwn(`*${title}* ${clockTime(message.at)}`) }];
  blocks.push(...factSections(facts(message, 'engineers')));
  if (message.details !== undefined && message.details !== '') {
    blocks.push({ type: 'section', text: mrkdwn(slackText(message.details)) });
  }
  return { text: `${title}: ${slackText(message.service)} in ${slackText(message.environment)}`, blocks };
}

/** An earlier stage in a new thread: when it happened (its details were not kept). */
function renderMissedReply(stage: Stage): { text: string; blocks: Block[] } {
  const text = `${statusWord(stage.status)} ${clockTime(stage.at)} (an earlier stage; its details were in the previous message's thread)`;
  return { text, blocks: [{ type: 'section', text: mrkdwn(text) }] };
}
