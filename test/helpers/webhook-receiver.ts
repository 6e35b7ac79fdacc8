import { verifyWebhookSignature, type WebhookBody } from '../../packages/notify/src/channels/webhook.ts';
import { TestServer, type RecordedRequest, type ScriptedResponse } from './http-server.ts';

export interface ReceivedDelivery {
  deliveryId: string;
  event: string | undefined;
  timestamp: number;
  body: WebhookBody;
  raw: string;
}

/**
 * A webhook receiver on loopback that does what the README asks of real ones: it verifies the
 * signature and the timestamp (401 on a bad signature or a stale delivery), parses the body,
 * and drops a delivery id it has already seen (answering 200, so the sender stops retrying).
 * Failures (a 5xx, a 429 with Retry-After) can be injected for the next requests.
 */
export class WebhookReceiver {
  readonly deliveries: ReceivedDelivery[] = [];
  readonly rejected: { reason: string; request: RecordedRequest }[] = [];
  /** Deliveries received again (a retry whose first answer was lost), by id. */
  readonly duplicates: string[] = [];
  /** The receiver's clock, ms since the epoch; tests may move it to make a delivery stale. */
  now: () => number = () => Date.now();
  toleranceSeconds = 300;
  readonly server: TestServer;
  private readonly secret: string;
  private readonly faults: ScriptedResponse[] = [];

  private constructor(server: TestServer, secret: string) {
    this.server = server;
    this.secret = secret;
  }

  static async start(secret: string): Promise<WebhookReceiver> {
    const server = await TestServer.start();
    const receiver = new WebhookReceiver(server, secret);
    server.otherwise((request) => receiver.handle(request));
    return receiver;
  }

  /** Where to send: a path of its own, as a receiver's URL usually has. */
  get url(): URL {
    return new URL('/hooks/deploy', this.server.url);
  }

  get requests(): RecordedRequest[] {
    return this.server.requests;
  }

  /** The next `count` requests fail with this status (and Retry-After, when given). */
  fail(status: number, count = 1, retryAfterSeconds?: number): this {
    for (let i = 0; i < count; i++) {
      this.faults.push({
        status,
        ...(retryAfterSeconds === undefined ? {} : { headers: { 'retry-after': String(retryAfterSeconds) } }),
        body: { error: 'unavailable' },
      });
    }
    return this;
  }

  reset(): void {
    this.deliveries.length = 0;
    this.rejected.length = 0;
    this.duplicates.length = 0;
    this.faults.length = 0;
    this.server.requests.length = 0;
    this.now = () => Date.now();
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private handle(request: RecordedRequest): ScriptedResponse {
    const fault = this.faults.shift();
    if (fault) return fault;
    if (request.method !== 'POST' || request.path !== this.url.pathname) return { status: 404, body: 'not found' };
    const verdict = verifyWebhookSignature(
      this.secret,
      request.headers,
      request.body,
      this.now(),
      this.toleranceSeconds,
    );
    if (!verdict.valid) {
      this.rejected.push({ reason: verdict.reason, request });
      return { status: 401, body: { error: verdict.reason } };
    }
    if (verdict.deliveryId === undefined) {
      this.rejected.push({ reason: 'no delivery id', request });
      return { status: 400, body: { error: 'no delivery id' } };
    }
    if (this.deliveries.some((delivery) => delivery.deliveryId === verdict.deliveryId)) {
      this.duplicates.push(verdict.deliveryId);
      return { status: 200, body: { duplicate: true } };
    }
    let body: WebhookBody;
    try {
      body = JSON.parse(request.body) as WebhookBody;
    } catch {
      this.rejected.push({ reason: 'body is not JSON', request });
      return { status: 400, body: { error: 'body is not JSON' } };
    }
    const event = request.headers['x-deploy-suite-event'];
    this.deliveries.push({
      deliveryId: verdict.deliveryId,
      event: Array.isArray(event) ? event[0] : event,
      timestamp: verdict.timestamp,
      body,
      raw: request.body,
    });
    return { status: 202, body: { received: verdict.deliveryId } };
  }
}
