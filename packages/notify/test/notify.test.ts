import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FakeGrafana } from '../../../test/fakes/grafana.ts';
import { FakePagerDuty } from '../../../test/fakes/pagerduty.ts';
import { FakeSlack } from '../../../test/fakes/slack.ts';
import { grafanaChannel } from '../src/channels/grafana.ts';
import { pagerDutyChannel, pagerDutyDedupKey } from '../src/channels/pagerduty.ts';
import { Template } from '../src/template.ts';
import { inputErrorOf } from '../../../test/helpers/expect-input-error.ts';
import { fakeClock } from '../../../test/helpers/fake-clock.ts';
import { DeliveryError, type Channel } from '../src/channel.ts';
import { slackChannel } from '../src/channels/slack.ts';
import { headline, severityOf, type Status } from '../src/message.ts';
import { notify } from '../src/notify.ts';
import { DEFAULT_ROUTING } from '../src/routing.ts';
import { newThread, type ThreadState } from '../src/thread.ts';
import { messageFactory } from './support.ts';

let slack: FakeSlack;
let grafana: FakeGrafana;
let pagerduty: FakePagerDuty;
beforeAll(async () => {
  [slack, grafana, pagerduty] = await Promise.all([FakeSlack.start(), FakeGrafana.start(), FakePagerDuty.start()]);
});
afterAll(() => Promise.all([slack.close(), grafana.close(), pagerduty.close()]));

const message = messageFactory({
  service: 'shop',
  environment: 'staging',
  version: 'v3',
  sha: 'b'.repeat(40),
  title: 'A change',
  repository: 'acme/shop',
});

/** The smoke verdict the next sends carry. */
const verdict: { value: 'pass' | 'warn' | 'fail' | undefined } = { value: undefined };

async function send(
  thread: ThreadState,
  channels: Map<Channel['name'], Channel>,
  status: Status,
  at: string,
  environment = 'staging',
) {
  const clock = fakeClock();
  return notify({
    message: message(status, {
      at,
      startedAt: at,
      environment,
      severity: severityOf(status, environment, verdict.value),
    }),
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

describe('ids read back from a thread are not trusted', () => {
  it('does not edit a Slack message or a Grafana annotation whose ids the channel did not record itself', async () => {
    const channels = new Map<Channel['name'], Channel>([
      ['slack', slackChannel({ token: slack.token, channel: '#deploys', apiUrl: slack.apiUrl })],
      ['grafana', grafanaChannel({ url: grafana.url, token: grafana.token })],
    ]);
    // Someone else's message and annotation, which a forged thread points at.
    slack.addChannel('private', 'C0PRIVATE1');
    let victim = newThread('acme/shop:staging:victim', '2026-11-27T09:00:00.000Z');
    victim = (
      await send(
        victim,
        new Map([
          ['slack', slackChannel({ token: slack.token, channel: '#private', apiUrl: slack.apiUrl })],
          ['grafana', channels.get('grafana')!],
        ]),
        'started',
        '2026-11-27T09:00:00.000Z',
      )
    ).thread;
    const victimTs = victim.slack!.ts;
    const victimAnnotation = grafana.annotations.get(victim.grafana!.annotationId)!;
    const before = JSON.stringify(victimAnnotation);

    const forged: ThreadState = {
      ...newThread('acme/shop:staging:forged', '2026-11-27T10:00:00.000Z'),
      stages: [{ status: 'started', at: '2026-11-27T10:00:00.000Z', severity: 'info' }],
      slack: {
        sent: ['started'],
        digest: null,
        channel: 'C0PRIVATE1',
        ts: victimTs,
        replied: ['started'],
        seal: '0'.repeat(32),
      },
      grafana: {
        sent: ['started'],
        digest: null,
        annotationId: victimAnnotation.id,
        closed: false,
        seal: '0'.repeat(32),
      },
    };
    const result = await send(forged, channels, 'switched', '2026-11-27T10:05:00.000Z');
    expect(result.deliveries.map((d) => [d.channel, d.outcome])).toEqual([
      ['grafana', 'delivered'],
      ['slack', 'delivered'],
    ]);
    // A new message in the configured channel, none in the victim's thread; a new annotation.
    expect(slack.replies('C0PRIVATE1', victimTs)).toHaveLength(1);
    expect(slack.calls('chat.update').filter((c) => c.args.ts === victimTs)).toEqual([]);
    expect(result.thread.slack!.channel).toBe('C0DEPLOYS1');
    expect(result.thread.grafana!.annotationId).not.toBe(victimAnnotation.id);
    expect(JSON.stringify(grafana.annotations.get(victimAnnotation.id))).toBe(before);
  });

  it("derives PagerDuty's dedup key from the thread's own key, whatever the thread says", async () => {
    const key = pagerduty.addIntegration();
    const channels = new Map<Channel['name'], Channel>([
      ['pagerduty', pagerDutyChannel({ routingKey: key, apiUrl: pagerduty.url })],
    ]);
    const thread: ThreadState = {
      ...newThread('acme/shop:production:pd', '2026-11-27T10:00:00.000Z'),
      pagerduty: { sent: [], digest: null, dedupKey: 'someone-elses-alert', open: true },
    };
    const result = await send(thread, channels, 'failed', '2026-11-27T10:05:00.000Z', 'production');
    expect(result.deliveries[0]).toMatchObject({ outcome: 'delivered' });
    expect(result.thread.pagerduty!.dedupKey).toBe(pagerDutyDedupKey('acme/shop:production:pd'));
    expect(pagerduty.alerts.has('someone-elses-alert')).toBe(false);
    expect(pagerduty.alerts.get(pagerDutyDedupKey('acme/shop:production:pd'))!.payload.severity).toBe('critical');
  });

  it('pages PagerDuty for a critical stage that is not a failure (a production verification whose smoke test failed)', async () => {
    const key = pagerduty.addIntegration();
    const channels = new Map<Channel['name'], Channel>([
      ['pagerduty', pagerDutyChannel({ routingKey: key, apiUrl: pagerduty.url })],
    ]);
    verdict.value = 'fail';
    try {
      const result = await send(
        newThread('acme/shop:production:verify', '2026-11-27T10:00:00.000Z'),
        channels,
        'verified',
        '2026-11-27T10:05:00.000Z',
        'production',
      );
      expect(result.deliveries[0]).toMatchObject({ channel: 'pagerduty', outcome: 'delivered' });
      expect(pagerduty.alerts.get(pagerDutyDedupKey('acme/shop:production:verify'))).toMatchObject({
        status: 'triggered',
      });
    } finally {
      verdict.value = undefined;
    }
  });
});

describe('a template', () => {
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])(
    'refuses {{%s}}, which names no field',
    (name) => {
      expect(inputErrorOf(() => new Template(`{{${name}}}`)).message).toMatch(/unknown field/);
    },
  );
});
