import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FakeSlack } from '../../../test/fakes/slack.ts';
import { fakeClock } from '../../../test/helpers/fake-clock.ts';
import { DeliveryError, type Channel } from '../src/channel.ts';
import { slackChannel } from '../src/channels/slack.ts';
import { headline, severityOf, type DeploymentMessage, type Status } from '../src/message.ts';
import { notify } from '../src/notify.ts';
import { DEFAULT_ROUTING } from '../src/routing.ts';
import { newThread, type ThreadState } from '../src/thread.ts';

let slack: FakeSlack;
beforeAll(async () => {
  slack = await FakeSlack.start();
});
afterAll(() => slack.close());

function message(status: Status, at: string): DeploymentMessage {
  return {
    service: 'shop',
    environment: 'staging',
    version: 'v3',
    sha: 'b'.repeat(40),
    status,
    severity: severityOf(status, 'staging'),
    changeType: undefined,
    title: 'A change',
    impact: undefined,
    details: undefined,
    approvers: [],
    backupId: undefined,
    planHash: undefined,
    smokeVerdict: undefined,
    links: [],
    at,
    startedAt: at,
    window: undefined,
    repository: 'acme/shop',
    runUrl: undefined,
  };
}

async function send(thread: ThreadState, channels: Map<'slack', Channel>, status: Status, at: string) {
  const clock = fakeClock();
  return notify({
    message: message(status, at),
    channels,
    routing: DEFAULT_ROUTING,
    thread,
    text: headline,
    clock,
    deadline: clock.now() + 60_000,
    log: () => undefined,
  });
}

describe('notify', () => {
  it('keeps what a channel did before it failed part-way, so the next try neither loses nor repeats it', async () => {
    const channels = new Map([
      ['slack' as const, slackChannel({ token: slack.token, channel: '#deploys', apiUrl: slack.apiUrl })],
    ]);
    let thread = newThread('acme/shop:staging:partial', '2026-11-27T10:00:00.000Z');
    thread = (await send(thread, channels, 'started', '2026-11-27T10:00:00.000Z')).thread;
    const ts = thread.slack!.ts;
    // The update of the message goes through; its thread reply is refused.
    slack.inject({ kind: 'refuse', error: 'fatal_error' }, { path: /chat\.postMessage/, times: 1 });
    const failed = await send(thread, channels, 'switched', '2026-11-27T10:05:00.000Z');
    expect(failed.deliveries).toEqual([expect.objectContaining({ channel: 'slack', outcome: 'failed' })]);
    expect(failed.thread.slack).toMatchObject({ ts, sent: ['started'], replied: ['started'] });
    const updates = slack.calls('chat.update').length;
    // The same stage again: the message already shows it, so only the missing reply is posted.
    const retried = await send(failed.thread, channels, 'switched', '2026-11-27T10:06:00.000Z');
    expect(retried.deliveries[0]).toMatchObject({ outcome: 'delivered' });
    expect(slack.calls('chat.update').length).toBe(updates);
    expect(slack.channelMessages('C0DEPLOYS1').filter((m) => m.ts === ts)).toHaveLength(1);
    expect(slack.replies('C0DEPLOYS1', ts)).toHaveLength(2);
    expect(retried.thread.slack).toMatchObject({ sent: ['started', 'switched'], replied: ['started', 'switched'] });
    // The stage keeps the time it first had.
    expect(retried.thread.stages.map((s) => [s.status, s.at])).toEqual([
      ['started', '2026-11-27T10:00:00.000Z'],
      ['switched', '2026-11-27T10:05:00.000Z'],
    ]);
  });

  it('reports a channel that throws something unexpected as failed, naming its class, and still runs the others', async () => {
    const broken: Channel = {
      name: 'slack',
      send: () => Promise.reject(new TypeError('cannot read properties of undefined')),
    };
    const result = await send(
      newThread('k', '2026-11-27T10:00:00.000Z'),
      new Map([['slack' as const, broken]]),
      'started',
      '2026-11-27T10:00:00.000Z',
    );
    expect(result.deliveries).toEqual([
      { channel: 'slack', outcome: 'failed', detail: 'TypeError: cannot read properties of undefined', attempts: 1 },
    ]);
    expect(result.thread.slack).toBeUndefined();
    expect(new DeliveryError('x').state).toBeUndefined();
  });
});
