import * as core from '@actions/core';
import { createGitHubClient, readEventContext, type GitHubClient } from '@deploy-suite/github';
import { Inputs, JobSummary, redact, RemoteError, runAction, setOutput, systemClock } from '@deploy-suite/kit';
import {
  CheckRunThreadStore,
  headline,
  newThread,
  notify,
  severityOf,
  unconfiguredChannels,
  type DeploymentMessage,
  type ThreadState,
  type ThreadStore,
} from '@deploy-suite/notify';
import { buildChannels } from './channels.ts';
import { readSettings, type Settings } from './settings.ts';
import { noticeWarning, renderSummary, threadView } from './summary.ts';

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
  const message = messageOf(settings, event.payload, now);

  const store = threadStore(settings, octokit);
  const thread = (await loadThread(store, settings)) ?? newThread(settings.threadKey, now);

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
        threadView(result.thread, result.message, result.deliveries, text(result.message)),
      );
    } catch (error) {
      warn(
        `The thread could not be kept on the commit (the next stage will post anew unless given the thread output): ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  const failed = result.deliveries.filter((d) => d.outcome === 'failed').map((d) => d.channel);
  setOutput('thread', result.thread);
  setOutput('deliveries', result.deliveries);
  setOutput('delivered', result.deliveries.filter((d) => d.outcome !== 'failed').length);
  setOutput('failed', failed.join(','));
  setOutput('slack-ts', result.thread.slack?.ts ?? '');
  setOutput('slack-channel', result.thread.slack?.channel ?? '');
  setOutput('github-comment-id', result.thread.github?.commentId ?? '');
  setOutput('grafana-annotation-id', result.thread.grafana?.annotationId ?? '');
  setOutput('pagerduty-dedup-key', result.thread.pagerduty?.dedupKey ?? '');
  renderSummary(summary, result, text(result.message));

  if (failed.length > 0 && settings.failOnError) {
    throw new RemoteError(
      `Notifications failed on ${failed.join(', ')} (fail-on-error is true): see the warnings above`,
    );
  }
}, summary);

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
