import { randomBytes } from 'node:crypto';
import { TestServer, type RecordedRequest, type ScriptedResponse } from '../helpers/http-server.ts';

const SEVERITIES = ['critical', 'error', 'warning', 'info'];
const ACTIONS = ['trigger', 'acknowledge', 'resolve'];

/** One alert as PagerDuty keeps it: the events sent under its dedup_key and where they left it. */
export interface FakeAlert {
  dedupKey: string;
  routingKey: string;
  status: 'triggered' | 'acknowledged' | 'resolved';
  /** The payload of the latest trigger. */
  payload: Record<string, unknown>;
  links: unknown[];
  /** Every event received for this alert, in order. */
  events: { action: string; body: Record<string, unknown> }[];
}

export interface FakeChangeEvent {
  routingKey: string;
  payload: Record<string, unknown>;
  links: unknown[];
}

/**
 * A stateful fake of PagerDuty's Events API v2 on loopback: alert events at POST /v2/enqueue
 * (trigger, acknowledge, resolve, deduplicated by dedup_key) and change events at
 * POST /v2/change/enqueue, answered 202 as PagerDuty does. Events are validated as the real API
 * does (routing key length and integration, required fields, the severity enum, summary length),
 * answering 400 "invalid event" with its list of errors; a 429 with Retry-After or a 5xx can be
 * injected for the next requests.
 */
export class FakePagerDuty {
  readonly alerts = new Map<string, FakeAlert>();
  readonly changes: FakeChangeEvent[] = [];
  /** Integration keys that exist; any other well-formed key is refused as unknown. */
  readonly routingKeys = new Set<string>();
  readonly server: TestServer;
  private readonly faults: ScriptedResponse[] = [];

  private constructor(server: TestServer) {
    this.server = server;
  }

  static async start(): Promise<FakePagerDuty> {
    const server = await TestServer.start();
    const fake = new FakePagerDuty(server);
    server.otherwise((request) => fake.handle(request));
    return fake;
  }

  get url(): URL {
    return this.server.url;
  }

  get requests(): RecordedRequest[] {
    return this.server.requests;
  }

  /** A new integration key (32 characters) that the fake accepts. */
  addIntegration(key = randomBytes(16).toString('hex')): string {
    this.routingKeys.add(key);
    return key;
  }

  /** The next `count` requests are rate limited: 429 with Retry-After, as PagerDuty throttles. */
  rateLimit(retryAfterSeconds: number, count = 1): this {
    for (let i = 0; i < count; i++) {
      this.faults.push({
        status: 429,
        headers: { 'retry-after': String(retryAfterSeconds) },
        body: {
          status: 'throttle event',
          message: 'Requests for this service are arriving too quickly. Please retry later.',
        },
      });
    }
    return this;
  }

  /** The next `count` requests fail with this status (a 5xx outage). */
  fail(status = 500, count = 1): this {
    for (let i = 0; i < count; i++) this.faults.push({ status, body: 'Internal Server Error' });
    return this;
  }

  reset(): void {
    this.alerts.clear();
    this.changes.length = 0;
    this.faults.length = 0;
    this.server.requests.length = 0;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private handle(request: RecordedRequest): ScriptedResponse {
    const fault = this.faults.shift();
    if (fault) return fault;
    if (request.method !== 'POST') return { status: 404, body: { status: 'not found', message: 'Not Found' } };
    if (request.path === '/v2/enqueue') return this.enqueue(request);
    if (request.path === '/v2/change/enqueue') return this.change(request);
    return { status: 404, body: { status: 'not found', message: 'Not Found' } };
  }

  private parse(request: RecordedRequest): { body: Record<string, unknown> } | { refused: ScriptedResponse } {
    if (!/^application\/json/.test(request.headers['content-type'] ?? '')) {
      return { refused: invalid(['Content-Type must be application/json']) };
    }
    try {
      const body = JSON.parse(request.body) as unknown;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        return { refused: invalid(['Event object is not an object']) };
      }
      return { body: body as Record<string, unknown> };
    } catch {
      return { refused: invalid(['Malformed JSON']) };
    }
  }

  private routingKeyErrors(body: Record<string, unknown>): string[] {
    const key = body.routing_key;
    if (typeof key !== 'string') return ["'routing_key' is missing or blank"];
    if (key.length !== 32) return ["Length of 'routing_key' is incorrect (should be 32 characters)"];
    if (!this.routingKeys.has(key)) return ['Invalid routing key'];
    return [];
  }

