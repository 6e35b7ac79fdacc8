import {
  OUTCOMES,
  parseApprovers,
  parseKeywords,
  type ApproverEntry,
  type Keywords,
  type Outcome,
  type WaitMode,
} from '@deploy-suite/approval';
import { readEventContext, type EventContext, type Repo } from '@deploy-suite/github';
import { InputError, Inputs, readRunContext } from '@deploy-suite/kit';
import {
  parseChangeType,
  parsePolicy,
  readPolicyInput,
  type ChangeType,
  type Policy,
  type RollbackPlan,
} from '@deploy-suite/policy';

export const COMMANDS = ['gate', 'decide', 'record-outcome'] as const;
export type Command = (typeof COMMANDS)[number];

/** The longest wait: under a GitHub-hosted job's 6-hour limit, with room for the steps around it. */
export const MAX_TIMEOUT = '5h50m';

interface Common {
  token: string;
  /** The login to expect on the gate's own issues when the token cannot say (an installation token). */
  appBot: string;
  repo: Repo;
  runUrl: string;
}

export interface GateSettings extends Common {
  command: 'gate';
  mode: WaitMode;
  environment: string;
  changeType: ChangeType;
  changeKey: string;
  sha: string;
  artifactDigest: string | undefined;
  migrationPlanHash: string | undefined;
  checklistEvidence: unknown;
  baseSha: string | undefined;
  migrations: { pending: number; errors: number; warnings: number } | undefined;
  rollback: RollbackPlan & { text?: string | undefined };
  policy: Policy;
  policyGiven: boolean;
  approvers: ApproverEntry[];
  minimumApprovals: number | undefined;
  keywords: Keywords;
  excluded: { login: string | undefined; why: string }[];
  timeoutMs: number;
  pollIntervalMs: number;
}

export interface DecideSettings extends Common {
  command: 'decide';
  approvers: ApproverEntry[];
  minimumApprovals: number | undefined;
  keywords: Keywords;
  policy: Policy;
  /** The change request from the change-request input (a manual run), or undefined to take the event's. */
  changeRequest: number | undefined;
  continuation: { workflow: string; ref: string } | undefined;
}

export interface OutcomeSettings extends Common {
  command: 'record-outcome';
  changeRequest: number;
  outcome: Outcome;
  detail: string | undefined;
}

export type Settings = GateSettings | DecideSettings | OutcomeSettings;

const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
// The OCI digest grammar: algorithm ":" encoded.
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const PLAN_HASH = /^(sha256:)?[0-9a-f]{64}$/;
const WORKFLOW = /^(?:[\w.-]+\.ya?ml|\d+)$/;

