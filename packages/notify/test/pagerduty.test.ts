import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { fakeClock } from '../../../test/helpers/fake-clock.ts';
import { FakePagerDuty } from '../../../test/fakes/pagerduty.ts';
import { DeliveryError } from '../src/channel.ts';
import { pagerDutyChannel, pagerDutyDedupKey, routingKeyProblem } from '../src/channels/pagerduty.ts';
import type { DeploymentMessage, Status } from '../src/message.ts';
import { newThread, type ThreadState } from '../src/thread.ts';
import { CHECKOUT_DEPLOYMENT, CHECKOUT_STARTED as STARTED, messageFactory, sendContext } from './support.ts';

const TITLE = 'Fix "checkout" `total`\nfor <!channel> @someone *now* [x](https://evil.test) & <b>bold</b>';

const messageOf = messageFactory({ ...CHECKOUT_DEPLOYMENT, title: TITLE, at: '2026-11-27T10:05:00Z' });

let pd: FakePagerDuty;
let key: string;

beforeAll(async () => {
  pd = await FakePagerDuty.start();
});
afterAll(() => pd.close());
beforeEach(() => {
  pd.reset();
  key = pd.addIntegration();
});

function contextOf(message: DeploymentMessage, thread: ThreadState, clock?: ReturnType<typeof fakeClock>) {
  return sendContext(message, thread, { audience: 'engineers', clock });
}

/** Sends one stage and returns the thread with the channel's new state, as the caller stores it. */
async function stage(thread: ThreadState, status: Status, extra: Partial<DeploymentMessage> = {}) {
  const channel = pagerDutyChannel({ routingKey: key, apiUrl: pd.url });
  const result = await channel.send(contextOf(messageOf(status, extra), thread));
  return { result, thread: { ...thread, pagerduty: result.state as ThreadState['pagerduty'] } };
}

describe('routing key', () => {
  it('accepts a 32-character integration key and explains anything else without repeating it', () => {
    expect(routingKeyProblem('0123456789abcdef0123456789ABCDEF')).toBeUndefined();
    const problem = routingKeyProblem('R0123456789-secret');
    expect(problem).toMatch(/32-character/);
    expect(problem).not.toContain('secret');
    expect(routingKeyProblem('')).toMatch(/empty/);
    expect(() => pagerDutyChannel({ routingKey: 'short-secret-value', apiUrl: pd.url })).toThrow(/32-character/);
  });

  it('the dedup key is the same for the same thread, differs between threads, and fits PagerDuty', () => {
    const a = pagerDutyDedupKey('acme/service:production:' + 'a'.repeat(40));
    expect(a).toBe(pagerDutyDedupKey('acme/service:production:' + 'a'.repeat(40)));
    expect(a).not.toBe(pagerDutyDedupKey('acme/service:staging:' + 'a'.repeat(40)));
    expect(a.length).toBeLessThanOrEqual(255);
    expect(a).toMatch(/^deploy-suite-[0-9a-f]+$/);
  });
});

describe('stages', () => {
  it('a warning triggers, a failure updates the same alert, success resolves it and sends a change event', async () => {
    let thread = newThread('acme/service:production:1', STARTED);
    const warned = await stage(thread, 'warning');
    thread = warned.thread;
    expect(warned.result).toMatchObject({ outcome: 'delivered', attempts: 1 });
    expect(warned.result.detail).toMatch(/triggered/);
    expect(thread.pagerduty).toMatchObject({ open: true, sent: ['warning'], dedupKey: pagerDutyDedupKey(thread.key) });

    const failed = await stage(thread, 'failed');
    thread = failed.thread;
    expect(failed.result.detail).toMatch(/updated/);
    expect(pd.alerts.size).toBe(1);
    const alert = pd.alerts.get(thread.pagerduty!.dedupKey)!;
    expect(alert.status).toBe('triggered');
    expect(alert.events.map((e) => e.action)).toEqual(['trigger', 'trigger']);
    expect(alert.payload).toMatchObject({
      severity: 'critical',
      source: 'checkout/production',
      component: 'checkout',
      group: 'production',
      class: 'deployment',
      custom_details: {
        version: '1.4.2',
        sha: 'a'.repeat(40),
        status: 'failed',
        approvers: ['alice'],
        backupId: 'bk-20261127',
      },
    });
    expect(alert.links).toEqual([
      { href: 'https://github.test/acme/service/actions/runs/7', text: 'Workflow run' },
      { href: 'https://github.test/acme/service/issues/12', text: 'Change request' },
    ]);

    const succeeded = await stage(thread, 'succeeded');
    thread = succeeded.thread;
    expect(succeeded.result.detail).toBe('resolved the open alert and sent a change event');
    expect(alert.status).toBe('resolved');
    expect(thread.pagerduty?.open).toBe(false);
    expect(pd.changes).toHaveLength(1);
    expect(pd.changes[0]!.payload).toMatchObject({
      source: 'checkout/production',
      timestamp: '2026-11-27T10:05:00Z',
      custom_details: { status: 'succeeded', version: '1.4.2' },
    });
  });

  it('a deployment that simply succeeds sends only a change event', async () => {
    const { result, thread } = await stage(newThread('k-success', STARTED), 'succeeded');
    expect(result.detail).toBe('sent a change event');
    expect(pd.alerts.size).toBe(0);
    expect(pd.changes).toHaveLength(1);
    expect(thread.pagerduty?.open).toBe(false);
  });

  it('a rollback triggers an error alert', async () => {
    await stage(newThread('k-rollback', STARTED), 'rolled-back');
    expect([...pd.alerts.values()].map((a) => a.payload.severity)).toEqual(['error']);
  });

  it('intermediate stages send nothing', async () => {
    for (const status of ['started', 'approved', 'backed-up', 'switched'] as const) {
      const { result } = await stage(newThread('k-quiet', STARTED), status);
      expect(result.outcome).toBe('unchanged');
      expect(result.detail).toMatch(/nothing to send to PagerDuty/);
    }
    expect(pd.requests).toHaveLength(0);
  });

  it('the same stage sent twice makes no second request', async () => {
    const first = await stage(newThread('k-twice', STARTED), 'failed');
    expect(pd.requests).toHaveLength(1);
    const again = await stage(first.thread, 'failed');
    expect(again.result.outcome).toBe('unchanged');
    expect(again.result.attempts).toBe(0);
    expect(pd.requests).toHaveLength(1);
  });

  it('a re-run that lost the thread state still meets the same alert', async () => {
    await stage(newThread('k-lost', STARTED), 'failed');
    const rerun = await stage(newThread('k-lost', STARTED), 'failed');
    expect(rerun.result.outcome).toBe('delivered');
    expect(pd.alerts.size).toBe(1);
  });
});

