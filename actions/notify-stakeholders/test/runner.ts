import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FakeGitHub } from '../../../test/fakes/github.ts';
import { runBuiltAction, type ActionRun } from '../../../test/helpers/run-action.ts';

/**
 * Runs the bundle as the runner does in a pull request's workflow: the event file holds the pull
 * request given, the fake GitHub answers, and the workspace is a folder of its own.
 */
export function runOnPullRequest(
  github: FakeGitHub,
  target: { repository: string; sha: string; pullRequest: Record<string, unknown> },
  inputs: Record<string, string>,
  env: Record<string, string> = {},
): Promise<ActionRun> {
  const folder = mkdtempSync(join(tmpdir(), 'notify-event-'));
  const eventPath = join(folder, 'event.json');
  writeFileSync(eventPath, JSON.stringify({ pull_request: target.pullRequest }));
  return runBuiltAction('notify-stakeholders', inputs, {
    env: {
      GITHUB_API_URL: github.url,
      GITHUB_REPOSITORY: target.repository,
      GITHUB_EVENT_PATH: eventPath,
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_SHA: target.sha,
      GITHUB_WORKSPACE: folder,
      ...env,
    },
  });
}
