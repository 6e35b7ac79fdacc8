import { InputError, isLoopbackHost } from '@deploy-suite/kit';
import {
  deliver,
  DeliveryError,
  digestOf,
  type Channel,
  type SendContext,
  type SendResult,
  unchangedIfSent,
} from '../channel.ts';
import { allLinks, facts, statusWord, type Severity } from '../message.ts';
import { adaptiveCardText } from '../escape.ts';

export interface TeamsConfig {
  /** A Workflows (Power Automate) webhook URL: a secret, since it is all it takes to post. */
  url: URL;
}

const WORKFLOWS_EXAMPLE =
  'https://default0123456789abcdef.0e.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/0123456789abcdef/triggers/manual/paths/invoke?api-version=1&sp=...&sig=...';

/**
 * Reads a Teams webhook URL input: https (plain http only for a loopback test server), and not
 * a legacy Office 365 connector URL, which Microsoft retired: such a URL no longer delivers, so
 * it is refused with the way to the replacement. The value itself never appears in the error.
 */
export function teamsWebhookUrl(input: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new InputError(input, 'is not a URL', WORKFLOWS_EXAMPLE);
  }
  const host = url.hostname.toLowerCase();
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(host))) {
    throw new InputError(input, `must be an https URL, not ${url.protocol.replace(':', '')}`, WORKFLOWS_EXAMPLE);
  }
  const connector =
    host.endsWith('.webhook.office.com') ||
    ((host === 'outlook.office.com' || host === 'outlook.office365.com') && /^\/webhook/i.test(url.pathname));
  if (connector) {
    throw new InputError(
      input,
      'is a legacy Office 365 connector URL (…webhook.office.com/webhookb2/…); Microsoft retired Office 365 connectors, so it no longer delivers. ' +
        'In Teams, create a Workflows webhook instead: on the channel choose Workflows, then the template ' +
        '"Post to a channel when a webhook request is received", and use the URL it gives (the channel then receives Adaptive Cards)',
      WORKFLOWS_EXAMPLE,
    );
  }
  return url;
}

/** The card's accent for a severity (Adaptive Cards' named colours). */
const COLOURS: Record<Severity, string> = {
  info: 'Good',
  warning: 'Warning',
  error: 'Attention',
  critical: 'Attention',
};

/**
 * Microsoft Teams through a Workflows webhook: one Adaptive Card per stage (a Workflows webhook
 * answers 202 with no id, so a card cannot be edited later), retried on 429 and 5xx within the
 * deadline. No mentions: the card carries no `msteams.entities`, so `<at>` stays text.
 */
export function teamsChannel(config: TeamsConfig): Channel {
  return {
    name: 'teams',
    async send(context: SendContext): Promise<SendResult> {
      const previous = context.thread.teams;
      const { message } = context;
      const unchanged = unchangedIfSent(previous, message.status);
      if (unchanged !== undefined) return unchanged;
      const payload = renderTeams(context);
      try {
        const { attempts } = await deliver({
          service: 'Teams webhook',
          url: config.url,
          body: JSON.stringify(payload),
          context,
        });
        return {
          outcome: 'delivered',
          detail: `posted a card for "${statusWord(message.status)}"`,
          attempts,
          state: { sent: [...(previous?.sent ?? []), message.status], digest: digestOf(payload) },
        };
      } catch (error) {
        if (error instanceof DeliveryError && (error.status === 401 || error.status === 403 || error.status === 404)) {
          throw new DeliveryError(
            `${error.message}: the Workflows webhook was turned off, deleted or its URL changed; create it again in Teams and update the URL`,
            error.attempts,
          );
        }
        throw error;
      }
    },
  };
}

const cut = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** The Workflows message: one Adaptive Card 1.4 with the headline, the title, the facts and a button per link. */
export function renderTeams(context: Pick<SendContext, 'message' | 'audience' | 'text'>): Record<string, unknown> {
  const { message } = context;
  const body: Record<string, unknown>[] = [
    {
      type: 'TextBlock',
      text: cut(adaptiveCardText(context.text), 1000),
      weight: 'Bolder',
      size: 'Medium',
      color: COLOURS[message.severity],
      wrap: true,
    },
  ];
  if (message.title !== undefined && message.title !== '') {
    body.push({ type: 'TextBlock', text: cut(adaptiveCardText(message.title), 2000), wrap: true });
  }
  body.push({
    type: 'FactSet',
    facts: facts(message, context.audience).map((row) => ({
      title: adaptiveCardText(row.label),
      value: cut(adaptiveCardText(row.value), 1000),
    })),
  });
  if (context.audience === 'engineers' && message.details !== undefined && message.details !== '') {
    body.push({ type: 'TextBlock', text: cut(adaptiveCardText(message.details), 4000), wrap: true, isSubtle: true });
  }
  const actions = allLinks(message)
    .slice(0, 6)
    .map((link) => ({ type: 'Action.OpenUrl', title: cut(link.label, 100), url: link.url }));
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body,
          ...(actions.length > 0 ? { actions } : {}),
        },
      },
    ],
  };
}