/** Reads and validates every input once; any problem is an InputError naming the input. */
export function readSettings(inputs: Inputs, event: EventContext = readEventContext()): Settings {
  const token = inputs.secret('github-token', {
    required: true,
    example: 'github-token: ${{ secrets.APPROVAL_TOKEN }}',
  })!;
  const command = inputs.oneOf('command', COMMANDS, 'gate');
  const context = readRunContext();
  const [owner, name] = context.repository.split('/');
  if (!owner || !name) throw new Error('GITHUB_REPOSITORY is not set: run this action in a GitHub Actions job');
  const common: Common = {
    token,
    appBot: inputs.string('token-login', 'github-actions[bot]'),
    repo: { owner, repo: name },
    runUrl: context.runUrl,
  };
  if (command === 'record-outcome') {
    return {
      ...common,
      command,
      changeRequest: issueNumber(inputs, true)!,
      outcome: requiredOneOf(inputs, 'outcome', OUTCOMES, 'outcome: succeeded'),
      detail: inputs.optional('outcome-detail'),
    };
  }
  const { policy, given: policyGiven } = readPolicy(inputs);
  const keywords = parseKeywords({
    approve: inputs.optional('approve-keywords'),
    deny: inputs.optional('deny-keywords'),
  });
  if (command === 'decide') {
    const approvers = readApprovers(inputs, true);
    const workflow = inputs.optional('continue-workflow');
    if (workflow !== undefined && !WORKFLOW.test(workflow)) {
      throw new InputError(
        'continue-workflow',
        `must be a workflow file name in .github/workflows (or its id), got "${workflow}"`,
        'continue-workflow: deploy.yml',
      );
    }
    const repository = event.payload.repository as { default_branch?: unknown } | undefined;
    const defaultBranch = typeof repository?.default_branch === 'string' ? repository.default_branch : 'main';
    const ref = inputs.optional('continue-ref') ?? defaultBranch;
    return {
      ...common,
      command,
      approvers,
      minimumApprovals: readMinimum(inputs, approvers),
      keywords,
      policy,
      changeRequest: issueNumber(inputs, false),
      continuation: workflow === undefined ? undefined : { workflow, ref },
    };
  }

  const mode = inputs.oneOf<WaitMode>('mode', ['wait', 'decide', 'environment'], 'wait');
  const environment = inputs.required('environment', { example: 'environment: production' });
  if (environment.length > 100 || /[\r\n]/.test(environment)) {
    throw new InputError('environment', 'must be one line of at most 100 characters', 'environment: production');
  }
  const changeType = parseChangeType(inputs.string('change-type', 'normal'));
  const sha = (inputs.optional('sha') ?? context.sha).toLowerCase();
  if (!SHA.test(sha)) {
    throw new InputError('sha', `must be a full commit SHA (40 hex digits), got "${sha}"`, 'sha: ${{ github.sha }}');
  }
  const changeKey = inputs.optional('change-key') ?? `${environment}@${sha}`;
  if (changeKey.length > 200 || /[\r\n]/.test(changeKey)) {
    throw new InputError(
      'change-key',
      'must be one line of at most 200 characters',
      'change-key: production@release-42',
    );
  }
  const artifactDigest = matching(
    inputs,
    'artifact-digest',
    DIGEST,
    'an OCI digest',
    `artifact-digest: sha256:${'0'.repeat(64)}`,
  );
  const migrationPlanHash = matching(
    inputs,
    'migration-plan-hash',
    PLAN_HASH,
    "migrate's plan-hash output (64 hex digits)",
    'migration-plan-hash: ${{ steps.plan.outputs.plan-hash }}',
  );
  const baseSha = matching(inputs, 'base-sha', SHA, 'a full commit SHA', `base-sha: ${'0'.repeat(40)}`)?.toLowerCase();
  const approvers = readApprovers(inputs, changeType === 'normal' && mode !== 'environment');
  const timeoutMs = inputs.duration('timeout', '1h', { minMs: 1000, maxMs: 5 * 3_600_000 + 50 * 60_000 });
  const author = inputs.optional('change-author') ?? changeAuthorOf(event.payload);

  return {
    ...common,
    command,
    mode,
    environment,
    changeType,
    changeKey,
    sha,
    artifactDigest,
    migrationPlanHash,
    checklistEvidence: json(
      inputs,
      'checklist-evidence',
      'checklist-evidence: ${{ steps.checklist.outputs.evidence }}',
    ),
    baseSha,
    migrations: readMigrations(inputs),
    rollback: {
      backupId: inputs.optional('rollback-backup-id'),
      backupVerified: inputs.boolean('rollback-backup-verified', false),
      previousColour: inputs.optional('previous-colour'),
      previousColourRunning: inputs.boolean('previous-colour-running', false),
      text: inputs.optional('rollback-plan'),
    },
    policy,
    policyGiven,
    approvers,
    minimumApprovals: readMinimum(inputs, approvers),
    keywords,
    excluded: [
      { login: author, why: 'the change author' },
      { login: event.actor, why: 'github.actor' },
      { login: event.triggeringActor, why: 'github.triggering_actor' },
    ],
    timeoutMs,
    pollIntervalMs: inputs.duration('poll-interval', '10s', { minMs: 1000, maxMs: 120_000 }),
  };
}

function readPolicy(inputs: Inputs): { policy: Policy; given: boolean } {
  const given = readPolicyInput(inputs, process.env.GITHUB_WORKSPACE ?? process.cwd());
  // Without a policy: the operations policy's defaults (one monthly window 02:00-04:00, 7 days' notice) in UTC.
  let policy = given ?? parsePolicy('time-zone: UTC', 'policy');
  const outside = inputs.optional('outside-window');
  if (outside !== undefined) {
    const value = inputs.oneOf('outside-window', ['fail', 'wait'] as const, 'fail');
    policy = { ...policy, outsideWindow: { standard: value, normal: value } };
  }
  return { policy, given: given !== undefined };
}

