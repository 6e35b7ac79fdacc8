import { execFileSync } from 'node:child_process';
import * as core from '@actions/core';
import {
  changedFilesOf,
  findPullRequest,
  readWaivers,
  resolveSha,
  runChecklist,
  type ChecklistContext,
} from '@deploy-suite/checklist';
import { compareCommits, createGitHubClient, readEventContext } from '@deploy-suite/github';
import { GateClosedError, Inputs, JobSummary, redact, runAction, setOutput, systemClock } from '@deploy-suite/kit';
import { readSettings } from './settings.ts';
import { renderSummary } from './summary.ts';

const summary = new JobSummary();
const log = (message: string) => core.info(redact(message));

await runAction(async () => {
  const settings = readSettings(new Inputs());
  const event = readEventContext();
  const octokit = createGitHubClient({ token: settings.token, log: { warn: (m) => core.warning(redact(m)) } });
  const checklistEvent = {
    eventName: event.eventName,
    payload: event.payload,
    ...(process.env.GITHUB_SHA ? { sha: process.env.GITHUB_SHA } : {}),
  };
  const sha = await resolveSha(octokit, settings.repo, checklistEvent, settings.ref);
  const pull = await findPullRequest(octokit, settings.repo, checklistEvent, sha);
  log(
    `Checking ${sha}${pull ? ` (pull request #${pull.number})` : ' (no pull request holds it)'} for ${settings.environment}`,
  );

  let files: Promise<string[]> | undefined;
  const context: ChecklistContext = {
    octokit,
    repo: settings.repo,
    sha,
    environment: settings.environment,
    artifactDigest: settings.artifactDigest,
    pull,
    changedFiles: () => (files ??= changedFiles()),
    workspace: settings.workspace,
    workspaceSha: checkedOutAt(settings.workspace),
    clock: systemClock,
    log,
  };
  /** The PR's files; for a push without one, what the push changed (its before...after comparison). */
  async function changedFiles(): Promise<string[]> {
    if (pull !== undefined) return changedFilesOf(octokit, settings.repo, pull);
    const before = (event.payload as { before?: unknown }).before;
    if (typeof before === 'string' && /^[0-9a-f]{40}$/.test(before) && !/^0+$/.test(before)) {
      return (await compareCommits(octokit, settings.repo, before, sha)).files.map((file) => file.filename);
    }
    throw new Error('no pull request holds this commit and the event names no earlier commit to compare with');
  }

  // Rules read from the checkout are the change's own: a change that edits them would judge itself.
  if (pull !== undefined && settings.ruleFiles.length > 0) {
    const edited = (await context.changedFiles()).filter((file) => settings.ruleFiles.includes(file));
    if (edited.length > 0) {
      throw new GateClosedError(
        `Pull request #${pull.number} changes ${edited.join(', ')}, the checklist's own rules: a change cannot set the checklist it is judged by. Merge the rules change on its own first, or pass the rules through the rules input from the workflow.`,
      );
    }
  }
  const waivers = await readWaivers(octokit, settings.repo, pull, settings.waiverRoles, new Date(systemClock.now()));
  const outcome = await runChecklist(settings.items, context, waivers);
  setOutput('verdict', outcome.evidence.verdict);
  setOutput('evidence', outcome.evidence);
  setOutput('evidence-hash', outcome.evidenceHash);
  setOutput('sha', sha);
  setOutput('pull-request', pull?.number ?? '');
  renderSummary(summary, outcome, systemClock.now());
  for (const item of outcome.evidence.items) {
    log(`${item.outcome.toUpperCase()}  ${item.name}  [${item.code}] ${item.reason}`);
  }
  const failed = outcome.evidence.items.filter((item) => item.required && item.outcome === 'fail');
  if (failed.length > 0) {
    throw new GateClosedError(
      `Checklist failed for ${sha.slice(0, 12)}: ${failed.map((item) => `${item.name} (${item.code})`).join(', ')}`,
    );
  }
}, summary);

/** The commit a git checkout is at, or undefined when the workspace is not one (or git is missing). */
function checkedOutAt(workspace: string): string | undefined {
  try {
    const head = execFileSync('git', ['-C', workspace, 'rev-parse', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    return /^[0-9a-f]{40}$/.test(head) ? head : undefined;
  } catch {
    return undefined;
  }
}
