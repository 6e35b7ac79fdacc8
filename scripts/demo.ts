// The suite's main job on this machine: the whole development → staging → production pipeline,
// each action's built bundle run the way the runner runs it, in the order and with the wiring of
// .github/workflows/deploy-environment.yml, against real local parts (PostgreSQL, nginx in front
// of two colours of a sample service, Prometheus, an SMTP server) and loopback fakes of GitHub and
// Slack. One build is promoted through every environment by its digest. Run again, it deploys the
// next release to the other colour; `--fail-smoke` ships a release whose fault production traffic
// finds: the bake fails, traffic goes back, the incident record opens, everyone is told.
//
//   ./run demo [--fail-smoke] [--reset]
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pgQuery } from '../test/helpers/databases.ts';
import { repoRoot, runBuiltAction } from '../test/helpers/run-action.ts';
import { deployEnvironment, type EnvironmentResult, type Release } from './demo/deploy-environment.ts';
import { writeRepository } from './demo/repository.ts';
import { seconds, type RunContext, type StepRecord } from './demo/steps.ts';
import { DemoWorld, ENVIRONMENTS, hasLabel, missingParts, OWNER, REPO } from './demo/world.ts';

const args = process.argv.slice(2);
const unknown = args.filter((arg) => arg !== '--fail-smoke' && arg !== '--reset');
if (unknown.length > 0) {
  console.error(`unknown argument ${unknown.join(' ')}; usage: ./run demo [--fail-smoke] [--reset]`);
  process.exit(2);
}
const failSmoke = args.includes('--fail-smoke');
const stateDir = process.env.DEPLOY_SUITE_DEMO_STATE ?? join(repoRoot, '.demo');

const missing = missingParts();
try {
  await pgQuery('postgres', 'SELECT 1');
} catch (error) {
  missing.push(
    `PostgreSQL on 127.0.0.1:5432 accepting postgres without a password (${error instanceof Error ? error.message : String(error)})`,
  );
}
if (missing.length > 0) {
  console.error(`The demo needs these local parts, which are missing:\n${missing.map((m) => `  - ${m}`).join('\n')}`);
  console.error('`./run demo` installs them on Debian and Ubuntu; elsewhere install them and run it again.');
  process.exit(1);
}

if (args.includes('--reset')) {
  rmSync(stateDir, { recursive: true, force: true });
  for (const environment of ENVIRONMENTS)
    await pgQuery('postgres', `DROP DATABASE IF EXISTS demo_shop_${environment} WITH (FORCE)`);
  console.log(`Started over: ${stateDir} and the demo databases removed.`);
}

