import type { GitHubClient } from '@deploy-suite/github';
import { InputError } from '@deploy-suite/kit';
import {
  emailChannel,
  gitHubCommentChannel,
  grafanaChannel,
  pagerDutyChannel,
  slackChannel,
  slackWebhookChannel,
  teamsChannel,
  webhookChannel,
  type Channel,
  type ChannelName,
  type GitHubCommentTarget,
} from '@deploy-suite/notify';
import type { Settings } from './settings.ts';

/** The channels whose inputs were given, by name. */
export function buildChannels(
  settings: Settings,
  octokit: GitHubClient | undefined,
  payload: Record<string, unknown>,
  warn: (line: string) => void,
): Map<ChannelName, Channel> {
  const channels = new Map<ChannelName, Channel>();
  if (settings.slack) {
    channels.set(
      'slack',
      slackChannel({
        token: settings.slack.token,
        channel: settings.slack.channel,
        ...(settings.slack.apiUrl === undefined ? {} : { apiUrl: settings.slack.apiUrl }),
      }),
    );
  }
  if (settings.slackWebhook) channels.set('slack-webhook', slackWebhookChannel({ url: settings.slackWebhook }));
  if (settings.teams) channels.set('teams', teamsChannel({ url: settings.teams }));
  if (settings.email) {
    const { username, password, ca, ...email } = settings.email;
    channels.set(
      'email',
      emailChannel({
        ...email,
        ...(username === undefined ? {} : { username }),
        ...(password === undefined ? {} : { password }),
        ...(ca === undefined ? {} : { ca }),
      }),
    );
  }
  if (settings.webhook) {
    const { ca, ...webhook } = settings.webhook;
    channels.set('webhook', webhookChannel({ ...webhook, ...(ca === undefined ? {} : { ca }) }));
  }
  if (settings.pagerduty) channels.set('pagerduty', pagerDutyChannel(settings.pagerduty));
  if (settings.grafana) {
    const { dashboardUid, ca, ...grafana } = settings.grafana;
    channels.set(
      'grafana',
      grafanaChannel({
        ...grafana,
        ...(dashboardUid === undefined ? {} : { dashboardUid }),
        ...(ca === undefined ? {} : { ca }),
      }),
    );
  }
  const target = commentTarget(settings, payload);
  if (target !== undefined) {
    if (octokit === undefined || settings.repo === undefined) {
      warn('No GitHub comment: github-token is empty');
    } else {
      channels.set('github', gitHubCommentChannel({ octokit, repo: settings.repo, target }));
    }
  }
  return channels;
}

/**
 * Where the GitHub comment goes. auto: the pull request (the input, else the event's), else the
 * change request issue, else nowhere. Asked for explicitly, a missing target is an input error.
 */
function commentTarget(settings: Settings, payload: Record<string, unknown>): GitHubCommentTarget | undefined {
  const eventPull = (payload.pull_request as { number?: unknown } | undefined)?.number;
  const pull = settings.pullRequest ?? (typeof eventPull === 'number' && eventPull > 0 ? eventPull : undefined);
  switch (settings.commentOn) {
    case 'none':
      return undefined;
    case 'auto':
      if (pull !== undefined) return { kind: 'issue', number: pull };
      return settings.changeRequest === undefined ? undefined : { kind: 'issue', number: settings.changeRequest };
    case 'pull-request':
      if (pull === undefined) {
        throw new InputError(
          'pull-request',
          'is required for github-comment: pull-request when the event has no pull request',
          'pull-request: 42',
        );
      }
      return { kind: 'issue', number: pull };
    case 'issue':
      if (settings.changeRequest === undefined) {
        throw new InputError(
          'change-request',
          'is required for github-comment: issue',
          'change-request: ${{ steps.gate.outputs.change-request }}',
        );
      }
      return { kind: 'issue', number: settings.changeRequest };
    case 'commit':
      if (settings.message.sha === undefined)
        throw new InputError('sha', 'is required for github-comment: commit', 'sha: ${{ github.sha }}');
      return { kind: 'commit', sha: settings.message.sha };
  }
}
