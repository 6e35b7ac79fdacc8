import { basename } from 'node:path';
import {
  InputError,
  Inputs,
  isLoopbackHost,
  parseHttpUrl,
  readInputFile,
  readRunContext,
  registerSecret,
} from '@deploy-suite/kit';
import {
  DEFAULT_ROUTING,
  emailSecurityProblem,
  PAGERDUTY_API_URL,
  routingKeyProblem,
  teamsWebhookUrl,
  parseRouting,
  parseThread,
  ROUTING_EXAMPLE,
  SEVERITIES,
  STATUSES,
  Template,
  type DeploymentMessage,
  type Link,
  type Routing,
  type Severity,
  type Status,
  type ThreadState,
} from '@deploy-suite/notify';
import {
  parseChangeType,
  parseIncidentSeverity,
  readPolicyInput,
  type IncidentSeverity,
  type Policy,
} from '@deploy-suite/policy';
import type { Repo } from '@deploy-suite/github';

export interface SlackSettings {
  token: string;
  channel: string;
  apiUrl: string | undefined;
}

export interface EmailSettings {
  host: string;
  port: number;
  security: 'tls' | 'starttls' | 'none';
  username: string | undefined;
  password: string | undefined;
  ca: string | undefined;
  from: string;
  to: string[];
}

export type CommentTarget = { kind: 'issue'; number: number } | { kind: 'commit'; sha: string } | undefined;

/**
 * The message's fields as the inputs give them; the run adds its times, its repository and run
 * link, the event's title when none is given, and the status's severity when none is given.
 */
export type MessageInputs = Omit<
  DeploymentMessage,
  'severity' | 'title' | 'at' | 'startedAt' | 'repository' | 'runUrl'
> & {
  severity: Severity | undefined;
  title: string | undefined;
};

/** The incident record a failed production deployment opens. */
export interface IncidentSettings {
  /** auto: a failed or rolled-back production deployment opens (or updates) an incident issue. */
  mode: 'auto' | 'never';
  /** The deployment record whose statuses make the incident's timeline. */
  deploymentId: number | undefined;
  databaseRestored: boolean;
  /** incident-severity: over the policy's rule. */
  severity: IncidentSeverity | undefined;
  /** Labels besides incident and severity:Pn. */
  labels: string[];
}

/** Every input, read and checked once. */
export interface Settings {
  repo: Repo | undefined;
  message: MessageInputs;
  template: Template | undefined;
  routing: Routing;
  routingGiven: boolean;
  threadKey: string;
  thread: ThreadState | undefined;
  token: string | undefined;
  keepThread: boolean;
  commentOn: 'auto' | 'pull-request' | 'commit' | 'issue' | 'none';
  pullRequest: number | undefined;
  changeRequest: number | undefined;
  policy: Policy | undefined;
  failOnError: boolean;
  timeoutMs: number;
  runUrl: string | undefined;
  /** GITHUB_SERVER_URL, for links to the change request. */
  serverUrl: string;
  incident: IncidentSettings;
  slack: SlackSettings | undefined;
  slackWebhook: URL | undefined;
  teams: URL | undefined;
  email: EmailSettings | undefined;
  webhook: { url: URL; secret: string; ca: string | undefined } | undefined;
  pagerduty: { routingKey: string; apiUrl: URL } | undefined;
  grafana: { url: URL; token: string; dashboardUid: string | undefined; ca: string | undefined } | undefined;
}

const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