const pipelineStarted = performance.now();
console.log(
  'Starting the local parts: PostgreSQL databases, nginx and two colours per environment, Prometheus, SMTP, fake GitHub and Slack…',
);
const world = await DemoWorld.start(stateDir);
// Ctrl-C (or CI's timeout) stops nginx, Prometheus and the servers rather than leaving them running.
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the local parts…`);
    void world.close().finally(() => process.exit(130));
  });
}
let exitCode: number;
try {
  exitCode = await runPipeline(world);
} finally {
  try {
    world.save();
  } finally {
    stopping = true;
    await world.close();
  }
}
console.log(
  `\nThe demo took ${seconds(performance.now() - pipelineStarted)}. State kept in ${stateDir} (./run demo --reset starts over).`,
);
process.exit(exitCode);

async function runPipeline(world: DemoWorld): Promise<number> {
  const number = world.state.releases + 1;
  world.state.releases = number;
  const version = `v1.${number}.0`;
  const sha = createHash('sha1').update(`shop release ${number}`).digest('hex');
  // The build: made once, named by its digest, and only that digest is deployed anywhere.
  const digest = `sha256:${createHash('sha256').update(`shop ${version} ${sha}`).digest('hex')}`;
  const checkout = join(stateDir, 'checkout');
  writeRepository(checkout, number, new Date());

  console.log(
    `\n━━ build: shop ${version} at ${sha.slice(0, 12)}, one artifact ${digest.slice(0, 23)}… promoted through every environment ━━`,
  );
  // What GitHub knows about the commit: its merged pull request (approved by alice, tasks done),
  // the CI check that built it, and what changed since the release before.
  const title = `Gift notes on orders (${version})`;
  const pull = world.pulls.addPull({
    number: world.github.addIssue(OWNER, REPO, { title, login: 'dev' }).number,
    author: 'dev',
    headSha: sha,
    mergeCommitSha: sha,
    title,
    body: '## Checklist\n- [x] tests\n- [x] migration reviewed\n',
    files: ['src/orders.ts', `db/migrations/V${2 * number - 2}__gift_note_${number}.sql`],
  });
  world.pulls.addReview(pull.number, { login: 'alice', state: 'APPROVED' });
  world.github.setCommit(OWNER, REPO, sha, { author: 'dev', pulls: ['dev'], date: new Date().toISOString() });
  world.checks.addCheckRun(OWNER, REPO, sha, { name: 'build', app: 'github-actions', conclusion: 'success' });
  // Against every earlier release: an environment's live one may be older than the last (a rollback).
  for (let earlier = 1; earlier < number; earlier++) {
    const base = createHash('sha1').update(`shop release ${earlier}`).digest('hex');
    world.github.setComparison(OWNER, REPO, base, sha, [
      { filename: 'src/orders.ts', additions: 40 * (number - earlier), deletions: 6 },
      { filename: `db/migrations/V${2 * number - 2}__gift_note_${number}.sql`, additions: 2, deletions: 0 },
    ]);
  }
  console.log(`  pull request #${pull.number} by dev, approved by alice, merged; check "build" passed`);
  await closeEarlierIncidents(world);

  const records: StepRecord[] = [];
  const results: EnvironmentResult[] = [];
  for (const [index, environment] of ENVIRONMENTS.entries()) {
    const production = environment === 'production';
    const release: Release = { number, version, sha, digest, faulty: failSmoke && production };
    const trigger =
      environment === 'development'
        ? 'on push to main: automatic'
        : production
          ? 'dispatched by the release manager, with approval'
          : 'dispatched by the release manager';
    console.log(`\n━━ ${environment}: ${trigger} ━━`);
    if (release.faulty)
      console.log('  (--fail-smoke: this release fails 1 API request in 12 under production traffic)');
    const context: RunContext = {
      cwd: checkout,
      actor: environment === 'development' ? 'dev' : 'lead',
      githubRequests: () => world.github.requests.length,
      eventName: environment === 'development' ? 'push' : 'workflow_dispatch',
      event:
        environment === 'development'
          ? {
              after: sha,
              head_commit: { id: sha, author: { username: 'dev' } },
              repository: { default_branch: 'main' },
            }
          : { inputs: { environment, 'artifact-digest': digest }, repository: { default_branch: 'main' } },
      env: {
        GITHUB_API_URL: world.github.url,
        GITHUB_REPOSITORY: `${OWNER}/${REPO}`,
        GITHUB_REPOSITORY_OWNER: OWNER,
        GITHUB_SHA: sha,
        GITHUB_REF: 'refs/heads/main',
        GITHUB_RUN_ID: String(Date.now() + index),
        GITHUB_SERVER_URL: 'https://github.com',
      },
    };
    // The pipeline's check job: the digest's form, and for a promotion, a successful deployment
    // of this very digest in the environment before.
    const previous = ENVIRONMENTS[index - 1];
    if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new Error(`artifact-digest ${digest} is not sha256:<64 hex>`);
    if (previous !== undefined) {
      const proof = await promotedFrom(world, previous, digest);
      if (proof === undefined) {
        console.log(`  ✗ check: ${digest.slice(0, 19)}… has no successful deployment in ${previous}: not promoted`);
        break;
      }
      console.log(
        `  ✓ check: ${digest.slice(0, 19)}… ran successfully in ${previous} (deployment ${proof}): promoting it`,
      );
    }
    const result = await deployEnvironment(world, world.environment(environment), release, context, records, {
      changeType: production ? 'normal' : 'standard',
      approvers: production ? ['alice', 'bob'] : [],
      weights: production ? '25, 100' : '100',
    });
    results.push(result);
    world.setLive(environment, result.liveColour);
    if (result.outcome !== 'succeeded') break;
  }

  const dora = await doraFigures(world);
  printSummary(world, results, records, dora, version, digest);

  const production = results.find((r) => r.environment === 'production');
  if (failSmoke) {
    const shown = production?.outcome === 'rolled-back' && production.incidentUrl !== '';
    console.log(
      shown
        ? '\nAs expected: the bake failed in production, traffic went back to the previous colour, the incident record opened and everyone was told.'
        : '\nNot what --fail-smoke should show: production was not rolled back with an incident record.',
    );
    return shown ? 0 : 1;
  }
  const green = results.length === ENVIRONMENTS.length && results.every((r) => r.outcome === 'succeeded');
  console.log(
    green
      ? `\nshop ${version} is live in every environment.`
      : '\nThe pipeline stopped: see the step that failed above.',
  );
  return green ? 0 : 1;
}

/**
 * The pipeline's promotion check, as its `gh api` step reads the records: the newest deployment in
 * `environment` made by the workflow's token whose payload names this digest and that no rollback
 * undid, whose newest own status (other than inactive) is success. Its id, or undefined.
 */
