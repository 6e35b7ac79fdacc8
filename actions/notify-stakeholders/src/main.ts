import * as core from '@actions/core';
import { createGitHubClient, readEventContext, tokenLogin, type GitHubClient } from '@deploy-suite/github';
import {
  errorMessage,
  Inputs,
  JobSummary,
  redact,
  RemoteError,
  runAction,
  setOutput,
  systemClock,
} from '@deploy-suite/kit';
import {
  CheckRunThreadStore,
  headline,
  isIncident,
  linkTarget,
  newThread,
  notify,
  openIncident,
  readIncidentRecord,
  severityOf,
  unconfiguredChannels,
  withStage,
  type DeploymentMessage,
  type IncidentRecord,
  type IncidentResult,
  type ThreadState,
  type ThreadStore,
} from '@deploy-suite/notify';
import { buildChannels } from './channels.ts';
import { readSettings, type Settings } from './settings.ts';
import { noticeWarning, renderSummary, threadView, type IncidentOutcome } from './summary.ts';

const summary = new JobSummary();
const log = (line: string) => core.info(redact(line));
const warn = (line: string) => core.warning(redact(line));

await runAction(async () => {
  const workspace = process.env.GITHUB_WORKSPACE ?? process.cwd();
  const settings = readSettings(new Inputs(), workspace);
  const deadline = systemClock.now() + settings.timeoutMs;
  const event = readEventContext();
  const octokit =
    settings.token !== undefined && settings.repo !== undefined ? boundedClient(settings.token, deadline) : undefined;
  const now = new Date(systemClock.now()).toISOString();
  let message = messageOf(settings, event.payload, now);

  const store = threadStore(settings, octokit);
  const loaded = (await loadThread(store, settings)) ?? newThread(settings.threadKey, now);
  // The incident goes first, so every channel links to it and no channel's failure can stop it.
  const incident = await raiseIncident(settings, octokit, loaded, message);
  const thread: ThreadState = incident?.result === undefined ? loaded : { ...loaded, incident: incident.result.state };
  const url = incident?.result === undefined ? undefined : linkTarget(incident.result.url);
  if (incident?.result !== undefined && url !== undefined) {
    message = {
      ...message,
      links: [...message.links, { label: `Incident #${incident.result.number} (${incident.result.severity})`, url }],
    };
  }

  const notice = noticeWarning(message, settings.policy, systemClock.now());
  if (notice !== undefined) warn(notice);

  const channels = buildChannels(settings, octokit, event.payload, warn);
  if (settings.routingGiven) {
    for (const channel of unconfiguredChannels(settings.routing, new Set(channels.keys()))) {
      warn(`The routing sends to ${channel}, which has no inputs here: nothing goes to ${channel}`);
    }
  }
  if (channels.size === 0)
    warn(
      'No channel is configured: give slack-token, slack-webhook-url, teams-webhook-url, smtp-host, webhook-url, pagerduty-routing-key or grafana-url',
    );

  const text = (m: DeploymentMessage) => settings.template?.render(m) ?? headline(m);
  const result = await notify({
    message,
    channels,
    routing: settings.routing,
    thread,
    text,
    clock: systemClock,
    deadline,
    log,
  });
  for (const delivery of result.deliveries) {
    const line = `${delivery.channel}: ${delivery.outcome} — ${delivery.detail}`;
    if (delivery.outcome === 'failed') warn(`Notification to ${line}`);
    else log(line);
  }

  if (store !== undefined) {
    try {
      await store.save(
        result.thread,
        threadView(result.thread, result.message, result.deliveries, text(result.message), incident),
      );
    } catch (error) {
      warn(
        `The thread could not be kept on the commit (the next stage will post anew unless given the thread output): ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  const failed = result.deliveries.filter((d) => d.outcome === 'failed').map((d) => d.channel);
  setOutput('incident', incident?.result?.number ?? '');
  setOutput('incident-url', incident?.result?.url ?? '');
  setOutput('incident-severity', incident?.result?.severity ?? '');
  setOutput('thread', result.thread);
  setOutput('deliveries', result.deliveries);
  setOutput('delivered', result.deliveries.filter((d) => d.outcome !== 'failed').length);
  setOutput('failed', failed.join(','));
  setOutput('slack-ts', result.thread.slack?.ts ?? '');
  setOutput('slack-channel', result.thread.slack?.channel ?? '');
  setOutput('github-comment-id', result.thread.github?.commentId ?? '');
  setOutput('grafana-annotation-id', result.thread.grafana?.annotationId ?? '');
  setOutput('pagerduty-dedup-key', result.thread.pagerduty?.dedupKey ?? '');
  renderSummary(summary, result, text(result.message), incident);

  const failures = [...failed, ...(incident?.error === undefined ? [] : ['the incident'])];
  if (failures.length > 0 && settings.failOnError) {
    throw new RemoteError(
      `Notifications failed on ${failures.join(', ')} (fail-on-error is true): see the warnings above`,
    );
  }
}, summary);

/**
 * With incident: auto, a failed or rolled-back production stage opens the thread's incident issue
 * or updates it. Its failure is a warning, as a channel's is; undefined when no incident is due.
 */
async function raiseIncident(
  settings: Settings,
  octokit: GitHubClient | undefined,
  thread: ThreadState,
  given: DeploymentMessage,
): Promise<IncidentOutcome | undefined> {
  if (settings.incident.mode !== 'auto' || !isIncident(given.status, given.environment)) return undefined;
  if (octokit === undefined || settings.repo === undefined) {
    const error = 'No incident opened: github-token is empty (the incident needs "issues: write")';
    warn(error);
    return { error };
  }
  const repo = settings.repo;
  const staged = withStage(thread, given);
  const status = staged.message.status;
  if (status !== 'failed' && status !== 'rolled-back') return undefined;
  try {
    const login = await tokenLogin(octokit, 'github-actions[bot]');
    let record: IncidentRecord | undefined;
    const { deploymentId } = settings.incident;
    if (deploymentId !== undefined) {
      try {
        record = await readIncidentRecord(octokit, repo, deploymentId, {
          author: login,
          environment: given.environment,
          warn,
        });
      } catch (error) {
        warn(`The incident's timeline leaves deployment ${deploymentId} out: ${errorMessage(error)}`);
      }
    }
    const changeRequestNumber = settings.changeRequest ?? record?.payload.changeRequest ?? undefined;
    const result: IncidentResult = await openIncident({
      octokit,
      repo,
      login,
      message: { ...staged.message, status },
      thread: staged.thread,
      record,
      deploymentId,
      databaseRestored: settings.incident.databaseRestored,
      severityOverride: settings.incident.severity,
      labels: settings.incident.labels,
      changeRequest:
        changeRequestNumber === undefined
          ? undefined
          : {
              number: changeRequestNumber,
              url: `${settings.serverUrl}/${repo.owner}/${repo.repo}/issues/${changeRequestNumber}`,
            },
    });
    log(`incident: ${result.outcome} — ${result.detail} (${result.severity}: ${result.reason}) ${result.url}`);
    return { result };
  } catch (error) {
    // A RemoteError (GitHub's answer) is written to be shown; anything else may be a bug and carries its class.
    const detail = redact(
      error instanceof RemoteError
        ? error.message
        : `${error instanceof Error ? error.name : 'Error'}: ${errorMessage(error)}`,
    );
    warn(`The incident could not be opened or updated: ${detail}`);
    return { error: detail };
  }
}

function messageOf(settings: Settings, payload: Record<string, unknown>, now: string): DeploymentMessage {
  const given = settings.message;
  return {
    ...given,
    severity: given.severity ?? severityOf(given.status, given.environment, given.smokeVerdict),
    title: given.title ?? titleFromEvent(payload),
    at: now,
    startedAt: now,
    repository: settings.repo === undefined ? undefined : `${settings.repo.owner}/${settings.repo.repo}`,
    runUrl: settings.runUrl,
  };
}

/** The pull request's title, or the pushed commit's first line: what people call the change. */
function titleFromEvent(payload: Record<string, unknown>): string | undefined {
  const pull = payload.pull_request as { title?: unknown } | undefined;
  if (typeof pull?.title === 'string') return pull.title.slice(0, 300);
  const commit = payload.head_commit as { message?: unknown } | undefined;
  if (typeof commit?.message === 'string') return commit.message.split('\n')[0]!.slice(0, 300);
  return undefined;
}

function threadStore(settings: Settings, octokit: GitHubClient | undefined): ThreadStore | undefined {
  const { sha, environment } = settings.message;
  if (!settings.keepThread || octokit === undefined || settings.repo === undefined || sha === undefined) {
    return undefined;
  }
  return new CheckRunThreadStore({
    octokit,
    repo: settings.repo,
    sha,
    environment,
    app: 'github-actions',
    warn,
  });
}

/** The thread kept on the commit, else the one an earlier step passed; a store failure is a warning. */
async function loadThread(store: ThreadStore | undefined, settings: Settings): Promise<ThreadState | undefined> {
  if (store === undefined) return settings.thread;
  try {
    return (await store.load(settings.threadKey)) ?? settings.thread;
  } catch (error) {
    warn(
      `The thread kept on the commit could not be read (${error instanceof Error ? error.message : String(error)}): ${settings.thread ? 'using the thread input' : 'starting a new thread'}`,
    );
    return settings.thread;
  }
}

/**
 * The GitHub client for the thread and the comment, held to the step's deadline: no rate-limit
 * wait past it, and every request cut off when it comes (a notification never holds a deploy up).
 */
function boundedClient(token: string, deadline: number): GitHubClient {
  const octokit = createGitHubClient({ token, log: { warn }, deadline, clock: systemClock });
  octokit.hook.before('request', (options) => {
    const remaining = Math.max(1, deadline - systemClock.now());
    const signals = [AbortSignal.timeout(Math.min(30_000, remaining))];
    const given = (options.request as { signal?: AbortSignal } | undefined)?.signal;
    if (given !== undefined) signals.push(given);
    options.request = { ...options.request, signal: AbortSignal.any(signals) };
  });
  return octokit;
}