export function readSettings(inputs: Inputs, workspace = process.env.GITHUB_WORKSPACE ?? process.cwd()): Settings {
  const context = readRunContext();
  const [owner, name] = context.repository.split('/');
  const repo = owner && name ? { owner, repo: name } : undefined;

  inputs.required('status', { example: `status: started (one of ${STATUSES.join(', ')})` });
  const status = inputs.oneOf('status', STATUSES, 'started');
  const environment = inputs.required('environment', { example: 'environment: production' });
  const sha = inputs.optional('sha') ?? (context.sha === '' ? undefined : context.sha);
  if (sha !== undefined && !SHA.test(sha)) {
    throw new InputError(
      'sha',
      `must be a full commit SHA (40 lowercase hex digits), got "${sha.slice(0, 80)}"`,
      'sha: ${{ github.sha }}',
    );
  }
  const changeTypeText = inputs.optional('change-type');
  const smokeVerdict = inputs.optional('smoke-verdict');
  const verdicts = ['pass', 'warn', 'fail'] as const;
  const severityText = inputs.optional('severity');
  const window = readWindow(inputs, status);
  const routingText = inputs.textOrFile('routing', 'routing-file', {
    example: ROUTING_EXAMPLE,
    fileExample: 'routing-file: .github/notify-routing.yml',
    base: workspace,
  });
  const templateText = inputs.optional('template');
  const threadText = inputs.optional('thread');
  let thread: ThreadState | undefined;
  if (threadText !== undefined) {
    const parsed = parseThread(threadText);
    if ('problem' in parsed) {
      throw new InputError('thread', parsed.problem, 'thread: ${{ steps.notify-start.outputs.thread }}');
    }
    thread = parsed;
  }
  const runId = context.runId === '' ? 'local' : context.runId;
  const threadKey =
    inputs.optional('thread-key') ??
    thread?.key ??
    `${repo ? `${repo.owner}/${repo.repo}` : ''}:${environment}:${sha ?? 'no-sha'}:run-${runId}`;
  if (threadKey.length > 200) {
    throw new InputError(
      'thread-key',
      `is ${threadKey.length} characters long; at most 200`,
      'thread-key: production-${{ github.sha }}',
    );
  }
  if (thread !== undefined && thread.key !== threadKey) {
    throw new InputError(
      'thread',
      `belongs to thread "${thread.key.slice(0, 80)}", not "${threadKey.slice(0, 80)}" (thread-key)`,
      'thread: ${{ steps.notify-start.outputs.thread }}',
    );
  }
  return {
    repo,
    message: {
      status,
      environment,
      service: inputs.optional('service') ?? name ?? basename(workspace),
      version: inputs.optional('version'),
      sha,
      changeType: changeTypeText === undefined ? undefined : parseChangeType(changeTypeText),
      title: inputs.optional('title'),
      impact: inputs.optional('impact'),
      details: inputs.optional('details'),
      approvers: inputs.list('approvers'),
      backupId: inputs.optional('backup-id'),
      planHash: inputs.optional('plan-hash'),
      smokeVerdict: smokeVerdict === undefined ? undefined : inputs.oneOf('smoke-verdict', verdicts, 'pass'),
      severity: severityText === undefined ? undefined : inputs.oneOf('severity', SEVERITIES, 'info'),
      links: readLinks(inputs),
      window,
    },
    template: templateText === undefined ? undefined : new Template(templateText),
    routing: routingText === undefined ? DEFAULT_ROUTING : parseRouting(routingText.text, routingText.input),
    routingGiven: routingText !== undefined,
    threadKey,
    thread,
    token: inputs.secret('github-token'),
    keepThread: inputs.boolean('keep-thread', true),
    commentOn: inputs.oneOf('github-comment', ['auto', 'pull-request', 'commit', 'issue', 'none'] as const, 'auto'),
    pullRequest: optionalNumber(inputs, 'pull-request'),
    changeRequest: optionalNumber(inputs, 'change-request'),
    policy: readPolicyInput(inputs, workspace),
    failOnError: inputs.boolean('fail-on-error', false),
    timeoutMs: inputs.duration('timeout', '2m', { minMs: 1000, maxMs: 30 * 60_000 }),
    runUrl: context.runUrl === '' ? undefined : context.runUrl,
    serverUrl: context.serverUrl,
    incident: readIncident(inputs),
    slack: readSlack(inputs),
    slackWebhook: serviceUrl(inputs, 'slack-webhook-url', 'slack-webhook-url: ${{ secrets.SLACK_WEBHOOK_URL }}', true),
    teams: readTeams(inputs),
    email: readEmail(inputs, workspace),
    webhook: readWebhook(inputs, workspace),
    pagerduty: readPagerDuty(inputs),
    grafana: readGrafana(inputs, workspace),
  };
}

function readIncident(inputs: Inputs): IncidentSettings {
  const severityText = inputs.optional('incident-severity');
  const severity = severityText === undefined ? undefined : parseIncidentSeverity(severityText);
  if (severityText !== undefined && severity === undefined) {
    throw new InputError(
      'incident-severity',
      `must be one of P1, P2, P3 or P4, got "${severityText.slice(0, 40)}"`,
      'incident-severity: P2',
    );
  }
  const labels = inputs.list('incident-labels');
  for (const label of labels) {
    if (label.length > 50) {
      throw new InputError(
        'incident-labels',
        `has a label of ${label.length} characters ("${label.slice(0, 20)}…"); GitHub allows at most 50`,
        'incident-labels: team:payments, deploy',
      );
    }
  }
  return {
    mode: inputs.oneOf('incident', ['auto', 'never'] as const, 'never'),
    deploymentId: deploymentId(inputs),
    databaseRestored: inputs.boolean('database-restored', false),
    severity,
    labels,
  };
}

