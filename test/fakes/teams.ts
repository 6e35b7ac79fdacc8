import { TestServer, type RecordedRequest, type ScriptedResponse } from '../helpers/http-server.ts';

/** A card the fake accepted, with the webhook it came through. */
export interface TeamsCard {
  path: string;
  /** The Adaptive Card (the attachment's content). */
  card: Record<string, unknown>;
  /** The whole request body. */
  message: Record<string, unknown>;
}

export type TeamsFault = { kind: 'throttle'; retryAfterSeconds: number } | { kind: 'error'; status?: 500 | 502 | 503 };

export interface TeamsLogEntry {
  path: string;
  status: number;
  /** Why a body was refused. */
  problem?: string;
}

/**
 * A stateful fake of a Teams Workflows webhook ("Post to a channel when a webhook request is
 * received") on loopback: POST /workflows/<id>/triggers/manual/paths/invoke answers 202 for a
 * message holding Adaptive Cards, and 400 for what the flow cannot post (a legacy MessageCard, a
 * plain {text}, a card without a body or version, unparsable JSON), as the real flow fails on them.
 * It refuses mention entities (`msteams.entities`, `<at>` with no entity would be text anyway),
 * keeps the cards, and answers injected 429 (with Retry-After) and 5xx.
 */
export class FakeTeams {
  readonly server: TestServer;
  readonly cards: TeamsCard[] = [];
  readonly log: TeamsLogEntry[] = [];
  private readonly workflows = new Set<string>();
  private readonly injected: { fault: TeamsFault; remaining: number }[] = [];

  private constructor(server: TestServer) {
    this.server = server;
    server.otherwise((request) => this.handle(request));
  }

  static async start(): Promise<FakeTeams> {
    return new FakeTeams(await TestServer.start());
  }

  /** A new Workflows webhook; answers its URL (with its signature, a secret, in the query). */
  addWorkflow(id = `0123456789abcdef${this.workflows.size}`): URL {
    const path = `/workflows/${id}/triggers/manual/paths/invoke`;
    this.workflows.add(path);
    return new URL(
      `${path}?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=fakeSignatureSecret${this.workflows.size}`,
      this.server.url,
    );
  }

  /** The next `times` requests meet the fault. */
  inject(fault: TeamsFault, times = 1): this {
    this.injected.push({ fault, remaining: times });
    return this;
  }

  get requests(): RecordedRequest[] {
    return this.server.requests;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private handle(request: RecordedRequest): ScriptedResponse {
    const path = request.path;
    const injected = this.injected.find((entry) => entry.remaining > 0);
    if (injected !== undefined) {
      injected.remaining--;
      const { fault } = injected;
      const status = fault.kind === 'throttle' ? 429 : (fault.status ?? 500);
      this.log.push({ path, status });
      return fault.kind === 'throttle'
        ? {
            status,
            headers: { 'retry-after': String(fault.retryAfterSeconds) },
            body: { error: { code: 'TooManyRequests' } },
          }
        : { status, body: { error: { code: 'InternalServerError' } } };
    }
    if (request.method !== 'POST' || !this.workflows.has(path) || request.url.searchParams.get('sig') === null) {
      this.log.push({ path, status: 404 });
      return {
        status: 404,
        body: { error: { code: 'WorkflowNotFound', message: 'The workflow could not be found.' } },
      };
    }
    const checked = checkMessage(request.body);
    if (typeof checked === 'string') {
      this.log.push({ path, status: 400, problem: checked });
      return { status: 400, body: { error: { code: 'InvalidTemplate', message: checked } } };
    }
    for (const card of checked.cards) this.cards.push({ path, card, message: checked.message });
    this.log.push({ path, status: 202 });
    return { status: 202, body: '' };
  }
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The flow's "Post card in a chat or channel" step: a message of Adaptive Cards, or the reason it fails. */
function checkMessage(body: string): { message: Json; cards: Json[] } | string {
  let message: unknown;
  try {
    message = JSON.parse(body);
  } catch {
    return 'the request body is not JSON';
  }
  if (!isObject(message)) return 'the request body is not a JSON object';
  if (message['@type'] === 'MessageCard')
    return 'a MessageCard (Office 365 connector format) cannot be posted by Workflows';
  if (message.type !== 'message' || !Array.isArray(message.attachments) || message.attachments.length === 0) {
    return "the body must be {type: 'message', attachments: [Adaptive Card]}";
  }
  const cards: Json[] = [];
  for (const attachment of message.attachments) {
    if (!isObject(attachment) || attachment.contentType !== 'application/vnd.microsoft.card.adaptive') {
      return 'every attachment must be an Adaptive Card (application/vnd.microsoft.card.adaptive)';
    }
    const card = attachment.content;
    if (
      !isObject(card) ||
      card.type !== 'AdaptiveCard' ||
      typeof card.version !== 'string' ||
      !Array.isArray(card.body)
    ) {
      return 'the attachment content must be an AdaptiveCard with a version and a body';
    }
    if (isObject(card.msteams) && card.msteams.entities !== undefined) return 'the fake refuses mention entities';
    for (const element of card.body) {
      if (!isObject(element) || typeof element.type !== 'string') return 'every body element needs a type';
    }
    if (card.actions !== undefined) {
      if (!Array.isArray(card.actions)) return 'actions must be an array';
      for (const action of card.actions) {
        if (!isObject(action) || action.type !== 'Action.OpenUrl' || typeof action.url !== 'string') {
          return 'the fake accepts only Action.OpenUrl actions with a url';
        }
      }
    }
    cards.push(card);
  }
  return { message, cards };
}
