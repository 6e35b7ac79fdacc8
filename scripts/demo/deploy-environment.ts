// One environment's deployment, with the wiring of .github/workflows/deploy-environment.yml:
// prepare (notify started, verify-checklist, migrate plan, live colour) → approve (approval-gate,
// notify approved) → deploy (db-backup, notify, migrate expand, notify, idle colour, the deploy
// command, smoke-test of the idle colour, blue-green-switch, notify, the bake with the metric
// check, notify, migrate contract; on failure after the switch: rollback and notify) → finish
// (notify the outcome, which opens the incident record for a failed production deployment;
// approval-gate records the outcome on the change request).
import type { ActionRun } from '../../test/helpers/run-action.ts';
import { Job, StepFailed, type RunContext, type StepRecord } from './steps.ts';
import type { DemoEnvironment, DemoWorld } from './world.ts';

export interface Release {
  number: number;
  version: string;
  sha: string;
  digest: string;
  faulty: boolean;
}

export interface EnvironmentResult {
  environment: string;
  outcome: 'succeeded' | 'rolled-back' | 'failed' | 'not approved' | 'blocked';
  liveColour: string;
  backupId: string;
  deploymentId: string;
  changeRequestUrl: string;
  incidentUrl: string;
  incidentSeverity: string;
  githubRequests: number;
  ms: number;
}

const ERROR_RATE = (environment: string) =>
  `sum(rate(http_requests_total{environment="${environment}",code=~"5.."}[$window])) / sum(rate(http_requests_total{environment="${environment}"}[$window]))`;

