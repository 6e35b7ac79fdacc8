import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { fakeClock } from '../../../test/helpers/fake-clock.ts';
import { WebhookReceiver } from '../../../test/helpers/webhook-receiver.ts';
import { DeliveryError } from '../src/channel.ts';
import { verifyWebhookSignature, webhookChannel, webhookSignature } from '../src/channels/webhook.ts';
import { messageFields, type DeploymentMessage, type Status } from '../src/message.ts';
import { newThread, type ThreadState } from '../src/thread.ts';
import { CHECKOUT_DEPLOYMENT, CHECKOUT_STARTED as STARTED, messageFactory, sendContext } from './support.ts';

const SECRET = 'whsec-9f8e7d6c5b4a-very-secret';
const TITLE = 'Fix "checkout" `total`\nfor <!channel> @someone *now* [x](https://evil.test) & <b>bold</b>';

const messageOf = messageFactory({
  ...CHECKOUT_DEPLOYMENT,
  title: TITLE,
  impact: 'Checkout is briefly read-only',
  details: 'line one\nline two',
  at: '2026-11-27T10:05:00Z',
});

let receiver: WebhookReceiver;

beforeAll(async () => {
  receiver = await WebhookReceiver.start(SECRET);
});
afterAll(() => receiver.close());
beforeEach(() => receiver.reset());

function contextOf(message: DeploymentMessage, thread: ThreadState, clock?: ReturnType<typeof fakeClock>) {
  return sendContext(message, thread, { audience: 'engineers', clock });
}

async function stage(thread: ThreadState, status: Status, secret = SECRET) {
  const channel = webhookChannel({ url: receiver.url, secret });
  const message = messageOf(status);
  const result = await channel.send(contextOf(message, thread));
  return { result, message, thread: { ...thread, webhook: result.state as ThreadState['webhook'] } };
}

describe('deliveries', () => {
  it('one signed POST per stage, carrying the thread key and every field of the message', async () => {
    let thread = newThread('acme/service:production:1', STARTED);
    const statuses: Status[] = ['started', 'switched', 'succeeded'];
    for (const status of statuses) {
      const sent = await stage(thread, status);
      thread = sent.thread;
      expect(sent.result).toMatchObject({ outcome: 'delivered', attempts: 1 });
    }
    expect(receiver.rejected).toEqual([]);
    expect(receiver.deliveries.map((d) => d.body.message.status)).toEqual(statuses);
    const last = receiver.deliveries[2]!;
    expect(last.event).toBe('deployment.notification');
    expect(last.body).toMatchObject({
      event: 'deployment.notification',
      version: 1,
      thread: 'acme/service:production:1',
    });
    expect(last.body.message).toEqual(JSON.parse(JSON.stringify(messageFields(messageOf('succeeded')))));
    expect(new Set(receiver.deliveries.map((d) => d.deliveryId)).size).toBe(3);
    expect(receiver.deliveries.map((d) => d.body.deliveryId)).toEqual(receiver.deliveries.map((d) => d.deliveryId));
    expect(thread.webhook?.sent).toEqual(statuses);
  });

  it('the same stage sent twice makes no second request', async () => {
    const first = await stage(newThread('k-twice', STARTED), 'started');
    const again = await stage(first.thread, 'started');
    expect(again.result).toMatchObject({ outcome: 'unchanged', attempts: 0 });
    expect(receiver.requests).toHaveLength(1);
  });

  it('a title with quotes, newlines, backticks and mentions arrives byte for byte in valid JSON', async () => {
    await stage(newThread('k-title', STARTED), 'started');
    const [delivery] = receiver.deliveries;
    expect(delivery!.body.message.title).toBe(TITLE);
    expect(delivery!.body.message.details).toBe('line one\nline two');
  });
});

describe('signatures', () => {
  it('a receiver with another secret refuses the delivery with 401, and the error does not show the secret', async () => {
    const error = await stage(newThread('k-wrong', STARTED), 'started', 'another-secret-entirely').catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as Error).message).toMatch(/^Webhook answered HTTP 401/);
    expect((error as Error).message).not.toContain('another-secret-entirely');
    expect((error as Error).message).not.toContain(receiver.url.pathname);
    expect(receiver.rejected.map((r) => r.reason)).toEqual(['signature does not match']);
    expect(receiver.requests).toHaveLength(1);
  });

  it('a delivery older than the tolerance is refused as a replay', async () => {
    receiver.now = () => Date.now() + 301_000;
    await expect(stage(newThread('k-stale', STARTED), 'started')).rejects.toThrow(/HTTP 401/);
    expect(receiver.rejected[0]!.reason).toMatch(/tolerance/);
  });

  it('verifyWebhookSignature: valid, tampered body, tampered timestamp, missing headers', () => {
    const raw = '{"event":"deployment.notification"}';
    const now = 1_800_000_000_000;
    const ts = String(now / 1000);
    const headers = {
      'X-Deploy-Suite-Timestamp': ts,
      'X-Deploy-Suite-Signature-256': webhookSignature(SECRET, ts, raw),
      'X-Deploy-Suite-Delivery': 'd-1',
    };
    expect(verifyWebhookSignature(SECRET, headers, raw, now)).toEqual({
      valid: true,
      deliveryId: 'd-1',
      timestamp: now / 1000,
    });
    expect(verifyWebhookSignature(SECRET, headers, Buffer.from(raw), now).valid).toBe(true);
    expect(verifyWebhookSignature(SECRET, headers, raw.replace('deployment', 'Deployment'), now)).toEqual({
      valid: false,
      reason: 'signature does not match',
    });
    const shifted = { ...headers, 'X-Deploy-Suite-Timestamp': String(now / 1000 + 1) };
    expect(verifyWebhookSignature(SECRET, shifted, raw, now)).toMatchObject({
      valid: false,
      reason: 'signature does not match',
    });
    expect(verifyWebhookSignature(SECRET, headers, raw, now + 299_000).valid).toBe(true);
    expect(verifyWebhookSignature(SECRET, headers, raw, now - 301_000).valid).toBe(false);
    expect(verifyWebhookSignature(SECRET, { 'x-deploy-suite-timestamp': ts }, raw, now)).toMatchObject({
      valid: false,
    });
    expect(verifyWebhookSignature(SECRET, {}, raw, now)).toMatchObject({ valid: false });
  });
});

describe('failures', () => {
  it('429 with Retry-After is waited out and the retry keeps its delivery id', async () => {
    receiver.fail(429, 1, 2);
    const clock = fakeClock();
    const channel = webhookChannel({ url: receiver.url, secret: SECRET });
    const result = await channel.send(contextOf(messageOf('started'), newThread('k-429', STARTED), clock));
    expect(result).toMatchObject({ outcome: 'delivered', attempts: 2 });
    expect(clock.sleeps).toEqual([2000]);
    const ids = receiver.requests.map((r) => r.headers['x-deploy-suite-delivery']);
    expect(ids).toHaveLength(2);
    expect(ids[0]).toBe(ids[1]);
    expect(receiver.deliveries).toHaveLength(1);
  });

  it('a persistent 500 ends in a DeliveryError after bounded attempts, naming neither URL nor secret', async () => {
    receiver.fail(500, 10);
    const channel = webhookChannel({ url: receiver.url, secret: SECRET });
    const error = await channel
      .send(contextOf(messageOf('started'), newThread('k-500', STARTED)))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as DeliveryError).attempts).toBe(4);
    expect((error as Error).message).toBe('Webhook failed: HTTP 500 after 4 attempts');
    expect(receiver.requests).toHaveLength(4);
  });
});
