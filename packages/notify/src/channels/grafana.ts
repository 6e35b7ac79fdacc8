import {
  deliver,
  DeliveryError,
  digestOf,
  type Channel,
  type SendContext,
  type SendResult,
  sealOf,
} from '../channel.ts';
import { htmlText, oneLine } from '../escape.ts';
import { facts, FINAL_STATUSES, statusWord, type DeploymentMessage } from '../message.ts';
import { urlUnder } from './pagerduty.ts';

export interface GrafanaConfig {
  /** Grafana's root URL (a sub-path install keeps its path, e.g. https://ops.example.com/grafana). */
  url: URL;
  /** A service account token with the annotations:write permission. */
  token: string;
  /** Pin the annotation to one dashboard; without it, it is an organisation-wide annotation. */
  dashboardUid?: string;
  /** Extra trusted CA certificates (PEM), for a Grafana with a private CA. */
  ca?: string;
}

/** The tag every annotation of the suite carries, for a dashboard's annotation query. */
export const GRAFANA_TAG = 'deploy-suite';

/** Grafana's tags match exactly and show in the legend: bounded, one line. */
function tag(name: string, value: string): string {
  return oneLine(`${name}:${value}`, 100);
}

export function grafanaTags(message: DeploymentMessage, outcome = false): string[] {
  const tags = [GRAFANA_TAG, tag('service', message.service), tag('environment', message.environment)];
  if (message.version !== undefined) tags.push(tag('version', message.version));
  else if (message.sha !== undefined) tags.push(tag('version', message.sha.slice(0, 12)));
  if (outcome) tags.push(tag('outcome', message.status));
  return tags;
}

/**
 * The annotation's text. Grafana shows it in a tooltip as sanitised HTML, so every value is
 * HTML-escaped: a title with <b> or a script tag shows as typed.
 */
export function grafanaText(context: SendContext): string {
  const { message } = context;
  const lines = [htmlText(oneLine(context.text, 300))];
  if (message.title !== undefined && message.title.trim() !== '') lines.push(htmlText(oneLine(message.title, 300)));
  for (const fact of facts(message, 'stakeholders')) {
    if (fact.label === 'Service' || fact.label === 'Environment') continue;
    lines.push(`${htmlText(fact.label)}: ${htmlText(oneLine(fact.value, 300))}`);
  }
  if (message.runUrl !== undefined && /^https?:\/\//.test(message.runUrl)) {
    lines.push(`<a href="${htmlText(message.runUrl)}">Workflow run</a>`);
  }
  return lines.join('\n');
}

interface Answer {
  status: number;
  body: { id?: unknown; message?: unknown };
  attempts: number;
}

/**
 * Grafana annotations: one per deployment, created at the first stage from the thread's start,
 * edited as stages pass, and given its end time at the final one, so dashboards show the
 * deployment as a region tagged with its service, environment, version and outcome.
 */
