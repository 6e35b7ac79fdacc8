import { TestServer, type RecordedRequest, type ScriptedResponse } from '../helpers/http-server.ts';

/** A message as the fake keeps it: what was posted, every edit, and its thread's replies. */
export interface FakeSlackMessage {
  channel: string;
  ts: string;
  /** The parent's ts for a thread reply. */
  threadTs: string | undefined;
  text: string;
  blocks: unknown[];
  /** How many times chat.update changed it. */
  edits: number;
  unfurlLinks: unknown;
  unfurlMedia: unknown;
  linkNames: unknown;
}

/** What an injected fault does to the next matching request. */
export type SlackFault =
  | { kind: 'throttle'; retryAfterSeconds: number }
  | { kind: 'error'; status?: 500 | 502 | 503 }
  /** Slack's 200 with ok:false and this error code. */
  | { kind: 'refuse'; error: string };

interface Injected {
  path: RegExp;
  fault: SlackFault;
  remaining: number;
}

export interface SlackLogEntry {
  method: string;
  path: string;
  /** The arguments as the server read them (form fields or JSON), blocks parsed. */
  args: Record<string, unknown>;
  status: number;
  /** The ok:false error code, when Slack refused. */
  error?: string;
}

/** A webhook delivery as received. */
export interface WebhookPayload {
  path: string;
  body: Record<string, unknown>;
}

