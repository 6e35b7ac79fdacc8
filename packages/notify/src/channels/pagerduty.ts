import { createHash } from 'node:crypto';
import { deliver, DeliveryError, digestOf, type Channel, type SendContext, type SendResult } from '../channel.ts';
import { oneLine } from '../escape.ts';
import { allLinks, messageFields, statusWord, type DeploymentMessage, type Status } from '../message.ts';
import type { ThreadState } from '../thread.ts';

export interface PagerDutyConfig {
  /** The Events API v2 integration key of a PagerDuty service (32 characters). */
  routingKey: string;
  /** The Events API root; default https://events.pagerduty.com (EU accounts use events.eu.pagerduty.com). */
  apiUrl?: URL;
  /** Extra trusted CA certificates (PEM), for a proxy in front of the API. */
  ca?: string;
}

type PagerDutyState = NonNullable<ThreadState['pagerduty']>;

export const PAGERDUTY_API_URL = new URL('https://events.pagerduty.com');

/** Stages that open (or update) an alert: the deployment failed, was rolled back, or needs attention. */
const TRIGGERS: readonly Status[] = ['failed', 'rolled-back', 'warning'];

/**
 * Why a routing key cannot be an Events API v2 integration key, or undefined when it can be.
 * The key is never repeated in the answer.
 */
export function routingKeyProblem(key: string): string | undefined {
  if (key.trim() === '') return 'is empty; give the Integration Key of an "Events API v2" integration on the service';
  if (!/^[A-Za-z0-9]{32}$/.test(key)) {
    return `must be the 32-character Integration Key of an "Events API v2" integration (letters and digits); the value given has ${key.length} characters${/[^A-Za-z0-9]/.test(key) ? ' and characters other than letters and digits' : ''}`;
  }
  return undefined;
}

/**
 * The dedup_key of a deployment's thread: the same for every stage, run and job of one
 * deployment, so a trigger and its resolve meet the same alert. Derived, so it holds no user text.
 */
export function pagerDutyDedupKey(threadKey: string): string {
  return `deploy-suite-${createHash('sha256').update(threadKey).digest('hex').slice(0, 40)}`;
}

interface EventAnswer {
  status?: unknown;
  message?: unknown;
  errors?: unknown;
  dedup_key?: unknown;
}

/**
 * PagerDuty through the Events API v2: a failure, a rollback or a warning triggers an alert under
 * the thread's dedup_key (a later stage of the same deployment updates the same alert, never a
 * second one); success resolves that alert when one is open, and records a change event, which
 * PagerDuty shows beside incidents as "what changed recently". Other stages send nothing.
 */