function deploymentId(inputs: Inputs): number | undefined {
  const text = inputs.optional('deployment-id');
  if (text === undefined) return undefined;
  if (!/^[1-9]\d{0,15}$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new InputError(
      'deployment-id',
      `must be a GitHub deployment's id (a positive whole number), got "${text.slice(0, 40)}"`,
      'deployment-id: ${{ steps.switch.outputs.deployment-id }}',
    );
  }
  return Number(text);
}

function optionalNumber(inputs: Inputs, name: string): number | undefined {
  return inputs.optional(name) === undefined ? undefined : inputs.integer(name, 0, { min: 1 });
}

/**
 * An https URL of a service (a webhook, an API). Plain http only to a loopback host, where
 * nothing crosses a network. A secret URL (a webhook's path is its credential) is masked whole.
 */
function serviceUrl(inputs: Inputs, name: string, example: string, secret: boolean): URL | undefined {
  const value = secret ? inputs.secret(name) : inputs.optional(name);
  if (value === undefined) return undefined;
  const url = parseHttpUrl(name, value, example);
  if (url.protocol !== 'https:' && !isLoopbackHost(url.hostname)) {
    throw new InputError(name, 'must be an https:// URL (what it carries would cross the network in clear)', example);
  }
  maskQueryCredentials(url);
  return url;
}

/** A signature or key in a URL's query (a Teams `sig`) is masked on its own too, wherever it shows. */
function maskQueryCredentials(url: URL): void {
  for (const [key, part] of url.searchParams)
    if (/sig|token|key|secret/i.test(key) && part !== '') registerSecret(part);
}

function readLinks(inputs: Inputs): Link[] {
  const example = 'links: |\n  Change request=https://github.com/acme/shop/issues/42';
  return inputs.list('links').map((line) => {
    const at = line.indexOf('=');
    if (at <= 0) throw new InputError('links', `has a line without "label=url": "${line.slice(0, 80)}"`, example);
    const label = line.slice(0, at).trim();
    const url = parseHttpUrl('links', line.slice(at + 1).trim(), example);
    return { label: label.slice(0, 100), url: url.href };
  });
}

function readWindow(inputs: Inputs, status: Status): { start: string; end: string } | undefined {
  const example = 'window-start: 2026-12-06T02:00:00+01:00';
  const start = inputs.optional('window-start');
  const end = inputs.optional('window-end');
  if (start === undefined && end === undefined) {
    if (status === 'scheduled') {
      throw new InputError('window-start', 'is required for status scheduled (a planned maintenance notice)', example);
    }
    return undefined;
  }
  const parse = (name: string, value: string | undefined): string => {
    if (value === undefined) throw new InputError(name, 'is required with the other window input', example);
    const time = Date.parse(value);
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value) || Number.isNaN(time)) {
      throw new InputError(name, `must be an ISO 8601 time with its offset, got "${value.slice(0, 80)}"`, example);
    }
    return new Date(time).toISOString();
  };
  const window = { start: parse('window-start', start), end: parse('window-end', end) };
  if (Date.parse(window.end) <= Date.parse(window.start)) {
    throw new InputError('window-end', 'must be after window-start', 'window-end: 2026-12-06T04:00:00+01:00');
  }
  return window;
}

