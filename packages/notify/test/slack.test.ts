import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { FakeSlack } from '../../../test/fakes/slack.ts';
import { slackChannel } from '../src/channels/slack.ts';
import { slackWebhookChannel } from '../src/channels/slack-webhook.ts';
import type { Channel } from '../src/channel.ts';
import type { Status } from '../src/message.ts';
import { failure, giftCardDeployment, messageFactory, ThreadRunner } from './support.ts';

const HOSTILE =
  'Fix "quotes" & <stuff>\nsecond line `code` *bold* _it_ <!channel> <@U123> @here <#C999|general> <https://evil.example|click>';

const message = messageFactory((status) => {
  const minutes = ['started', 'approved', 'backed-up', 'migrated', 'switched', 'verified', 'succeeded'].indexOf(status);
  return {
    ...giftCardDeployment(status),
    backupId: status === 'backed-up' ? 'backup-20260105-1000' : undefined,
    at: new Date(Date.UTC(2026, 0, 5, 10, Math.max(0, minutes) * 5)).toISOString(),
  };
});

/** A stage sent again does not join the thread again. */
class Thread extends ThreadRunner {
  constructor() {
    super({ stageOnce: true });
  }
}

/** What a person sees: Slack's entities decoded, the zero-width spaces that disarm markup dropped. */
const seen = (text: string): string =>
  text
    .replace(/\u200b/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

let slack: FakeSlack;
let thread: Thread;
beforeEach(async () => {
  slack = await FakeSlack.start();
  thread = new Thread();
});
afterEach(() => slack.close());

describe('slack (bot token)', () => {
  const channel = (overrides: Partial<{ token: string; channel: string }> = {}): Channel =>
    slackChannel({ token: slack.token, channel: '#deploys', apiUrl: slack.apiUrl, ...overrides });

  it('posts the first stage in the channel, keeps the ID Slack answered with, and replies with the details', async () => {
    const result = await thread.send(channel(), message('started'));
    expect(result.outcome).toBe('delivered');
    const [main, ...others] = slack.channelMessages('C0DEPLOYS1');
    expect(others).toEqual([]);
    expect(result.state).toEqual({
      sent: ['started'],
      digest: expect.stringMatching(/^[0-9a-f]{64}$/),
      seal: expect.stringMatching(/^[0-9a-f]{32}$/),
      channel: 'C0DEPLOYS1',
      ts: main!.ts,
      replied: ['started'],
    });
    expect(main!.text).toBe('Deployment of shop v1.4.2 to production started');
    expect(main!.unfurlLinks).toBe('false');
    expect(main!.unfurlMedia).toBe('false');
    expect(main!.linkNames).toBeUndefined();
    expect(JSON.stringify(main!.blocks)).toContain('Add the gift card checkout');
    const replies = slack.replies('C0DEPLOYS1', main!.ts);
    expect(replies).toHaveLength(1);
    expect(JSON.stringify(replies[0]!.blocks)).toContain('details of started');
    expect(JSON.stringify(replies[0]!.blocks)).toContain('Severity');
  });

  it('carries five stages in one message, edited in place, with one reply per stage', async () => {
    const stages: Status[] = ['started', 'approved', 'backed-up', 'switched', 'succeeded'];
    for (const stage of stages) await thread.send(channel(), message(stage));
    const [main, ...others] = slack.channelMessages('C0DEPLOYS1');
    expect(others).toEqual([]);
    expect(main!.edits).toBe(4);
    expect(main!.text).toBe('Deployment of shop v1.4.2 to production succeeded');
    const timeline = JSON.stringify(main!.blocks);
    expect(timeline).toMatch(
      /started 10:00 UTC.*approved 10:05 UTC.*backed up 10:10 UTC.*switched 10:20 UTC.*succeeded 10:30 UTC/,
    );
    const replies = slack.replies('C0DEPLOYS1', main!.ts);
    expect(replies.map((r) => JSON.stringify(r.blocks).match(/details of ([a-z-]+)/)?.[1])).toEqual(stages);
    expect(JSON.stringify(replies[2]!.blocks)).toContain('backup-20260105-1000');
    expect(thread.state.slack).toMatchObject({ sent: stages, replied: stages, ts: main!.ts });
    expect(slack.calls('chat.postMessage')).toHaveLength(6);
    expect(slack.calls('chat.update')).toHaveLength(4);
  });

  it('sends nothing at all for a stage it already sent', async () => {
    await thread.send(channel(), message('started'));
    await thread.send(channel(), message('approved'));
    const before = slack.requests.length;
    const again = await thread.send(channel(), message('approved'));
    expect(again.outcome).toBe('unchanged');
    expect(again.attempts).toBe(0);
    expect(slack.requests.length).toBe(before);
  });

  it('delivers a hostile PR title intact as text, with no mention, markup or broken payload', async () => {
    await thread.send(channel(), message('started', { title: HOSTILE, details: HOSTILE, service: 'shop <!here>' }));
    await thread.send(channel(), message('approved', { title: HOSTILE, details: HOSTILE, service: 'shop <!here>' }));
    expect(slack.violations).toEqual([]);
    const [main] = slack.channelMessages('C0DEPLOYS1');
    const sections = (main!.blocks as { text?: { text: string } }[]).map((b) => b.text?.text ?? '');
    expect(sections.map(seen)).toContain(HOSTILE);
    const [reply] = slack.replies('C0DEPLOYS1', main!.ts);
    expect((reply!.blocks as { text?: { text: string } }[]).map((b) => seen(b.text?.text ?? ''))).toContain(HOSTILE);
    // The formatting marks cannot pair up: each sits between zero-width spaces.
    expect(sections.join('')).not.toMatch(/`code`|\*bold\*|_it_/);
  });

  it('waits out a 429 for its Retry-After on the step clock, then delivers', async () => {
    slack.inject({ kind: 'throttle', retryAfterSeconds: 7 }, { times: 2 });
    const result = await thread.send(channel(), message('started'));
    expect(result.outcome).toBe('delivered');
    expect(thread.clock.sleeps).toEqual([7000, 7000]);
    expect(slack.channelMessages('C0DEPLOYS1')).toHaveLength(1);
    expect(result.attempts).toBe(4);
  });

  it('does not post again after a 500 (the message may have been posted), and says so', async () => {
    slack.inject({ kind: 'error', status: 500 }, { times: 100 });
    const error = await failure(thread.send(channel(), message('started')));
    expect(error.message).toMatch(
      /^Slack chat\.postMessage failed: HTTP 500; not tried again: it may have been posted/,
    );
    expect(error.attempts).toBe(1);
    expect(slack.calls('chat.postMessage')).toHaveLength(1);
  });

  it('gives up on a 503 that lasts, after a bounded number of attempts', async () => {
    slack.inject({ kind: 'error', status: 503 }, { times: 100 });
    const error = await failure(thread.send(channel(), message('started')));
    expect(error.message).toMatch(/^Slack chat\.postMessage failed: HTTP 503 after 4 attempts$/);
    expect(error.attempts).toBe(4);
  });

  it('names an unreachable Slack after a bounded number of attempts', async () => {
    const apiUrl = slack.apiUrl;
    await slack.close();
    const error = await failure(
      thread.send(slackChannel({ token: slack.token, channel: '#deploys', apiUrl }), message('started')),
    );
    expect(error.message).toBe('Slack chat.postMessage failed: could not reach Slack (ECONNREFUSED) after 4 attempts');
    expect(thread.clock.sleeps).toHaveLength(3);
    slack = await FakeSlack.start();
  });

  it('fails at once when the Retry-After would pass the step deadline, and says so', async () => {
    thread.deadlineIn = 20_000;
    slack.inject({ kind: 'throttle', retryAfterSeconds: 60 }, { times: 5 });
    const error = await failure(thread.send(channel(), message('started')));
    expect(error.message).toMatch(/Slack asked to wait 60 s \(Retry-After\), which would pass the step's deadline/);
    expect(thread.clock.sleeps).toEqual([]);
    expect(slack.calls('chat.postMessage')).toHaveLength(1);
  });

  it('names Slack refusals with a hint and never the token', async () => {
    const bad = 'xoxb-wrong-secret-token-value';
    const auth = await failure(thread.send(channel({ token: bad }), message('started')));
    expect(auth.message).toMatch(/invalid_auth: the bot token is not valid/);
    expect(auth.message).not.toContain(bad);

    slack.addChannel('private', 'C0PRIVATE1', { member: false });
    const notIn = await failure(thread.send(channel({ channel: '#private' }), message('started')));
    expect(notIn.message).toMatch(/not_in_channel: .*invite the app to the channel/);
    for (const error of [auth, notIn]) expect(error.message).not.toContain(slack.token);
  });

  it('replies only for stages it was sent, though the timeline shows every stage', async () => {
    await thread.send(channel(), message('started'));
    // Routed elsewhere: the stage joins the thread, Slack is not told.
    thread.state = {
      ...thread.state,
      stages: [...thread.state.stages, { status: 'approved', at: '2026-01-05T10:05:00.000Z', severity: 'info' }],
    };
    await thread.send(channel(), message('succeeded'));
    const [main] = slack.channelMessages('C0DEPLOYS1');
    expect(JSON.stringify(main!.blocks)).toMatch(/started 10:00 UTC.*approved 10:05 UTC.*succeeded 10:30 UTC/);
    const replies = slack.replies('C0DEPLOYS1', main!.ts);
    expect(replies.map((r) => JSON.stringify(r.blocks).match(/details of ([a-z-]+)/)?.[1])).toEqual([
      'started',
      'succeeded',
    ]);
  });

  it('posts a new message when the old one was deleted, and says so', async () => {
    await thread.send(channel(), message('started'));
    const first = thread.state.slack!.ts;
    slack.deleteMessage('C0DEPLOYS1', first);
    const result = await thread.send(channel(), message('approved'));
    expect(result.detail).toMatch(/posted a new message \(the earlier one was gone: message_not_found\)/);
    const [main, ...others] = slack.channelMessages('C0DEPLOYS1');
    expect(others).toEqual([]);
    expect(main!.ts).not.toBe(first);
    expect(thread.state.slack!.ts).toBe(main!.ts);
    // The new thread tells the whole story: both stages replied to.
    expect(slack.replies('C0DEPLOYS1', main!.ts)).toHaveLength(2);
  });
});

describe('slack (incoming webhook)', () => {
  it('posts one message per stage and nothing for a stage already sent', async () => {
    const url = slack.addWebhook();
    const channel = slackWebhookChannel({ url });
    await thread.send(channel, message('started'));
    await thread.send(channel, message('approved'));
    const again = await thread.send(channel, message('approved'));
    expect(again.outcome).toBe('unchanged');
    expect(slack.webhookPayloads.map((p) => p.body.text)).toEqual([
      'Deployment of shop v1.4.2 to production started',
      'Deployment of shop v1.4.2 to production approved',
    ]);
    expect(thread.state['slack-webhook']).toMatchObject({ sent: ['started', 'approved'] });
  });

  it('delivers a hostile PR title intact and harmless', async () => {
    const url = slack.addWebhook();
    await thread.send(slackWebhookChannel({ url }), message('started', { title: HOSTILE, service: 'shop <!channel>' }));
    expect(slack.violations).toEqual([]);
    const [payload] = slack.webhookPayloads;
    const texts = (payload!.body.blocks as { text?: { text: string } }[]).map((b) => seen(b.text?.text ?? ''));
    expect(texts).toContain(HOSTILE);
    expect(seen(String(payload!.body.text))).toContain('shop <!channel>');
  });

  it('sends at most one message a second to one webhook', async () => {
    const url = slack.addWebhook();
    const channel = slackWebhookChannel({ url });
    const clock = thread.clock;
    await thread.send(channel, message('started'));
    await thread.send(channel, message('approved'));
    await thread.send(channel, message('backed-up'));
    // The fake clock stands still between sends, so each later send waited its full second.
    expect(clock.sleeps).toEqual([1000, 1000]);
  });

  it('waits out a 429 and fails with the answer, never the URL', async () => {
    const url = slack.addWebhook();
    slack.inject({ kind: 'throttle', retryAfterSeconds: 3 }, { path: /^\/services\// });
    const result = await thread.send(slackWebhookChannel({ url }), message('started'));
    expect(result.outcome).toBe('delivered');
    expect(thread.clock.sleeps).toContain(3000);

    const gone = new URL('/services/T000/B999/removedsecret', slack.server.url);
    const error = await failure(new Thread().send(slackWebhookChannel({ url: gone }), message('started')));
    expect(error.message).toMatch(/Slack webhook answered HTTP 404: "no_service".*removed or disabled/);
    expect(error.message).not.toContain('removedsecret');
    expect(error.message).not.toContain('/services/');
  });

  it('fails at once when the Retry-After would pass the deadline', async () => {
    const url = slack.addWebhook();
    thread.deadlineIn = 5_000;
    slack.inject({ kind: 'throttle', retryAfterSeconds: 30 }, { path: /^\/services\// });
    const error = await failure(thread.send(slackWebhookChannel({ url }), message('started')));
    expect(error.message).toMatch(/would pass the step's deadline/);
    expect(slack.webhookPayloads).toEqual([]);
    expect(error.message).not.toContain(url.pathname);
  });
});