export function pagerDutyChannel(config: PagerDutyConfig): Channel {
  const problem = routingKeyProblem(config.routingKey);
  if (problem !== undefined) throw new Error(`PagerDuty routing key ${problem}`);
  const base = config.apiUrl ?? PAGERDUTY_API_URL;

  async function post(
    path: string,
    body: unknown,
    context: SendContext,
  ): Promise<{ answer: EventAnswer; attempts: number }> {
    const { response, attempts } = await deliver({
      service: 'PagerDuty',
      url: urlUnder(base, path),
      body: JSON.stringify(body),
      context,
      ...(config.ca === undefined ? {} : { ca: config.ca }),
      // A 400 explains itself: read its errors rather than fail on the bare status.
      ok: (response) => (response.status >= 200 && response.status < 300) || response.status === 400,
    });
    const answer = parseAnswer(response.body);
    if (response.status === 400) {
      const errors = Array.isArray(answer.errors) ? answer.errors.map(String) : [];
      const said =
        errors.length > 0 ? errors.join('; ') : typeof answer.message === 'string' ? answer.message : 'no reason given';
      throw new DeliveryError(
        `PagerDuty refused the event as invalid: ${hide(oneLine(said, 300), config.routingKey)}. Check the routing key is an "Events API v2" integration key.`,
        attempts,
      );
    }
    if (answer.status !== undefined && answer.status !== 'success') {
      throw new DeliveryError(
        `PagerDuty answered HTTP ${response.status} with status ${hide(oneLine(typeof answer.status === 'string' ? answer.status : JSON.stringify(answer.status), 80), config.routingKey)}`,
        attempts,
      );
    }
    return { answer, attempts };
  }

  return {
    name: 'pagerduty',
    async send(context: SendContext): Promise<SendResult> {
      const { message, thread } = context;
      const previous = thread.pagerduty;
      // The key is always derived from the thread's own key, never read back: a thread someone
      // edited cannot resolve another alert of the service.
      const state: PagerDutyState = {
        ...(previous ?? { sent: [], digest: null, open: false }),
        dedupKey: pagerDutyDedupKey(thread.key),
      };
      if (state.sent.includes(message.status)) {
        return {
          outcome: 'unchanged',
          detail: `PagerDuty already has the ${statusWord(message.status)} stage`,
          attempts: 0,
          state,
        };
      }
      const sent = [...state.sent, message.status];
      const links = allLinks(message)
        .filter((link) => /^https?:/.test(link.url))
        .map((link) => ({ href: link.url, text: link.label }));

      // A failure, a rollback or a warning; and any stage routed here as critical or an error
      // (a production verification whose smoke verdict failed).
      if (TRIGGERS.includes(message.status) || message.severity === 'critical' || message.severity === 'error') {
        const event = {
          routing_key: config.routingKey,
          event_action: 'trigger',
          dedup_key: state.dedupKey,
          payload: {
            summary: summaryOf(context),
            source: sourceOf(message),
            severity: message.severity,
            timestamp: message.at,
            component: message.service,
            group: message.environment,
            class: 'deployment',
            custom_details: details(message),
          },
          links,
        };
        const { attempts } = await post('v2/enqueue', event, context);
        return {
          outcome: 'delivered',
          detail: `${state.open ? 'updated' : 'triggered'} the alert (${message.severity}) for the ${statusWord(message.status)} deployment`,
          attempts,
          state: { ...state, sent, open: true, digest: digestOf({ ...event, routing_key: undefined }) },
        };
      }

      if (message.status === 'succeeded') {
        let attempts = 0;
        const done: string[] = [];
        if (state.open) {
          const resolve = { routing_key: config.routingKey, event_action: 'resolve', dedup_key: state.dedupKey };
          attempts += (await post('v2/enqueue', resolve, context)).attempts;
          done.push('resolved the open alert');
        }
        const change = {
          routing_key: config.routingKey,
          payload: {
            summary: summaryOf(context),
            timestamp: message.at,
            source: sourceOf(message),
            custom_details: details(message),
          },
          links,
        };
        attempts += (await post('v2/change/enqueue', change, context)).attempts;
        done.push('sent a change event');
        return {
          outcome: 'delivered',
          detail: done.join(' and '),
          attempts,
          state: { ...state, sent, open: false, digest: digestOf({ ...change, routing_key: undefined }) },
        };
      }

      return {
        outcome: 'unchanged',
        detail: `nothing to send to PagerDuty for ${statusWord(message.status)}`,
        attempts: 0,
        state,
      };
    },
  };
}

/** The alert's one line: the headline and, when there is one, the title a person wrote. */
function summaryOf(context: SendContext): string {
  const title = context.message.title;
  return oneLine(title === undefined || title.trim() === '' ? context.text : `${context.text}: ${title}`, 1024);
}

function sourceOf(message: DeploymentMessage): string {
  return oneLine(`${message.service}/${message.environment}`, 255);
}

/** The message's fields that have a value, for the alert's details panel. */
function details(message: DeploymentMessage): Record<string, unknown> {
  const fields = messageFields(message);
  const kept: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fields)) {
    if (name === 'links' || value === null) continue;
    if (Array.isArray(value) && value.length === 0) continue;
    kept[name] = value;
  }
  return kept;
}

function parseAnswer(body: string): EventAnswer {
  try {
    const parsed = JSON.parse(body) as unknown;
    return typeof parsed === 'object' && parsed !== null ? parsed : {};
  } catch {
    return {};
  }
}

/** An answer could quote the request; the routing key never reaches an error. */
function hide(text: string, secret: string): string {
  return secret === '' ? text : text.split(secret).join('***');
}

/** A path under an API root that may itself have a path (a proxy's prefix). */
export function urlUnder(base: URL, path: string): URL {
  const root = new URL(base.href);
  if (!root.pathname.endsWith('/')) root.pathname += '/';
  root.search = '';
  return new URL(path, root);
}