function readSlack(inputs: Inputs): SlackSettings | undefined {
  const token = inputs.secret('slack-token');
  const channel = inputs.optional('slack-channel');
  const example = 'slack-channel: C0123456789';
  if (token === undefined && channel === undefined) return undefined;
  if (token === undefined)
    throw new InputError(
      'slack-token',
      'is required with slack-channel (a bot token, xoxb-…)',
      'slack-token: ${{ secrets.SLACK_BOT_TOKEN }}',
    );
  if (channel === undefined) throw new InputError('slack-channel', 'is required with slack-token', example);
  if (!/^(#?[a-z0-9][a-z0-9._-]{0,79}|[CGD][A-Z0-9]{2,20})$/.test(channel)) {
    throw new InputError(
      'slack-channel',
      `must be a channel ID (C0123456789) or name (#deploys), got "${channel.slice(0, 80)}"`,
      example,
    );
  }
  const apiUrl = serviceUrl(inputs, 'slack-api-url', 'slack-api-url: https://slack.com/api/', false);
  return { token, channel, apiUrl: apiUrl === undefined ? undefined : apiUrl.href.replace(/\/?$/, '/') };
}

function readTeams(inputs: Inputs): URL | undefined {
  const value = inputs.secret('teams-webhook-url');
  if (value === undefined) return undefined;
  const url = teamsWebhookUrl('teams-webhook-url', value);
  maskQueryCredentials(url);
  return url;
}

function readEmail(inputs: Inputs, workspace: string): EmailSettings | undefined {
  const host = inputs.optional('smtp-host');
  const to = inputs.list('email-to');
  if (host === undefined && to.length === 0) return undefined;
  const example = 'email-to: ops@example.com, product@example.com';
  if (host === undefined) throw new InputError('smtp-host', 'is required with email-to', 'smtp-host: smtp.example.com');
  if (to.length === 0) throw new InputError('email-to', 'is required with smtp-host', example);
  const address = /^[^\s@<>()",;:]+@[^\s@<>()",;:]+$/;
  for (const recipient of to) {
    if (!address.test(recipient))
      throw new InputError(
        'email-to',
        `has "${recipient.slice(0, 80)}", which is not an address (name@domain)`,
        example,
      );
  }
  const from = inputs.required('email-from', { example: 'email-from: deployments@example.com' });
  if (!address.test(from))
    throw new InputError(
      'email-from',
      `"${from.slice(0, 80)}" is not an address (name@domain)`,
      'email-from: deployments@example.com',
    );
  const security = inputs.oneOf('smtp-security', ['tls', 'starttls', 'none'] as const, 'starttls');
  const problem = emailSecurityProblem(host, security);
  if (problem !== undefined) throw new InputError('smtp-security', problem, 'smtp-security: starttls');
  const caFile = inputs.optional('smtp-ca-file');
  return {
    host,
    port: inputs.integer('smtp-port', security === 'tls' ? 465 : 587, { min: 1, max: 65535 }),
    security,
    username: inputs.optional('smtp-username'),
    password: inputs.secret('smtp-password'),
    ca:
      caFile === undefined
        ? undefined
        : readInputFile('smtp-ca-file', caFile, 'smtp-ca-file: certs/smtp-ca.pem', workspace),
    from,
    to,
  };
}

function readWebhook(inputs: Inputs, workspace: string): Settings['webhook'] {
  const example = 'webhook-url: https://hooks.example.com/deployments';
  const url = serviceUrl(inputs, 'webhook-url', example, true);
  const secret = inputs.secret('webhook-secret');
  if (url === undefined && secret === undefined) return undefined;
  if (url === undefined) throw new InputError('webhook-url', 'is required with webhook-secret', example);
  if (secret === undefined || secret.length < 16) {
    throw new InputError(
      'webhook-secret',
      'is required with webhook-url, at least 16 characters: receivers check the HMAC-SHA256 signature made with it',
      'webhook-secret: ${{ secrets.DEPLOY_WEBHOOK_SECRET }}',
    );
  }
  const caFile = inputs.optional('webhook-ca-file');
  return {
    url,
    secret,
    ca:
      caFile === undefined
        ? undefined
        : readInputFile('webhook-ca-file', caFile, 'webhook-ca-file: certs/ca.pem', workspace),
  };
}

function readPagerDuty(inputs: Inputs): Settings['pagerduty'] {
  const routingKey = inputs.secret('pagerduty-routing-key');
  if (routingKey === undefined) return undefined;
  const problem = routingKeyProblem(routingKey);
  if (problem !== undefined) {
    throw new InputError(
      'pagerduty-routing-key',
      problem,
      'pagerduty-routing-key: ${{ secrets.PAGERDUTY_ROUTING_KEY }}',
    );
  }
  const apiUrl =
    serviceUrl(inputs, 'pagerduty-api-url', 'pagerduty-api-url: https://events.eu.pagerduty.com', false) ??
    PAGERDUTY_API_URL;
  return { routingKey, apiUrl };
}

function readGrafana(inputs: Inputs, workspace: string): Settings['grafana'] {
  const url = serviceUrl(inputs, 'grafana-url', 'grafana-url: https://grafana.example.com', false);
  const token = inputs.secret('grafana-token');
  if (url === undefined && token === undefined) return undefined;
  if (url === undefined)
    throw new InputError('grafana-url', 'is required with grafana-token', 'grafana-url: https://grafana.example.com');
  if (token === undefined)
    throw new InputError(
      'grafana-token',
      'is required with grafana-url (a service account token with annotations:write)',
      'grafana-token: ${{ secrets.GRAFANA_TOKEN }}',
    );
  const caFile = inputs.optional('grafana-ca-file');
  return {
    url,
    token,
    dashboardUid: inputs.optional('grafana-dashboard-uid'),
    ca:
      caFile === undefined
        ? undefined
        : readInputFile('grafana-ca-file', caFile, 'grafana-ca-file: certs/ca.pem', workspace),
  };
}