describe('payloads', () => {
  it('a title with quotes, newlines, backticks and mentions arrives intact in a valid event', async () => {
    await stage(newThread('k-title', STARTED), 'failed');
    const body = JSON.parse(pd.requests[0]!.body) as {
      payload: { summary: string; custom_details: { title: string } };
    };
    expect(body.payload.custom_details.title).toBe(TITLE);
    expect(body.payload.summary).toContain('Fix "checkout" `total` for <!channel> @someone');
    expect(body.payload.summary).not.toMatch(/\n/);
  });

  it('a summary is cut to 1024 characters, as PagerDuty requires', async () => {
    const { result } = await stage(newThread('k-long', STARTED), 'failed', { title: 'x'.repeat(3000) });
    expect(result.outcome).toBe('delivered');
    const body = JSON.parse(pd.requests[0]!.body) as { payload: { summary: string } };
    expect(body.payload.summary.length).toBe(1024);
  });
});

describe('failures', () => {
  it('429 with Retry-After is waited out, then delivered', async () => {
    pd.rateLimit(2);
    const clock = fakeClock();
    const channel = pagerDutyChannel({ routingKey: key, apiUrl: pd.url });
    const result = await channel.send(contextOf(messageOf('failed'), newThread('k-429', STARTED), clock));
    expect(result).toMatchObject({ outcome: 'delivered', attempts: 2 });
    expect(clock.sleeps).toEqual([2000]);
    expect(pd.alerts.size).toBe(1);
  });

  it('a Retry-After past the deadline fails at once, saying so', async () => {
    pd.rateLimit(600);
    const clock = fakeClock();
    const channel = pagerDutyChannel({ routingKey: key, apiUrl: pd.url });
    await expect(channel.send(contextOf(messageOf('failed'), newThread('k-late', STARTED), clock))).rejects.toThrow(
      /deadline/,
    );
    expect(clock.sleeps).toEqual([]);
  });

  it('a persistent 500 ends in a DeliveryError after bounded attempts, without the routing key', async () => {
    pd.fail(500, 10);
    const channel = pagerDutyChannel({ routingKey: key, apiUrl: pd.url });
    const error = await channel
      .send(contextOf(messageOf('failed'), newThread('k-500', STARTED)))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as DeliveryError).attempts).toBe(4);
    expect((error as Error).message).toMatch(/PagerDuty failed: HTTP 500 after 4 attempts/);
    expect((error as Error).message).not.toContain(key);
    expect(pd.requests).toHaveLength(4);
  });

  it("an unknown routing key is refused with PagerDuty's reasons, and the key is not repeated", async () => {
    const unknown = 'f'.repeat(32);
    const channel = pagerDutyChannel({ routingKey: unknown, apiUrl: pd.url });
    const error = await channel
      .send(contextOf(messageOf('failed'), newThread('k-400', STARTED)))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as Error).message).toMatch(/PagerDuty refused the event as invalid: Invalid routing key/);
    expect((error as Error).message).not.toContain(unknown);
    expect(pd.requests).toHaveLength(1);
  });
});