/** The markup Slack turns into a ping or a link: `<!channel>`, `<!here>`, `<@U123>`, `<#C123>`. */
const MENTION = /<[!@#]/;

/**
 * A stateful fake of Slack on loopback: the Web API's chat.postMessage and chat.update (form or
 * JSON bodies, as the client sends them; bearer-token auth answering invalid_auth; channel names
 * resolved to IDs; membership answering not_in_channel; messages kept with their ts, edits and
 * thread replies; message_not_found for an unknown ts), incoming webhooks
 * (/services/T…/B…/… answering "ok", "invalid_payload", "no_service"), injected faults (429 with
 * Retry-After, 5xx, ok:false), a request log, and a check that no text field carries mention markup.
 */
export class FakeSlack {
  readonly server: TestServer;
  readonly token = 'xoxb-fake-0000-1111-slacktokensecret';
  /** Messages by channel ID, in order, replies included (their threadTs set). */
  readonly messages = new Map<string, FakeSlackMessage[]>();
  readonly log: SlackLogEntry[] = [];
  readonly webhookPayloads: WebhookPayload[] = [];
  /** Text fields that held mention markup: a ping that would have reached people. */
  readonly violations: string[] = [];
  /** Channel IDs by name (without '#'). */
  private readonly channels = new Map<string, string>();
  /** Channels the app is a member of. */
  private readonly members = new Set<string>();
  private readonly webhooks = new Set<string>();
  private readonly injected: Injected[] = [];
  private clock = 1_767_600_000;
  private sequence = 100;

  private constructor(server: TestServer) {
    this.server = server;
    server.otherwise((request) => this.handle(request));
    this.addChannel('deploys', 'C0DEPLOYS1');
  }

  static async start(): Promise<FakeSlack> {
    return new FakeSlack(await TestServer.start());
  }

  /** The Web API base URL, ending in '/', for the client's slackApiUrl. */
  get apiUrl(): string {
    return new URL('/api/', this.server.url).href;
  }

  addChannel(name: string, id: string, options: { member?: boolean } = {}): this {
    this.channels.set(name, id);
    this.messages.set(id, this.messages.get(id) ?? []);
    if (options.member ?? true) this.members.add(id);
    return this;
  }

  /** A new incoming webhook; answers its URL. */
  addWebhook(
    path = `/services/T000/B${String(this.webhooks.size).padStart(3, '0')}/xxxsecretxxx${this.webhooks.size}`,
  ): URL {
    this.webhooks.add(path);
    return new URL(path, this.server.url);
  }

  /** The next `times` requests whose path matches meet the fault. */
  inject(fault: SlackFault, options: { times?: number; path?: RegExp } = {}): this {
    this.injected.push({ fault, remaining: options.times ?? 1, path: options.path ?? /./ });
    return this;
  }

  /** The top-level messages of a channel (by ID). */
  channelMessages(channel: string): FakeSlackMessage[] {
    return (this.messages.get(channel) ?? []).filter((m) => m.threadTs === undefined);
  }

  /** The replies in the thread of a message. */
  replies(channel: string, ts: string): FakeSlackMessage[] {
    return (this.messages.get(channel) ?? []).filter((m) => m.threadTs === ts);
  }

  /** Calls of a Web API method or hits of a webhook path, as logged. */
  calls(method: string): SlackLogEntry[] {
    return this.log.filter((entry) => entry.method === method);
  }

  get requests(): RecordedRequest[] {
    return this.server.requests;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private handle(request: RecordedRequest): ScriptedResponse {
    const injected = this.injected.find((entry) => entry.remaining > 0 && entry.path.test(request.path));
    if (request.path.startsWith('/services/')) return this.webhook(request, injected);
    const method = /^\/api\/([a-zA-Z.]+)$/.exec(request.path)?.[1];
    if (request.method !== 'POST' || method === undefined) return { status: 404, body: 'not found' };
    const args = parseArgs(request);
    if (args === undefined) return this.answer(method, {}, 200, { ok: false, error: 'invalid_arguments' });
    if (injected !== undefined) {
      injected.remaining--;
      const { fault } = injected;
      if (fault.kind === 'throttle') {
        this.log.push({ method, path: request.path, args, status: 429 });
        return {
          status: 429,
          headers: { 'retry-after': String(fault.retryAfterSeconds) },
          body: { ok: false, error: 'ratelimited' },
        };
      }
      if (fault.kind === 'error') {
        this.log.push({ method, path: request.path, args, status: fault.status ?? 500 });
        return { status: fault.status ?? 500, body: 'internal error' };
      }
      return this.answer(method, args, 200, { ok: false, error: fault.error });
    }
    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1] ?? args.token;
    if (bearer === undefined || bearer === '')
      return this.answer(method, args, 200, { ok: false, error: 'not_authed' });
    if (bearer !== this.token) return this.answer(method, args, 200, { ok: false, error: 'invalid_auth' });
    if (args.blocks !== undefined && !Array.isArray(args.blocks)) {
      return this.answer(method, args, 200, { ok: false, error: 'invalid_blocks_format' });
    }
    this.checkHarmless(method, args);
    switch (method) {
      case 'chat.postMessage':
        return this.postMessage(args);
      case 'chat.update':
        return this.update(args);
      default:
        return this.answer(method, args, 200, { ok: false, error: 'unknown_method' });
    }
  }

  private postMessage(args: Record<string, unknown>): ScriptedResponse {
    const channel = this.resolve(args.channel);
    if (channel === undefined)
      return this.answer('chat.postMessage', args, 200, { ok: false, error: 'channel_not_found' });
    if (!this.members.has(channel))
      return this.answer('chat.postMessage', args, 200, { ok: false, error: 'not_in_channel' });
    if (typeof args.text !== 'string' && args.blocks === undefined) {
      return this.answer('chat.postMessage', args, 200, { ok: false, error: 'no_text' });
    }
    const list = this.messages.get(channel) ?? [];
    const threadTs = typeof args.thread_ts === 'string' ? args.thread_ts : undefined;
    if (threadTs !== undefined && !list.some((m) => m.ts === threadTs && m.threadTs === undefined)) {
      return this.answer('chat.postMessage', args, 200, { ok: false, error: 'thread_not_found' });
    }
    const message: FakeSlackMessage = {
      channel,
      ts: this.nextTs(),
      threadTs,
      text: typeof args.text === 'string' ? args.text : '',
      blocks: (args.blocks as unknown[] | undefined) ?? [],
      edits: 0,
      unfurlLinks: args.unfurl_links,
      unfurlMedia: args.unfurl_media,
      linkNames: args.link_names,
    };
    list.push(message);
    this.messages.set(channel, list);
    return this.answer('chat.postMessage', args, 200, {
      ok: true,
      channel,
      ts: message.ts,
      message: { type: 'message', text: message.text, ts: message.ts, ...(threadTs ? { thread_ts: threadTs } : {}) },
    });
  }

  private update(args: Record<string, unknown>): ScriptedResponse {
    // chat.update wants the channel's ID; a name is not found.
    const channel = typeof args.channel === 'string' && this.messages.has(args.channel) ? args.channel : undefined;
    if (channel === undefined) return this.answer('chat.update', args, 200, { ok: false, error: 'channel_not_found' });
    const message = this.messages.get(channel)?.find((m) => m.ts === args.ts);
    if (message === undefined) return this.answer('chat.update', args, 200, { ok: false, error: 'message_not_found' });
    if (typeof args.text === 'string') message.text = args.text;
    if (args.blocks !== undefined) message.blocks = args.blocks as unknown[];
    message.edits++;
    return this.answer('chat.update', args, 200, { ok: true, channel, ts: message.ts, text: message.text });
  }

  /** Deletes a message, as a person in the channel might. */
  deleteMessage(channel: string, ts: string): void {
    const list = this.messages.get(channel) ?? [];
    this.messages.set(
      channel,
      list.filter((m) => m.ts !== ts && m.threadTs !== ts),
    );
  }

  private webhook(request: RecordedRequest, injected: Injected | undefined): ScriptedResponse {
    const path = request.path;
    if (request.method !== 'POST') return { status: 405, body: 'invalid_method' };
    if (injected !== undefined) {
      injected.remaining--;
      const { fault } = injected;
      this.log.push({ method: 'webhook', path, args: {}, status: fault.kind === 'throttle' ? 429 : 500 });
      if (fault.kind === 'throttle') {
        return { status: 429, headers: { 'retry-after': String(fault.retryAfterSeconds) }, body: 'rate_limited' };
      }
      if (fault.kind === 'error') return { status: fault.status ?? 500, body: 'internal error' };
      return { status: 400, body: fault.error };
    }
    if (!this.webhooks.has(path)) {
      this.log.push({ method: 'webhook', path, args: {}, status: 404 });
      return { status: 404, body: 'no_service' };
    }
    let body: unknown;
    try {
      body = JSON.parse(request.body);
    } catch {
      body = undefined;
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      this.log.push({ method: 'webhook', path, args: {}, status: 400 });
      return { status: 400, body: 'invalid_payload' };
    }
    const payload = body as Record<string, unknown>;
    if (typeof payload.text !== 'string' && !Array.isArray(payload.blocks)) {
      this.log.push({ method: 'webhook', path, args: payload, status: 400 });
      return { status: 400, body: 'no_text' };
    }
    this.checkHarmless('webhook', payload);
    this.log.push({ method: 'webhook', path, args: payload, status: 200 });
    this.webhookPayloads.push({ path, body: payload });
    return { status: 200, body: 'ok' };
  }

  private answer(
    method: string,
    args: Record<string, unknown>,
    status: number,
    body: Record<string, unknown>,
  ): ScriptedResponse {
    this.log.push({
      method,
      path: `/api/${method}`,
      args,
      status,
      ...(body.ok === false ? { error: String(body.error) } : {}),
    });
    return { status, body };
  }

  /** Every text Slack would render: no `<!…>`, `<@…>` or `<#…>` may reach it. */
  private checkHarmless(method: string, args: Record<string, unknown>): void {
    for (const [where, text] of textFields(args, method)) {
      if (MENTION.test(text)) this.violations.push(`${where}: ${text}`);
    }
  }

  private resolve(channel: unknown): string | undefined {
    if (typeof channel !== 'string') return undefined;
    if (this.messages.has(channel)) return channel;
    return this.channels.get(channel.replace(/^#/, ''));
  }

  private nextTs(): string {
    this.sequence++;
    return `${this.clock}.${String(this.sequence).padStart(6, '0')}`;
  }
}

/** The arguments of a Web API call: a form (JSON-valued fields such as blocks parsed) or a JSON body. */
function parseArgs(request: RecordedRequest): Record<string, unknown> | undefined {
  const type = request.headers['content-type'] ?? '';
  try {
    if (type.startsWith('application/json')) {
      const parsed: unknown = JSON.parse(request.body);
      return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
    }
    const args: Record<string, unknown> = Object.fromEntries(new URLSearchParams(request.body));
    for (const key of ['blocks', 'attachments', 'metadata']) {
      if (typeof args[key] === 'string') args[key] = JSON.parse(args[key]);
    }
    return args;
  } catch {
    return undefined;
  }
}

/** Every `text` (and fallback) string anywhere in a payload, with where it was. */
export function textFields(value: unknown, where = ''): [string, string][] {
  if (typeof value === 'string') return [];
  if (Array.isArray(value)) return value.flatMap((item, i) => textFields(item, `${where}[${i}]`));
  if (typeof value !== 'object' || value === null) return [];
  const found: [string, string][] = [];
  for (const [key, item] of Object.entries(value)) {
    if (typeof item === 'string' && (key === 'text' || key === 'fallback' || key === 'pretext' || key === 'title')) {
      found.push([`${where}.${key}`, item]);
    } else {
      found.push(...textFields(item, `${where}.${key}`));
    }
  }
  return found;
}
