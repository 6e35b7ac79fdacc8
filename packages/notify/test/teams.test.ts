import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { FakeTeams } from '../../../test/fakes/teams.ts';
import { expectSettingsInputError } from '../../../test/helpers/expect-input-error.ts';
import { teamsChannel, teamsWebhookUrl } from '../src/channels/teams.ts';
import type { Status } from '../src/message.ts';
import { failure, giftCardDeployment, messageFactory, ThreadRunner as Thread } from './support.ts';

const HOSTILE =
  'Fix "quotes" & <b>html</b>\nsecond line `code` **bold** _it_ [x](https://evil.example) <at>alice</at> <!channel> @here';

const message = messageFactory(giftCardDeployment);

/** What Teams shows: Adaptive Cards' Markdown escapes taken off. */
const seen = (text: string): string => text.replace(/\\(.)/g, '$1');

let teams: FakeTeams;
let thread: Thread;
let url: URL;
beforeEach(async () => {
  teams = await FakeTeams.start();
  thread = new Thread();
  url = teams.addWorkflow();
});
afterEach(() => teams.close());

describe('teams (Workflows webhook)', () => {
  it('posts an Adaptive Card message: headline, facts, a button per link', async () => {
    const result = await thread.send(teamsChannel({ url }), message('started'));
    expect(result.outcome).toBe('delivered');
    expect(teams.log.map((entry) => entry.status)).toEqual([202]);
    const [{ message: body, card }] = teams.cards as [(typeof teams.cards)[number]];
    expect(body).toEqual({
      type: 'message',
      attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: card }],
    });
    expect(card).toMatchObject({
      $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
      type: 'AdaptiveCard',
      version: '1.4',
    });
    const [title, pr, factSet] = card.body as Record<string, unknown>[];
    expect(title).toMatchObject({
      type: 'TextBlock',
      text: 'Deployment of shop v1.4.2 to production started',
      wrap: true,
    });
    expect(pr).toMatchObject({ type: 'TextBlock', text: 'Add the gift card checkout' });
    expect(factSet!.type).toBe('FactSet');
    expect(factSet!.facts).toEqual(
      expect.arrayContaining([
        { title: 'Service', value: 'shop' },
        { title: 'Environment', value: 'production' },
        { title: 'Duration so far', value: '5m' },
      ]),
    );
    expect(card.actions).toEqual([
      { type: 'Action.OpenUrl', title: 'Workflow run', url: 'https://github.com/acme/shop/actions/runs/1' },
      { type: 'Action.OpenUrl', title: 'Change request', url: 'https://github.com/acme/shop/issues/7' },
    ]);
    expect(JSON.stringify(body)).not.toContain('msteams');
  });

  it('posts one card per stage and nothing for a stage already sent', async () => {
    const stages: Status[] = ['started', 'approved', 'backed-up', 'switched', 'succeeded'];
    for (const stage of stages) await thread.send(teamsChannel({ url }), message(stage));
    const before = teams.requests.length;
    const again = await thread.send(teamsChannel({ url }), message('succeeded'));
    expect(again.outcome).toBe('unchanged');
    expect(teams.requests.length).toBe(before);
    expect(teams.cards).toHaveLength(5);
    expect(thread.state.teams?.sent).toEqual(stages);
  });

  it('delivers a hostile PR title as text: markup escaped, no mention, a payload that parses', async () => {
    await thread.send(teamsChannel({ url }), message('started', { title: HOSTILE, service: 'shop <at>bob</at>' }));
    expect(teams.log.map((entry) => entry.status)).toEqual([202]);
    const card = teams.cards[0]!.card;
    const texts = (card.body as { text?: string }[]).map((block) => block.text ?? '');
    // Newlines become spaces on a card line; every other character arrives as typed.
    expect(texts.map(seen)).toContain(HOSTILE.replace('\n', ' '));
    expect(texts.join('')).not.toMatch(/(^|[^\\])\*\*bold|(^|[^\\])\[x\]|(^|[^\\])`code/);
    expect(JSON.stringify(card)).not.toMatch(/"entities"/);
  });

  it('waits out a 429 for its Retry-After on the step clock', async () => {
    teams.inject({ kind: 'throttle', retryAfterSeconds: 5 }, 2);
    const result = await thread.send(teamsChannel({ url }), message('started'));
    expect(result.outcome).toBe('delivered');
    expect(result.attempts).toBe(3);
    expect(thread.clock.sleeps).toEqual([5000, 5000]);
    expect(teams.cards).toHaveLength(1);
  });

  it('gives up on a 500 that lasts, after a bounded number of attempts, without the URL', async () => {
    teams.inject({ kind: 'error', status: 500 }, 100);
    const error = await failure(thread.send(teamsChannel({ url }), message('started')));
    expect(error.message).toBe('Teams webhook failed: HTTP 500 after 4 attempts');
    expect(teams.requests).toHaveLength(4);
  });

  it('fails at once when the Retry-After would pass the step deadline', async () => {
    thread.deadlineIn = 10_000;
    teams.inject({ kind: 'throttle', retryAfterSeconds: 120 }, 5);
    const error = await failure(thread.send(teamsChannel({ url }), message('started')));
    expect(error.message).toMatch(/HTTP 429; the next try \(in 120 s\) would pass the step's deadline/);
    expect(teams.requests).toHaveLength(1);
    expect(thread.clock.sleeps).toEqual([]);
  });

  it('explains a webhook that is gone, and never shows its URL or signature', async () => {
    const gone = new URL(
      '/workflows/deleted/triggers/manual/paths/invoke?api-version=1&sig=goneSignatureSecret',
      teams.server.url,
    );
    const error = await failure(thread.send(teamsChannel({ url: gone }), message('started')));
    expect(error.message).toMatch(/HTTP 404.*turned off, deleted or its URL changed/);
    expect(error.message).not.toContain('goneSignatureSecret');
    expect(error.message).not.toContain('/workflows/');
  });

  it('the fake refuses what a Workflows flow cannot post', async () => {
    const post = (body: unknown): Promise<number> =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(
        (r) => r.status,
      );
    expect(await post({ '@type': 'MessageCard', '@context': 'http://schema.org/extensions', text: 'hi' })).toBe(400);
    expect(await post({ text: 'hi' })).toBe(400);
    expect(teams.cards).toEqual([]);
  });
});

describe('teamsWebhookUrl', () => {
  it('accepts a Workflows webhook URL', () => {
    const value =
      'https://default0123.0e.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig=s3cret';
    expect(teamsWebhookUrl('teams-webhook-url', value).href).toBe(value.replace(':443', ''));
    expect(
      teamsWebhookUrl(
        'teams-webhook-url',
        'https://prod-12.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=x',
      ).host,
    ).toBe('prod-12.westeurope.logic.azure.com');
  });

  it('refuses a retired Office 365 connector URL, saying what to use instead', () => {
    const secret = 'connectorSecretPart';
    for (const value of [
      `https://acme.webhook.office.com/webhookb2/1111@2222/IncomingWebhook/${secret}/3333`,
      `https://outlook.office.com/webhook/1111@2222/IncomingWebhook/${secret}/3333`,
    ]) {
      expectSettingsInputError(
        () => teamsWebhookUrl('teams-webhook-url', value),
        'teams-webhook-url',
        /Office 365 connector.*retired.*Workflows.*"Post to a channel when a webhook request is received"/,
        [secret],
      );
    }
  });

  it('refuses a URL that is not https, or not a URL', () => {
    expectSettingsInputError(
      () => teamsWebhookUrl('teams-webhook-url', 'http://example.com/workflows/a'),
      'teams-webhook-url',
      /must be an https URL, not http/,
      [],
    );
    expectSettingsInputError(
      () => teamsWebhookUrl('teams-webhook-url', 'not a url'),
      'teams-webhook-url',
      /is not a URL/,
      [],
    );
    expect(teamsWebhookUrl('teams-webhook-url', 'http://127.0.0.1:8080/workflows/a').protocol).toBe('http:');
  });
});