function readApprovers(inputs: Inputs, required: boolean): ApproverEntry[] {
  const text = inputs.optional('approvers');
  if (text === undefined) {
    if (required) {
      throw new InputError(
        'approvers',
        'is required: a normal change needs at least one approver (a user or org/team)',
        'approvers: alice, bob, acme/platform-leads',
      );
    }
    return [];
  }
  return parseApprovers(text);
}

function readMinimum(inputs: Inputs, approvers: ApproverEntry[]): number | undefined {
  if (inputs.optional('minimum-approvals') === undefined) return undefined;
  const minimum = inputs.integer('minimum-approvals', 1, { min: 1, max: 100 });
  // With teams, the count is known only once they are resolved; the gate checks it then.
  if (approvers.length > 0 && approvers.every((entry) => entry.kind === 'user') && minimum > approvers.length) {
    throw new InputError(
      'minimum-approvals',
      `is ${minimum}, more than the ${approvers.length} approver(s) listed, so no approval could ever pass`,
      `minimum-approvals: ${approvers.length}`,
    );
  }
  return minimum;
}

function issueNumber(inputs: Inputs, required: boolean): number | undefined {
  const text = required
    ? inputs.required('change-request', { example: 'change-request: ${{ steps.gate.outputs.change-request }}' })
    : inputs.optional('change-request');
  if (text === undefined) return undefined;
  if (!/^[1-9]\d{0,9}$/.test(text)) {
    throw new InputError('change-request', `must be an issue number, got "${text}"`, 'change-request: 42');
  }
  return Number(text);
}

function requiredOneOf<T extends string>(inputs: Inputs, name: string, allowed: readonly T[], example: string): T {
  inputs.required(name, { example: `${example} (one of ${allowed.join(', ')})` });
  return inputs.oneOf(name, allowed, allowed[0]!);
}

function matching(inputs: Inputs, name: string, pattern: RegExp, what: string, example: string): string | undefined {
  const value = inputs.optional(name);
  if (value !== undefined && !pattern.test(value)) {
    throw new InputError(name, `must be ${what}, got "${value.slice(0, 100)}"`, example);
  }
  return value;
}

function json(inputs: Inputs, name: string, example: string): unknown {
  const text = inputs.optional(name);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new InputError(name, 'is not JSON: pass the evidence output as it is', example);
  }
}

/** Counts from migrate's outputs: `pending` (a JSON list) and `lint-findings` (a JSON list with severities). */
function readMigrations(inputs: Inputs): GateSettings['migrations'] {
  const pending = json(inputs, 'migration-pending', 'migration-pending: ${{ steps.plan.outputs.pending }}');
  const lint = json(inputs, 'migration-lint', 'migration-lint: ${{ steps.plan.outputs.lint-findings }}');
  if (pending === undefined && lint === undefined) return undefined;
  if (pending !== undefined && !Array.isArray(pending)) {
    throw new InputError(
      'migration-pending',
      "must be migrate's pending output: a JSON list",
      'migration-pending: ${{ steps.plan.outputs.pending }}',
    );
  }
  if (lint !== undefined && !Array.isArray(lint)) {
    throw new InputError(
      'migration-lint',
      "must be migrate's lint-findings output: a JSON list",
      'migration-lint: ${{ steps.plan.outputs.lint-findings }}',
    );
  }
  const severity = (finding: unknown) => (finding as { severity?: unknown } | null)?.severity;
  const findings = (lint ?? []) as unknown[];
  return {
    // Lint findings without a pending list still mean migrations are present.
    pending: pending === undefined ? findings.length : pending.length,
    errors: findings.filter((finding) => severity(finding) !== 'warning').length,
    warnings: findings.filter((finding) => severity(finding) === 'warning').length,
  };
}

/** Who wrote the change, as the event tells: the pull request's author, or the pusher of the commit. */
function changeAuthorOf(payload: Record<string, unknown>): string | undefined {
  const pull = payload.pull_request as { user?: { login?: unknown } } | undefined;
  if (typeof pull?.user?.login === 'string') return pull.user.login;
  const head = payload.head_commit as { author?: { username?: unknown } } | undefined;
  if (typeof head?.author?.username === 'string') return head.author.username;
  return undefined;
}