export function grafanaChannel(config: GrafanaConfig): Channel {
  async function call(method: 'POST' | 'PATCH', path: string, body: unknown, context: SendContext): Promise<Answer> {
    const { response, attempts } = await deliver({
      service: 'Grafana',
      method,
      url: urlUnder(config.url, path),
      headers: { authorization: `Bearer ${config.token}`, accept: 'application/json' },
      body: JSON.stringify(body),
      context,
      ...(config.ca === undefined ? {} : { ca: config.ca }),
      ok: (response) => response.status < 300 || [401, 403, 404].includes(response.status),
      // A second POST after one that may have landed would make a second annotation.
      creates: method === 'POST',
    });
    let parsed: Answer['body'] = {};
    try {
      const value = JSON.parse(response.body) as unknown;
      if (typeof value === 'object' && value !== null) parsed = value;
    } catch {
      // Not JSON: judged by its status alone.
    }
    if (response.status === 401) {
      throw new DeliveryError(
        'Grafana refused the token (HTTP 401): check the service account token input (expired, revoked or mistyped)',
        attempts,
      );
    }
    if (response.status === 403) {
      throw new DeliveryError(
        "Grafana refused the annotation (HTTP 403): give the token's service account the annotations:write permission (the Editor role has it)" +
          (config.dashboardUid === undefined ? '' : ' and edit access to the dashboard'),
        attempts,
      );
    }
    return { status: response.status, body: parsed, attempts };
  }

  async function create(context: SendContext, text: string, tags: string[], final: boolean) {
    const { message, thread } = context;
    const start = Date.parse(thread.startedAt);
    const body = {
      time: start,
      ...(final ? { timeEnd: Math.max(start, Date.parse(message.at)) } : {}),
      tags,
      text,
      ...(config.dashboardUid === undefined ? {} : { dashboardUID: config.dashboardUid }),
    };
    const answer = await call('POST', 'api/annotations', body, context);
    if (answer.status === 404) {
      throw new DeliveryError(
        config.dashboardUid === undefined
          ? 'Grafana answered HTTP 404 for /api/annotations: check the Grafana URL'
          : 'Grafana answered HTTP 404: the dashboard UID was not found, or the URL is not Grafana',
        answer.attempts,
      );
    }
    const id = answer.body.id;
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0) {
      throw new DeliveryError(`Grafana answered HTTP ${answer.status} without an annotation id`, answer.attempts);
    }
    return { id, attempts: answer.attempts };
  }

  return {
    name: 'grafana',
    async send(context: SendContext): Promise<SendResult> {
      const { message, thread } = context;
      const kept = thread.grafana;
      // An annotation id this channel did not record itself (an edited thread) is not used.
      const state =
        kept !== undefined && kept.seal === sealOf(config.token, String(kept.annotationId)) ? kept : undefined;
      if (kept !== undefined && state === undefined) {
        context.log("grafana: the thread's annotation id does not carry this token's seal; creating a new annotation");
      }
      const seal = (id: number) => sealOf(config.token, String(id));
      if (state?.sent.includes(message.status)) {
        return {
          outcome: 'unchanged',
          detail: `the annotation already shows the ${statusWord(message.status)} stage`,
          attempts: 0,
          state,
        };
      }
      const final = FINAL_STATUSES.includes(message.status);
      const text = grafanaText(context);
      const tags = grafanaTags(message, final);
      const digest = digestOf({ text, tags });
      const sent = [...(state?.sent ?? []), message.status];

      if (state === undefined) {
        const made = await create(context, text, tags, final);
        return {
          outcome: 'delivered',
          detail: `created annotation ${made.id}${final ? ' as a region ending now' : ''}`,
          attempts: made.attempts,
          state: { sent, digest, annotationId: made.id, closed: final, seal: seal(made.id) },
        };
      }

      if (!final && digest === state.digest) {
        return {
          outcome: 'unchanged',
          detail: `annotation ${state.annotationId} already says this`,
          attempts: 0,
          state: { ...state, sent },
        };
      }
      const patch = final
        ? { timeEnd: Math.max(Date.parse(thread.startedAt), Date.parse(message.at)), text, tags }
        : { text, tags };
      const answer = await call('PATCH', `api/annotations/${state.annotationId}`, patch, context);
      if (answer.status === 404) {
        // Someone deleted it: a new one, from the thread's start, keeps the region whole.
        const made = await create(context, text, tags, final);
        return {
          outcome: 'delivered',
          detail: `annotation ${state.annotationId} was gone (deleted in Grafana); created annotation ${made.id} in its place`,
          attempts: answer.attempts + made.attempts,
          state: { sent, digest, annotationId: made.id, closed: final, seal: seal(made.id) },
        };
      }
      return {
        outcome: 'delivered',
        detail: final
          ? `closed annotation ${state.annotationId} as a region (${statusWord(message.status)})`
          : `updated annotation ${state.annotationId}`,
        attempts: answer.attempts,
        state: {
          sent,
          digest,
          annotationId: state.annotationId,
          closed: final || state.closed,
          seal: seal(state.annotationId),
        },
      };
    },
  };
}
