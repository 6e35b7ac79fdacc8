import * as core from '@actions/core';
import { createGitHubClient, tokenLogin } from '@deploy-suite/github';
import { Inputs, JobSummary, redact, runAction, setOutput, systemClock } from '@deploy-suite/kit';
import { describeWeights } from '@deploy-suite/router';
import {
  rollBack,
  status,
  switchTo,
  SwitchFailedError,
  type SwitchContext,
  type SwitchResult,
} from '@deploy-suite/switch';
import { loadProvider } from './providers.ts';
import { readSettings } from './settings.ts';
import { renderStatusSummary, renderSwitchSummary } from './summary.ts';

const summary = new JobSummary();
const log = (message: string) => core.info(redact(message));

await runAction(async () => {
  const settings = readSettings(new Inputs());
  const { provider, cleanUp } = await loadProvider(settings.provider, settings.inputs, settings.colours);
  try {
    const octokit = createGitHubClient({
      token: settings.token,
      // A switch writes four or five times in all; the default 1 s pacing between writes (meant for
      // bulk writers) would hold traffic back more than a second before the router moves.
      minWriteIntervalMs: 250,
      log: { warn: (message) => core.warning(redact(message)) },
    });
    const context: SwitchContext = {
      provider,
      octokit,
      repo: settings.repo,
      environment: settings.environment,
      recordAuthor: await tokenLogin(octokit, settings.recordAuthor),
      health: settings.health,
      healthTimeoutMs: settings.healthTimeoutMs,
      verify: settings.verify,
      verifyTimeoutMs: settings.verifyTimeoutMs,
      verifyConsecutive: 3,
      clock: systemClock,
      runUrl: settings.runUrl,
      liveUrl: settings.liveUrl.href,
      log,
    };
    if (settings.command === 'status') {
      const result = await status(context, settings.rollbackWindowMs);
      setOutput('live', result.state.live ?? '');
      setOutput('weights', result.state.weights);
      setOutput('rollback-window', result.rollbackWindow);
      setOutput('deployment-id', result.record?.id ?? '');
      setOutput('previous', result.record?.payload.previousColour ?? '');
      setOutput('switched', false);
      renderStatusSummary(summary, result);
      log(`Live: ${result.state.detail}; rollback window ${result.rollbackWindow}: ${result.why}`);
      return;
    }
    if (settings.command === 'switch' && !provider.supportsWeights && settings.steps.length > 1) {
      core.warning(
        `The ${provider.name} router cannot split traffic: switching in one step instead of ${settings.steps.join(', ')}`,
      );
    }
    let result: SwitchResult;
    try {
      result =
        settings.command === 'switch'
          ? await switchTo(context, {
              to: settings.to!,
              steps: provider.supportsWeights ? settings.steps : [100],
              stepPauseMs: settings.stepPauseMs,
              autoRollback: settings.autoRollback,
              sha: settings.sha,
              artifactDigest: settings.artifactDigest,
              service: settings.service,
              changeRequest: settings.changeRequest,
              lockStaleMs: 30 * 60_000,
            })
          : await rollBack(
              context,
              { deploymentId: settings.deploymentId, force: settings.force, lockStaleMs: 30 * 60_000 },
              settings.sha,
            );
    } catch (error) {
      if (error instanceof SwitchFailedError) {
        publish(settings.command, error.result);
        renderSwitchSummary(summary, settings.command, error.result, error.message);
      }
      throw error;
    }
    publish(settings.command, result);
    renderSwitchSummary(summary, settings.command, result);
    log(
      result.switched
        ? `Live: ${describeWeights(result.after.weights)} (${result.after.detail})`
        : result.notes.join('; '),
    );
  } finally {
    cleanUp();
  }
}, summary);

function publish(command: string, result: Partial<SwitchResult>): void {
  setOutput('live', result.after?.live ?? result.live ?? '');
  setOutput('previous', result.previous ?? '');
  setOutput('switched', result.switched ?? false);
  setOutput('deployment-id', result.deploymentId ?? '');
  if (result.after !== undefined) setOutput('weights', result.after.weights);
  // Right after a switch its rollback is open; after a rollback, undoing it again is refused.
  setOutput('rollback-window', result.switched && command === 'switch' ? 'open' : 'closed');
}