  private enqueue(request: RecordedRequest): ScriptedResponse {
    const parsed = this.parse(request);
    if ('refused' in parsed) return parsed.refused;
    const { body } = parsed;
    const errors = this.routingKeyErrors(body);
    const action = body.event_action;
    if (typeof action !== 'string' || !ACTIONS.includes(action)) {
      errors.push("'event_action' is invalid (must be one of: trigger, acknowledge, resolve)");
    }
    const dedupKey = body.dedup_key;
    if (dedupKey !== undefined && (typeof dedupKey !== 'string' || dedupKey.length > 255 || dedupKey === '')) {
      errors.push("'dedup_key' must be a string of at most 255 characters");
    }
    if (action !== 'trigger' && typeof dedupKey !== 'string')
      errors.push("'dedup_key' is required for acknowledge and resolve");
    const payload = body.payload as Record<string, unknown> | undefined;
    if (action === 'trigger') {
      if (typeof payload !== 'object' || payload === null) errors.push("'payload' is missing or blank");
      else {
        errors.push(...summaryErrors(payload));
        if (typeof payload.source !== 'string' || payload.source === '')
          errors.push("'payload.source' is missing or blank");
        if (typeof payload.severity !== 'string' || !SEVERITIES.includes(payload.severity)) {
          errors.push("'payload.severity' is invalid (must be one of: critical, error, warning, info)");
        }
        if (payload.timestamp !== undefined && !validTime(payload.timestamp)) {
          errors.push("'payload.timestamp' is not a valid ISO 8601 date");
        }
      }
    }
    errors.push(...linkErrors(body.links));
    if (errors.length > 0) return invalid(errors);

    const key = typeof dedupKey === 'string' ? dedupKey : randomBytes(16).toString('hex');
    const existing = this.alerts.get(key);
    const event = { action: action as string, body };
    if (action === 'trigger') {
      // A trigger on an open alert adds to it; on a resolved one (or none) it opens a new one.
      const alert: FakeAlert =
        existing && existing.status !== 'resolved'
          ? existing
          : {
              dedupKey: key,
              routingKey: body.routing_key as string,
              status: 'triggered',
              payload: {},
              links: [],
              events: existing?.events ?? [],
            };
      alert.payload = payload!;
      alert.links = Array.isArray(body.links) ? body.links : [];
      alert.events.push(event);
      this.alerts.set(key, alert);
    } else if (existing && existing.status !== 'resolved') {
      existing.status = action === 'resolve' ? 'resolved' : 'acknowledged';
      existing.events.push(event);
    }
    // PagerDuty accepts an acknowledge or resolve for an unknown key and drops it.
    return { status: 202, body: { status: 'success', message: 'Event processed', dedup_key: key } };
  }

  private change(request: RecordedRequest): ScriptedResponse {
    const parsed = this.parse(request);
    if ('refused' in parsed) return parsed.refused;
    const { body } = parsed;
    const errors = this.routingKeyErrors(body);
    const payload = body.payload as Record<string, unknown> | undefined;
    if (typeof payload !== 'object' || payload === null) errors.push("'payload' is missing or blank");
    else {
      errors.push(...summaryErrors(payload));
      if (payload.timestamp !== undefined && !validTime(payload.timestamp)) {
        errors.push("'payload.timestamp' is not a valid ISO 8601 date");
      }
    }
    errors.push(...linkErrors(body.links));
    if (errors.length > 0) return invalid(errors);
    this.changes.push({
      routingKey: body.routing_key as string,
      payload: payload!,
      links: Array.isArray(body.links) ? body.links : [],
    });
    return { status: 202, body: { status: 'success', message: 'Change event processed' } };
  }
}

function summaryErrors(payload: Record<string, unknown>): string[] {
  if (typeof payload.summary !== 'string' || payload.summary === '') return ["'payload.summary' is missing or blank"];
  if (payload.summary.length > 1024) return ["'payload.summary' is too long (at most 1024 characters)"];
  return [];
}

function linkErrors(links: unknown): string[] {
  if (links === undefined) return [];
  if (!Array.isArray(links)) return ["'links' must be an array"];
  return links.some((link) => typeof (link as { href?: unknown } | null)?.href !== 'string')
    ? ["'links' entries need an 'href'"]
    : [];
}

function invalid(errors: string[]): ScriptedResponse {
  return { status: 400, body: { status: 'invalid event', message: 'Event object is invalid', errors } };
}

function validTime(value: unknown): boolean {
  return typeof value === 'string' && !Number.isNaN(Date.parse(value));
}
