import { isAbsolute, resolve } from 'node:path';
import { InputError, Inputs, readRunContext } from '@deploy-suite/kit';
import { parseVersion, readConnectionInputs, type MigrateOptions, type Phase } from '@deploy-suite/db/migrate';

export const COMMANDS = ['plan', 'apply', 'validate', 'undo', 'test', 'repair', 'baseline'] as const;
export type Command = (typeof COMMANDS)[number];

export interface Settings {
  command: Command;
  options: MigrateOptions;
  failOnLint: 'error' | 'warning' | 'never';
  repairVersion: string | undefined;
  /** After contract migrations ran: the deployment record to mark, so a rollback past them is refused. */
  markDeployment: { id: number; token: string } | undefined;
}

export function readSettings(inputs: Inputs): Settings {
  inputs.secret('database-url');
  inputs.secret('password');
  const command = inputs.oneOf('command', COMMANDS, 'plan');
  if (inputs.optional('command') === undefined)
    throw new InputError('command', `is required: one of ${COMMANDS.join(', ')}`, 'command: apply');
  const folderText = inputs.required('folder', { example: 'folder: db/migrations' });
  const folder = isAbsolute(folderText)
    ? folderText
    : resolve(process.env.GITHUB_WORKSPACE ?? process.cwd(), folderText);
  const target = inputs.optional('target-version');
  if (target !== undefined && parseVersion(target) === undefined) {
    throw new InputError(
      'target-version',
      `must be a version such as 3 or 1.10, got "${target}"`,
      'target-version: 1.10',
    );
  }
  const phaseText = inputs.optional('phase');
  const phase = phaseText === undefined ? undefined : inputs.oneOf<Phase>('phase', ['expand', 'contract'], 'expand');
  const repairVersion = inputs.optional('repair-version');
  if (command === 'baseline' && target === undefined) {
    throw new InputError(
      'target-version',
      'is required for baseline: the version the database is already at',
      'target-version: 12',
    );
  }
  if (repairVersion !== undefined && parseVersion(repairVersion) === undefined) {
    throw new InputError(
      'repair-version',
      `must be a version such as 3 or 1.10, got "${repairVersion}"`,
      'repair-version: 3',
    );
  }
  if (command === 'repair' && repairVersion === undefined) {
    throw new InputError(
      'repair-version',
      'is required for repair: the version whose failed record to clear',
      'repair-version: 3',
    );
  }
  const context = readRunContext();
  const lockWaitMs = inputs.duration('lock-wait-timeout', '5m', { minMs: 0 });
  const lockTimeoutMs = inputs.duration('lock-timeout', '10s', { minMs: 0 });
  const statementTimeoutMs = inputs.duration('statement-timeout', '30m', { minMs: 0 });
  const expectedPlanHash = inputs.optional('expected-plan-hash');
  if (expectedPlanHash !== undefined && !/^[0-9a-f]{64}$/.test(expectedPlanHash)) {
    throw new InputError(
      'expected-plan-hash',
      'must be the 64-character plan-hash output of a plan',
      'expected-plan-hash: ${{ needs.plan.outputs.plan-hash }}',
    );
  }
  const deploymentId = inputs.optional('deployment-id');
  if (deploymentId !== undefined && !/^[1-9]\d{0,15}$/.test(deploymentId)) {
    throw new InputError(
      'deployment-id',
      `must be a deployment id (a number), got "${deploymentId}"`,
      'deployment-id: ${{ steps.switch.outputs.deployment-id }}',
    );
  }
  const token = inputs.secret('github-token');
  if (deploymentId !== undefined && token === undefined) {
    throw new InputError('github-token', 'is required with deployment-id', 'github-token: ${{ github.token }}');
  }
  return {
    command,
    markDeployment: deploymentId === undefined || token === undefined ? undefined : { id: Number(deploymentId), token },
    failOnLint: inputs.oneOf('fail-on-lint', ['error', 'warning', 'never'] as const, 'error'),
    repairVersion,
    options: {
      connection: readConnectionInputs(inputs),
      folder,
      ...(target === undefined ? {} : { target }),
      ...(phase === undefined ? {} : { phase }),
      ...(expectedPlanHash === undefined ? {} : { expectedPlanHash }),
      acceptCosmeticChanges: inputs.boolean('accept-cosmetic-changes', false),
      allowOutOfOrder: inputs.boolean('allow-out-of-order', false),
      lockWaitMs,
      lockTimeoutMs,
      statementTimeoutMs,
      schema: inputs.string('schema', 'public'),
      appliedBy: [context.runUrl || 'a run outside GitHub Actions', context.actor && `by ${context.actor}`]
        .filter(Boolean)
        .join(' '),
    },
  };
}