export async function deployEnvironment(
  world: DemoWorld,
  stage: DemoEnvironment,
  release: Release,
  context: RunContext,
  records: StepRecord[],
  options: { changeType: 'standard' | 'normal'; approvers: string[]; weights: string },
): Promise<EnvironmentResult> {
  const started = performance.now();
  const requestsBefore = world.github.requests.length;
  const environment = stage.name;
  const common = {
    environment,
    service: 'shop',
    version: `${release.version} (${release.digest.slice(0, 19)}…)`,
    sha: release.sha,
    'change-type': options.changeType,
  };
  const notifyChannels = {
    'github-token': world.token,
    'slack-token': world.slack.token,
    'slack-channel': '#deploys',
    'slack-api-url': world.slack.apiUrl,
    'smtp-host': world.smtp.host,
    'smtp-port': String(world.smtp.port),
    'smtp-ca-file': world.smtpCaFile,
    'email-from': 'deploys@shop.example',
    'email-to': 'stakeholders@shop.example',
  };
  const router = {
    provider: 'nginx',
    environment,
    'github-token': world.token,
    'token-login': world.login,
    'nginx-include': stage.nginx.include,
    'nginx-conf': stage.nginx.conf,
    'nginx-servers': `blue: ${stage.colours.blue.address}\ngreen: ${stage.colours.green.address}`,
    'health-urls': `blue: ${stage.colours.blue.url}/health\ngreen: ${stage.colours.green.url}/health`,
    'health-timeout': '5s',
  };
  const database = { 'database-url': `postgres://postgres@127.0.0.1:5432/${stage.database}` };
  const result: EnvironmentResult = {
    environment,
    outcome: 'failed',
    liveColour: '',
    backupId: '',
    deploymentId: '',
    changeRequestUrl: '',
    incidentUrl: '',
    incidentSeverity: '',
    githubRequests: 0,
    ms: 0,
  };

  // ── prepare ──
  console.log(`\n ${environment} · prepare: checklist, migration plan, live colour`);
  const prepare = new Job(environment, 'prepare', context, records);
  try {
    await prepare.uses('notify-started', 'notify-stakeholders', {
      status: 'started',
      ...common,
      'github-comment': 'none',
      ...notifyChannels,
    });
    await prepare.uses(
      'checklist',
      'verify-checklist',
      {
        environment,
        'rules-file': '.github/deploy-checklist.yml',
        ref: release.sha,
        'artifact-digest': release.digest,
        'policy-file': '.github/change-policy.yml',
        'github-token': world.token,
      },
      {
        note: (run) => `verdict ${run.outputs.verdict}, evidence ${(run.outputs['evidence-hash'] ?? '').slice(0, 19)}…`,
      },
    );
    await prepare.uses(
      'plan',
      'migrate',
      { command: 'plan', folder: 'db/migrations', ...database },
      {
        note: (run) =>
          `pending: ${migrations(run.outputs.pending)}; plan ${(run.outputs['plan-hash'] ?? '').slice(0, 19)}…`,
      },
    );
    await prepare.uses(
      'status',
      'blue-green-switch',
      { command: 'status', ...router },
      {
        note: (run) => `live colour: ${run.outputs.live || 'none'}`,
      },
    );
  } catch (error) {
    if (!(error instanceof StepFailed)) throw error;
  }
  // ── approve (needs prepare) ──
  const approve = new Job(environment, 'approve', context, records);
  let gate: ActionRun | undefined;
  if (!prepare.failed) console.log(`\n ${environment} · approve: the change request`);
  if (!prepare.failed)
    try {
      const approver =
        options.approvers.length > 0 ? world.scriptApprovers(environment, release.sha, options.approvers) : undefined;
      gate = await approve.uses(
        'gate',
        'approval-gate',
        {
          command: 'gate',
          mode: 'wait',
          'github-token': world.token,
          'token-login': world.login,
          environment,
          'change-type': options.changeType,
          sha: release.sha,
          'artifact-digest': release.digest,
          'migration-plan-hash': prepare.out('plan', 'plan-hash'),
          'checklist-evidence': prepare.out('checklist', 'evidence'),
          'migration-pending': prepare.out('plan', 'pending'),
          'migration-lint': prepare.out('plan', 'lint-findings'),
          'previous-colour': prepare.out('status', 'live'),
          'previous-colour-running': String(prepare.out('status', 'live') !== ''),
          'rollback-plan':
            'Blue-green switch back to the previous colour (still running); a pre-deploy backup is taken before any migration.',
          'policy-file': '.github/change-policy.yml',
          approvers: 'alice, bob',
          timeout: '2m',
          'poll-interval': '1s',
        },
        {
          note: (run) =>
            `${run.outputs.decision}${run.outputs.approvers ? ` by ${run.outputs.approvers}` : ''}, risk ${run.outputs.risk}; change request #${run.outputs['change-request']}`,
        },
      );
      await approver;
      result.changeRequestUrl = approve.out('gate', 'change-request-url');
      await approve.uses('notify-approved', 'notify-stakeholders', {
        status: 'approved',
        ...common,
        approvers: approve.out('gate', 'approvers'),
        'plan-hash': prepare.out('plan', 'plan-hash'),
        'change-request': approve.out('gate', 'change-request'),
        'github-comment': 'issue',
        thread: prepare.out('notify-started', 'thread'),
        ...notifyChannels,
      });
    } catch (error) {
      if (!(error instanceof StepFailed)) throw error;
    }
  const approved = !approve.failed && gate?.outputs.approved === 'true';
  const changeRequest = approve.out('gate', 'change-request');
  const threadAfterApproval = approve.out('notify-approved', 'thread') || prepare.out('notify-started', 'thread');

  // ── deploy (only once approved) ──
  if (approved) console.log(`\n ${environment} · deploy: back up, migrate, deploy the idle colour, switch, bake`);
  const deploy = new Job(environment, 'deploy', context, records);
  const thread = () =>
    deploy.out('notify-verified', 'thread') ||
    deploy.out('notify-switched', 'thread') ||
    deploy.out('notify-migrated', 'thread') ||
    deploy.out('notify-backed-up', 'thread') ||
    threadAfterApproval;
  const notifyStage = (id: string, status: string, extra: Record<string, string> = {}) =>
    deploy.uses(id, 'notify-stakeholders', {
      status,
      ...common,
      'backup-id': deploy.out('backup', 'backup-id'),
      'change-request': changeRequest,
      'github-comment': 'issue',
      thread: thread(),
      ...notifyChannels,
      ...extra,
    });
  if (approved)
    try {
      await deploy.uses(
        'backup',
        'db-backup',
        {
          command: 'backup',
          ...database,
          store: stage.store,
          recipients: world.keys.recipient,
          'signing-key': world.keys.signingKey,
          labels: 'pre-deploy',
        },
        {
          note: (run) => `backup ${run.outputs['backup-id']}, ${run.outputs['size-bytes']} bytes, encrypted and signed`,
        },
      );
      await notifyStage('notify-backed-up', 'backed-up');
      await deploy.uses(
        'migrate-expand',
        'migrate',
        {
          command: 'apply',
          phase: 'expand',
          folder: 'db/migrations',
          ...database,
          'expected-plan-hash': prepare.out('plan', 'plan-hash'),
        },
        { note: (run) => `applied: ${migrations(run.outputs.applied)}; schema at V${run.outputs['current-version']}` },
      );
      await notifyStage('notify-migrated', 'migrated', {
        'plan-hash': prepare.out('plan', 'plan-hash'),
        details: `Expand-phase migrations applied: ${deploy.out('migrate-expand', 'applied') || 'none'}`,
      });
      await deploy.uses('status', 'blue-green-switch', { command: 'status', ...router });
      const idle = await deploy.run('idle', 'the idle colour', () => {
        const live = deploy.out('status', 'live');
        if (live !== prepare.out('status', 'live')) throw new Error(`the live colour changed since approval`);
        const weights = Object.values(JSON.parse(deploy.out('status', 'weights') || '{}') as Record<string, number>);
        if (weights.some((w) => w > 0 && w < 100))
          throw new Error('traffic is split between the colours: finish or roll back that switch first');
        const colour = live === 'blue' ? 'green' : 'blue';
        return { live, colour, 'base-url': stage.colours[colour].url };
      });
      await deploy.run('deploy', `deploy-command: shop ${release.version} onto ${idle.colour}`, () => {
        stage.colours[idle.colour as 'blue' | 'green'].release = {
          version: release.version,
          digest: release.digest,
          faulty: release.faulty,
        };
        return {};
      });
      await deploy.uses(
        'smoke-idle',
        'smoke-test',
        {
          'base-url': idle['base-url']!,
          'checks-file': '.github/smoke-checks.yml',
          'ready-timeout': '30s',
        },
        { note: (run) => `${run.outputs.verdict} on ${idle.colour}, bypassing the router` },
      );
      await deploy.uses(
        'switch',
        'blue-green-switch',
        {
          command: 'switch',
          to: idle.colour!,
          'auto-rollback': 'true',
          ...router,
          weights: options.weights,
          'step-pause': '2s',
          'live-url': `${stage.nginx.url}/`,
          'verify-header': 'x-colour',
          'verify-timeout': '10s',
          sha: release.sha,
          'artifact-digest': release.digest,
          service: 'shop',
          'change-request': changeRequest,
        },
        {
          note: (run) =>
            `live ${run.outputs.live} (was ${run.outputs.previous || 'none'}), steps ${options.weights}%; deployment record ${run.outputs['deployment-id']}`,
        },
      );
      result.deploymentId = deploy.out('switch', 'deployment-id');
      await notifyStage('notify-switched', 'switched', {
        'smoke-verdict': deploy.out('smoke-idle', 'verdict'),
        details: `Live: ${deploy.out('switch', 'live')} (was ${deploy.out('switch', 'previous')}); deployment ${result.deploymentId}`,
      });
      await deploy.uses(
        'bake',
        'smoke-test',
        {
          'base-url': `${stage.nginx.url}/`,
          'checks-file': '.github/smoke-checks.yml',
          'ready-timeout': '30s',
          'soak-duration': '12s',
          'soak-interval': '3s',
          'prometheus-url': world.prometheus.url.href,
          window: '10s',
          'on-no-data': 'fail',
          metrics: `- name: error rate\n  query: ${JSON.stringify(ERROR_RATE(environment))}\n  warn-above: 0.01\n  fail-above: 0.05\n`,
        },
        { note: (run) => `${run.outputs.verdict}: ${bakeFigure(run)}` },
      );
      await notifyStage('notify-verified', deploy.out('bake', 'verdict') === 'warn' ? 'warning' : 'verified', {
        'smoke-verdict': deploy.out('bake', 'verdict'),
      });
      await deploy.uses(
        'migrate-contract',
        'migrate',
        {
          command: 'apply',
          phase: 'contract',
          folder: 'db/migrations',
          ...database,
          'expected-plan-hash': prepare.out('plan', 'plan-hash'),
          'deployment-id': result.deploymentId,
          'github-token': world.token,
        },
        { note: (run) => `applied: ${migrations(run.outputs.applied)}; the record now says contract migrations ran` },
      );
    } catch (error) {
      if (!(error instanceof StepFailed)) throw error;
    }
  const deployResult = !approved ? 'skipped' : deploy.failed ? 'failure' : 'success';
  let outcome: EnvironmentResult['outcome'] =
    deployResult === 'success'
      ? 'succeeded'
      : deployResult === 'failure'
        ? 'failed'
        : prepare.failed
          ? 'blocked'
          : 'not approved';
  if (deploy.failed && deploy.outcomes.get('switch') === 'success' && deploy.out('switch', 'switched') === 'true') {
    console.log(`\n ${environment} · deploy failed after the switch: rolling back`);
    const rollback = await deploy.uses(
      'rollback',
      'blue-green-switch',
      {
        command: 'rollback',
        'deployment-id': result.deploymentId,
        ...router,
        'live-url': `${stage.nginx.url}/`,
        'verify-header': 'x-colour',
        'verify-timeout': '10s',
      },
      {
        allowFailure: true,
        note: (run) => `live ${run.outputs.live} again; rollback record ${run.outputs['deployment-id']}`,
      },
    );
    if (rollback.exitCode === 0) {
      outcome = 'rolled-back';
      result.deploymentId = rollback.outputs['deployment-id'] ?? result.deploymentId;
      await deploy.uses(
        'notify-rolled-back',
        'notify-stakeholders',
        {
          status: 'rolled-back',
          ...common,
          'backup-id': deploy.out('backup', 'backup-id'),
          'smoke-verdict': deploy.out('bake', 'verdict'),
          details: `Rolled back to ${rollback.outputs.live}; database restored: false`,
          // The incident opens as soon as traffic is back; the outcome below updates it.
          incident: 'auto',
          'deployment-id': result.deploymentId,
          'database-restored': 'false',
          'change-request': changeRequest,
          'github-comment': 'issue',
          thread: thread(),
          ...notifyChannels,
        },
        {
          allowFailure: true,
          note: (run) =>
            run.outputs['incident-url']
              ? `incident ${run.outputs['incident-severity']} opened: ${run.outputs['incident-url']}`
              : '',
        },
      );
    }
  }
  result.backupId = deploy.out('backup', 'backup-id');
  result.liveColour = deploy.out('rollback', 'live') || deploy.out('switch', 'live') || deploy.out('idle', 'live');

  // ── finish ──
  console.log(`\n ${environment} · finish: the outcome`);
  const finishJob = new Job(environment, 'finish', context, records);
  // As the workflow's finish job: only a deploy job that ran and failed is an incident; a
  // deployment that never started is told as failed, without one.
  const status = deployResult === 'success' ? 'succeeded' : outcome === 'rolled-back' ? 'rolled-back' : 'failed';
  const incident = deployResult === 'failure' ? 'auto' : 'never';
  const told = await finishJob.uses(
    'notify-outcome',
    'notify-stakeholders',
    {
      status,
      ...common,
      approvers: approve.out('gate', 'approvers'),
      'backup-id': result.backupId,
      'plan-hash': prepare.out('plan', 'plan-hash'),
      'smoke-verdict': deploy.out('bake', 'verdict') || deploy.out('smoke-idle', 'verdict'),
      details: `Checklist ${prepare.out('checklist', 'verdict')}, approval ${approve.out('gate', 'decision')}, deploy ${outcome}; live colour ${result.liveColour}`,
      'change-request': changeRequest,
      'github-comment': 'issue',
      thread: deploy.out('notify-rolled-back', 'thread') || thread(),
      incident,
      'deployment-id': result.deploymentId,
      'database-restored': 'false',
      ...notifyChannels,
    },
    {
      allowFailure: true,
      note: (run) =>
        `${status}${run.outputs['incident-url'] ? `; incident ${run.outputs['incident-severity']} opened: ${run.outputs['incident-url']}` : ''}`,
    },
  );
  result.incidentUrl = told.outputs['incident-url'] || deploy.out('notify-rolled-back', 'incident-url');
  result.incidentSeverity = told.outputs['incident-severity'] || deploy.out('notify-rolled-back', 'incident-severity');
  if (deployResult !== 'skipped' && changeRequest !== '')
    await finishJob.uses(
      'record-outcome',
      'approval-gate',
      {
        command: 'record-outcome',
        'github-token': world.token,
        'token-login': world.login,
        'change-request': changeRequest,
        outcome: status,
        'outcome-detail': `Deploy job: ${outcome}; live colour ${result.liveColour}`,
      },
      { allowFailure: true, note: () => `change request #${changeRequest} closed as ${status}` },
    );
  result.githubRequests = world.github.requests.length - requestsBefore;
  result.ms = performance.now() - started;
  return { ...result, outcome };
}

/** The bake's measured error rate, read from smoke-test's report. */
function bakeFigure(run: ActionRun): string {
  try {
    const report = JSON.parse(run.outputs.report ?? '{}') as { metrics?: { name: string; value?: number | null }[] };
    const rate = report.metrics?.find((m) => m.name === 'error rate')?.value;
    return typeof rate === 'number'
      ? `error rate ${(rate * 100).toFixed(2)}% (warn above 1%, fail above 5%)`
      : 'no error rate';
  } catch {
    return 'no report';
  }
}

/** migrate's `pending`/`applied` output (a JSON list) in a few words. */
function migrations(output: string | undefined): string {
  try {
    const list = JSON.parse(output || '[]') as { version: string; description: string; phase?: string }[];
    if (list.length === 0) return 'none';
    return list.map((m) => `V${m.version} ${m.description}${m.phase ? ` (${m.phase})` : ''}`).join(', ');
  } catch {
    return output ?? '';
  }
}