async function promotedFrom(world: DemoWorld, environment: string, digest: string): Promise<number | undefined> {
  const api = async <T>(path: string): Promise<T> =>
    (await (
      await fetch(`${world.github.url}/repos/${OWNER}/${REPO}${path}`, {
        headers: { authorization: `token ${world.token}` },
      })
    ).json()) as T;
  interface Listed {
    id: number;
    creator: { login: string } | null;
    payload: { deploySuiteRecord?: number; artifactDigest?: string | null; rolledBack?: number | null };
  }
  const records = (await api<Listed[]>(`/deployments?environment=${environment}&per_page=100`)).filter(
    (d) => d.creator?.login === world.login && d.payload.deploySuiteRecord === 1,
  );
  const undone = new Set(records.map((d) => d.payload.rolledBack).filter((id) => typeof id === 'number'));
  for (const record of records) {
    if (record.payload.artifactDigest !== digest || record.payload.rolledBack != null || undone.has(record.id))
      continue;
    const statuses = await api<{ state: string; creator: { login: string } | null }[]>(
      `/deployments/${record.id}/statuses?per_page=100`,
    );
    const newest = statuses.find((s) => s.creator?.login === world.login && s.state !== 'inactive');
    if (newest?.state === 'success') return record.id;
  }
  return undefined;
}

/** Incidents an earlier `--fail-smoke` run opened block production (the checklist's no-incidents):
 * the on-call closes them once the post-mortem is written, as a team would. */
async function closeEarlierIncidents(world: DemoWorld): Promise<void> {
  const open = (world.github.issues.get(`${OWNER}/${REPO}`) ?? []).filter(
    (issue) => issue.state === 'open' && hasLabel(issue, 'incident'),
  );
  for (const issue of open) {
    const response = await fetch(`${world.github.url}/repos/${OWNER}/${REPO}/issues/${issue.number}`, {
      method: 'PATCH',
      headers: { authorization: `token ghp_demo${'oncall'.padEnd(32, '0')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ state: 'closed', state_reason: 'completed' }),
    });
    console.log(
      `  the on-call closes incident #${issue.number} from an earlier run (post-mortem written): ${response.status}`,
    );
  }
}

interface Dora {
  figures: string;
  requests: string;
}

/** The DORA figures of every run so far, from the deployment records, by deployment-metrics. */
async function doraFigures(world: DemoWorld): Promise<Dora> {
  console.log('\n━━ deployment-metrics: DORA figures from the deployment records ━━');
  const run = await runBuiltAction(
    'deployment-metrics',
    { 'github-token': world.token, repository: `${OWNER}/${REPO}`, window: '30d' },
    { env: { GITHUB_API_URL: world.github.url, GITHUB_REPOSITORY: `${OWNER}/${REPO}` } },
  );
  if (run.exitCode !== 0) {
    console.log(run.log.split('\n').slice(-10).join('\n'));
    return { figures: 'deployment-metrics failed', requests: '' };
  }
  // The table and the per-environment bars; the per-day charts stay in the job summary.
  return { figures: run.summary.split('### Deployments over time')[0]!.trim(), requests: run.outputs.requests ?? '' };
}

function printSummary(
  world: DemoWorld,
  results: EnvironmentResult[],
  records: StepRecord[],
  dora: Dora,
  version: string,
  digest: string,
): void {
  console.log(`\n━━ summary: shop ${version}, ${digest} ━━\n`);
  const rows = results.map((r) => {
    const stage = (job: string) =>
      seconds(
        records.filter((s) => s.environment === r.environment && s.job === job).reduce((sum, s) => sum + s.ms, 0),
      );
    return [
      r.environment,
      r.outcome,
      r.liveColour || '—',
      r.backupId || '—',
      r.changeRequestUrl || '—',
      r.deploymentId || '—',
      r.incidentUrl ? `${r.incidentSeverity} ${r.incidentUrl}` : '—',
      `${stage('prepare')} / ${stage('approve')} / ${stage('deploy')} / ${stage('finish')}`,
      String(r.githubRequests),
    ];
  });
  const header = [
    'environment',
    'outcome',
    'live',
    'backup',
    'change request',
    'deployment',
    'incident',
    'prepare / approve / deploy / finish',
    'GitHub requests',
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(line(header));
  for (const row of rows) console.log(line(row));
  const perAction = new Map<string, number>();
  for (const step of records.filter((s) => s.environment === results.at(-1)?.environment))
    perAction.set(step.action, (perAction.get(step.action) ?? 0) + step.requests);
  console.log(
    `\nGitHub requests of the ${results.at(-1)?.environment ?? ''} deployment by action: ${[...perAction]
      .filter(([, n]) => n > 0)
      .sort((a, b) => b[1] - a[1])
      .map(([action, n]) => `${action} ${n}`)
      .join(', ')}`,
  );
  const mains = world.slack.channelMessages('C0DEPLOYS1').filter((m) => m.threadTs === undefined);
  console.log(
    `\nNotifications: ${mains.length} Slack thread(s) in #deploys (one per environment, edited in place, a reply per stage), ${world.smtp.received.length} mails to stakeholders.`,
  );
  console.log(`\nDORA figures of the runs so far (${dora.requests || '?'} GitHub requests to read them):\n`);
  console.log(dora.figures);
}
