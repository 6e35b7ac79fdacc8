import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { deliver, digestOf, type Channel, type SendContext, type SendResult } from '../channel.ts';
import { messageFields, statusWord } from '../message.ts';
import type { ThreadState } from '../thread.ts';

export interface WebhookConfig {
  /** Where to POST; an https URL in production (it may hold a secret path, so it is never shown). */
  url: URL;
  /** The shared secret the receiver checks the signature with. */
  secret: string;
  /** Extra trusted CA certificates (PEM), for a receiver with a private CA. */
  ca?: string;
}

export const WEBHOOK_EVENT = 'deployment.notification';
export const WEBHOOK_VERSION = 1;

/** The headers a delivery carries (lower case, as Node hands them to a receiver). */
export const WEBHOOK_HEADERS = {
  event: 'x-deploy-suite-event',
  delivery: 'x-deploy-suite-delivery',
  timestamp: 'x-deploy-suite-timestamp',
  signature: 'x-deploy-suite-signature-256',
} as const;

/** The body of one delivery. */
export interface WebhookBody {
  event: typeof WEBHOOK_EVENT;
  version: typeof WEBHOOK_VERSION;
  /** The deployment's thread key: every stage of one deployment carries the same. */
  thread: string;
  /** Unique per delivery, the same on its retries: a receiver drops one it has seen. */
  deliveryId: string;
  message: Record<string, unknown>;
}

/**
 * `sha256=<hex>`: HMAC-SHA256 with the secret over `<timestamp>.<raw body>` — GitHub's signature
 * format, with the timestamp signed too, so a captured delivery cannot be replayed later.
 */
export function webhookSignature(secret: string, timestamp: number | string, rawBody: string | Buffer): string {
  const mac = createHmac('sha256', secret);
  mac.update(`${timestamp}.`);
  mac.update(rawBody);
  return `sha256=${mac.digest('hex')}`;
}

export type WebhookVerdict =
  { valid: true; deliveryId: string | undefined; timestamp: number } | { valid: false; reason: string };

/**
 * For receivers: whether a delivery is authentic and fresh. Checks that the timestamp header is
 * within `toleranceSeconds` of `now` (ms since the epoch) and that the signature header matches
 * HMAC-SHA256(secret, `${timestamp}.${rawBody}`), compared in constant time. Pass the body exactly
 * as received (bytes or string), before any JSON parsing.
 *
 *     const verdict = verifyWebhookSignature(secret, req.headers, rawBody, Date.now());
 *     if (!verdict.valid) return res.writeHead(401).end(verdict.reason);
 */
export function verifyWebhookSignature(
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  rawBody: string | Buffer,
  now: number,
  toleranceSeconds = 300,
): WebhookVerdict {
  const header = (name: string): string | undefined => {
    const key = Object.keys(headers).find((candidate) => candidate.toLowerCase() === name);
    const value = key === undefined ? undefined : headers[key];
    return Array.isArray(value) ? value[0] : value;
  };
  const stamp = header(WEBHOOK_HEADERS.timestamp);
  const signature = header(WEBHOOK_HEADERS.signature);
  if (stamp === undefined || !/^\d{1,12}$/.test(stamp))
    return { valid: false, reason: 'missing or malformed timestamp header' };
  if (signature === undefined || !/^sha256=[0-9a-f]{64}$/.test(signature)) {
    return { valid: false, reason: 'missing or malformed signature header' };
  }
  const timestamp = Number(stamp);
  if (Math.abs(now / 1000 - timestamp) > toleranceSeconds) {
    return { valid: false, reason: `timestamp outside the ${toleranceSeconds} s tolerance (a replay, or a clock off)` };
  }
  const expected = Buffer.from(webhookSignature(secret, stamp, rawBody));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return { valid: false, reason: 'signature does not match' };
  }
  return { valid: true, deliveryId: header(WEBHOOK_HEADERS.delivery), timestamp };
}

/**
 * A generic signed webhook: one POST per stage with the message's fields as JSON, signed as
 * verifyWebhookSignature checks. The same stage sent twice sends nothing.
 */
export function webhookChannel(config: WebhookConfig): Channel {
  return {
    name: 'webhook',
    async send(context: SendContext): Promise<SendResult> {
      const { message, thread } = context;
      const state: NonNullable<ThreadState['webhook']> = thread.webhook ?? { sent: [], digest: null };
      if (state.sent.includes(message.status)) {
        return {
          outcome: 'unchanged',
          detail: `the webhook already had the ${statusWord(message.status)} stage`,
          attempts: 0,
          state,
        };
      }
      const fields = messageFields(message);
      const body: WebhookBody = {
        event: WEBHOOK_EVENT,
        version: WEBHOOK_VERSION,
        thread: thread.key,
        deliveryId: randomUUID(),
        message: fields,
      };
      const raw = JSON.stringify(body);
      // Wall-clock time, which the receiver compares with its own (the context's clock may be a test's).
      const timestamp = Math.floor(Date.now() / 1000);
      const { attempts } = await deliver({
        service: 'Webhook',
        url: config.url,
        body: raw,
        headers: {
          'user-agent': 'deploy-suite',
          'x-deploy-suite-event': WEBHOOK_EVENT,
          'x-deploy-suite-delivery': body.deliveryId,
          'x-deploy-suite-timestamp': String(timestamp),
          'x-deploy-suite-signature-256': webhookSignature(config.secret, timestamp, raw),
        },
        context,
        ...(config.ca === undefined ? {} : { ca: config.ca }),
      });
      return {
        outcome: 'delivered',
        detail: `posted the ${statusWord(message.status)} stage (delivery ${body.deliveryId})`,
        attempts,
        state: { sent: [...state.sent, message.status], digest: digestOf(fields) },
      };
    },
  };
}
