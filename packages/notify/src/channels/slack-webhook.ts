import {
  deliver,
  DeliveryError,
  digestOf,
  type Channel,
  type SendContext,
  type SendResult,
  unchangedIfSent,
} from '../channel.ts';
import { allLinks, facts, statusWord } from '../message.ts';
import { slackText } from '../escape.ts';

export interface SlackWebhookConfig {
  /** The incoming webhook's URL (a secret: it is all it takes to post). */
  url: URL;
}

/** Slack accepts one message a second per incoming webhook (short bursts aside). */
const INTERVAL_MS = 1000;

/**
 * The next free slot of each webhook, keyed by a digest of its URL so the URL itself is not kept,
 * shared by every channel in the process: two routes to one webhook still take turns.
 */
const nextSlot = new Map<string, number>();

/**
 * Waits for the webhook's next one-second slot on the step's clock. The slot is taken before
 * waiting, so sends that start together queue up one after another. A wait longer than the
 * interval cannot be ours (another clock took the slot, as in tests): it is treated as free.
 */
async function takeSlot(url: URL, context: Pick<SendContext, 'clock' | 'signal' | 'deadline'>): Promise<void> {
  const key = digestOf(url.href);
  const now = context.clock.now();
  const reserved = nextSlot.get(key) ?? now;
  const slot = reserved > now && reserved - now <= INTERVAL_MS ? reserved : now;
  if (slot > context.deadline) {
    throw new DeliveryError("Slack webhook: the step's deadline passes before the webhook's next free second");
  }
  nextSlot.set(key, slot + INTERVAL_MS);
  if (slot > now) await context.clock.sleep(slot - now, context.signal);
}

/** What Slack's refusal words mean for the person reading the warning. */
const HINTS: [RegExp, string][] = [
  [
    /"(no_service|invalid_token|no_team)"/,
    'the webhook was removed or disabled: create a new incoming webhook in the Slack app',
  ],
  [/"(channel_not_found|channel_is_archived)"/, "the webhook's channel was deleted or archived"],
  [/"action_prohibited"/, 'a workspace admin restricted posting to that channel'],
  [/"posting_to_general_channel_denied"/, 'only admins may post to that channel'],
  [/"(invalid_payload|no_text|too_many_attachments)"/, 'Slack refused the message layout'],
];

/**
 * Slack through an incoming webhook: one message per stage (a webhook can neither edit nor
 * thread), at most one a second per webhook, retried on 429 and 5xx within the deadline.
 */
export function slackWebhookChannel(config: SlackWebhookConfig): Channel {
  return {
    name: 'slack-webhook',
    async send(context: SendContext): Promise<SendResult> {
      const previous = context.thread['slack-webhook'];
      const { message } = context;
      const unchanged = unchangedIfSent(previous, message.status);
      if (unchanged !== undefined) return unchanged;
      const payload = renderSlackWebhook(context);
      await takeSlot(config.url, context);
      try {
        const { attempts } = await deliver({
          service: 'Slack webhook',
          url: config.url,
          body: JSON.stringify(payload),
          context,
        });
        return {
          outcome: 'delivered',
          detail: `posted "${statusWord(message.status)}"`,
          attempts,
          state: { sent: [...(previous?.sent ?? []), message.status], digest: digestOf(payload) },
        };
      } catch (error) {
        if (!(error instanceof DeliveryError)) throw error;
        const hint = HINTS.find(([pattern]) => pattern.test(error.message))?.[1];
        throw hint === undefined ? error : new DeliveryError(`${error.message}: ${hint}`, error.attempts);
      }
    },
  };
}

const cut = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** The message as `text` (the notification's line) and blocks, every user-typed string escaped. */
export function renderSlackWebhook(context: Pick<SendContext, 'message' | 'audience' | 'text'>): {
  text: string;
  blocks: unknown[];
} {
  const { message } = context;
  const blocks: unknown[] = [
    { type: 'section', text: { type: 'mrkdwn', text: cut(`*${slackText(context.text)}*`, 3000) } },
  ];
  if (message.title !== undefined && message.title !== '') {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: cut(slackText(message.title), 3000) } });
  }
  const fields = facts(message, context.audience).map((row) => ({
    type: 'mrkdwn',
    text: cut(`*${slackText(row.label)}*\n${slackText(row.value)}`, 2000),
  }));
  for (let i = 0; i < fields.length; i += 10) blocks.push({ type: 'section', fields: fields.slice(i, i + 10) });
  if (context.audience === 'engineers' && message.details !== undefined && message.details !== '') {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: cut(slackText(message.details), 3000) } });
  }
  const links = allLinks(message).slice(0, 25);
  if (links.length > 0) {
    blocks.push({
      type: 'actions',
      elements: links.map((link) => ({
        type: 'button',
        text: { type: 'plain_text', text: cut(link.label, 75) },
        url: link.url,
      })),
    });
  }
  return { text: slackText(context.text), blocks };
}
