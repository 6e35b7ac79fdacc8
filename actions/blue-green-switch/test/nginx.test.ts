import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { expectInputError } from '../../../test/helpers/expect-input-error.ts';
import { failureOf } from '../../../test/helpers/run-action.ts';
import { createGitHubClient } from '../../../packages/github/src/index.ts';
import { markContractMigrations } from '../../../packages/record/src/index.ts';
import { OWNER, REPO, SWITCH_TOKEN, nginxInputs, runSwitch, startNginxStage, type NginxStage } from './helpers.ts';

let stage: NginxStage;
let environment: string;
let n = 0;

beforeEach(async () => {
  stage = await startNginxStage();
  environment = `production-${++n}`;
});
afterEach(() => stage.close());

const inputs = (extra: Record<string, string> = {}) => ({ ...nginxInputs(stage, environment), ...extra });
const live = async () => (await fetch(`${stage.nginx.url}/`)).headers.get('x-colour');
const include = () => readFileSync(stage.nginx.include, 'utf8');
const statuses = (id: number) => (stage.github.statuses.get(id) ?? []).map((status) => status.state);

describe('blue-green-switch on nginx', () => {
  it('switches to green, reads the router back, verifies through the live URL and records the deployment', async () => {
    const run = await runSwitch(stage.github, inputs({ to: 'green', sha: 'a'.repeat(40) }));
    expect(failureOf(run)).toBe('');
    expect(run.outputs).toMatchObject({ live: 'green', previous: 'blue', switched: 'true', 'rollback-window': 'open' });
    expect(await live()).toBe('green');
    expect(include()).toContain(`server ${stage.green.address} weight=100;`);
    expect(include()).not.toContain(stage.blue.address);
    const id = Number(run.outputs['deployment-id']);
    const deployment = stage.github.deployments.find((d) => Number(d.id) === id)!;
    expect(deployment.environment).toBe(environment);
    expect(deployment.payload).toMatchObject({
      deploySuiteRecord: 1,
      colour: 'green',
      previousColour: 'blue',
      previousWeights: { blue: 100, green: 0 },
      router: 'nginx',
      sha: 'a'.repeat(40),
    });
    expect(statuses(id)).toEqual(['in_progress', 'success']);
    expect(run.summary).toContain('green verified');
  });

  it('switches again when the router file names the target but the live URL does not answer from it', async () => {
    // A file written and never reloaded: it says green, nginx still serves blue.
    writeFileSync(stage.nginx.include, include().replace(stage.blue.address, stage.green.address));
    expect(await live()).toBe('blue');
    const run = await runSwitch(stage.github, inputs({ to: 'green' }));
    expect(failureOf(run)).toBe('');
    expect(run.outputs.switched).toBe('true');
    expect(run.log).toContain('does not answer from it: switching again');
    expect(await live()).toBe('green');
  });

  it('says traffic moved and was verified when only the deployment record could not be updated', async () => {
    stage.github.inject(
      'POST',
      /\/deployments\/\d+\/statuses$/,
      { status: 502, body: { message: 'Bad Gateway' } },
      { when: (request) => request.body.includes('"success"') },
    );
    const run = await runSwitch(stage.github, inputs({ to: 'green' }));
    expect(run.exitCode).toBe(1);
    expect(await live()).toBe('green');
    expect(run.outputs).toMatchObject({ live: 'green', switched: 'true' });
    expect(failureOf(run)).toMatch(
      /^green live \(verified\), but deployment record \d+ could not be marked a success: GitHub API: .*502/,
    );
  });

  it('does nothing when the colour asked for is already live, and says so', async () => {
    const before = include();
    const run = await runSwitch(stage.github, inputs({ to: 'blue' }));
    expect(failureOf(run)).toBe('');
    expect(run.outputs).toMatchObject({ live: 'blue', switched: 'false' });
    expect(run.summary).toContain('blue was already live; nothing changed');
    expect(include()).toBe(before);
    expect(stage.github.deployments).toHaveLength(0);
  });

  it('leaves nginx untouched when the target fails its health check', async () => {
    stage.green.unhealthy = true;
    const before = include();
    const run = await runSwitch(stage.github, inputs({ to: 'green' }));
    expect(run.exitCode).toBe(1);
    expect(failureOf(run)).toMatch(/^green's health check failed, so the router was not touched: up but failing/);
    expect(include()).toBe(before);
    expect(await live()).toBe('blue');
    expect(stage.github.deployments).toHaveLength(0);
  });

  it('puts the previous file back and reloads nothing when nginx -t rejects the configuration', async () => {
    const before = include();
    const run = await runSwitch(
      stage.github,
      inputs({ to: 'green', 'nginx-servers': `blue: ${stage.blue.address}\ngreen: 127.0.0.1:99999` }),
    );
    expect(run.exitCode).toBe(1);
    expect(failureOf(run)).toMatch(
      /nginx -t rejected the configuration with the new upstream, so .* was put back and nginx was not reloaded: .*invalid port/,
    );
    expect(include()).toBe(before);
    expect(await live()).toBe('blue');
    const id = Number(run.outputs['deployment-id']);
    expect(statuses(id)).toEqual(['in_progress', 'failure', 'inactive']);
  });

  it('rolls back automatically when the live URL does not answer from the new colour', async () => {
    stage.green.anonymous = true;
    const run = await runSwitch(stage.github, inputs({ to: 'green', 'verify-timeout': '2s' }));
    expect(run.exitCode).toBe(1);
    expect(failureOf(run)).toMatch(
      /^Switch to green failed: .* did not answer from green within 2s.* Rolled back automatically: .*blue 100%, green 0%/,
    );
    expect(run.outputs.live).toBe('blue');
    expect(await live()).toBe('blue');
    expect(statuses(Number(run.outputs['deployment-id']))).toEqual(['in_progress', 'failure', 'inactive']);
  });

  it.each(['SIGINT', 'SIGTERM'] as const)(
    'puts traffic back when the run is cancelled (%s) between weight steps',
    async (signal) => {
      let printed = '';
      let sent = false;
      const run = await runSwitch(stage.github, inputs({ to: 'green', weights: '10, 50, 100', 'step-pause': '30s' }), {
        onStart: (child) =>
          child.stdout?.on('data', (chunk: Buffer) => {
            printed += chunk.toString();
            // Cancelled once 10% is on green, in the middle of a 30 s pause.
            if (!sent && printed.includes('Step green 10%')) {
              sent = true;
              child.kill(signal);
            }
          }),
      });
      expect(sent).toBe(true);
      expect(run.exitCode).not.toBe(0);
      expect(run.log).toContain('The run was cancelled: stopping the switch and putting the prior state back');
      expect(run.log).toMatch(
        /Switch to green failed: the run was cancelled while traffic moved\..*Rolled back automatically/,
      );
      // Back to blue at 100% (the pause ended at once: a wait for it would outlast the grace period).
      expect(include()).toContain(`server ${stage.blue.address} weight=100;`);
      expect(await live()).toBe('blue');
      const record = stage.github.deployments.at(-1)!;
      expect(statuses(Number(record.id))).toEqual(['in_progress', 'failure', 'inactive']);
    },
  );

  it('leaves nothing for a later rollback to undo after a switch that rolled itself back', async () => {
    const good = await runSwitch(stage.github, inputs({ to: 'green', sha: 'a'.repeat(40) }));
    expect(failureOf(good)).toBe('');
    stage.blue.anonymous = true;
    const bad = await runSwitch(stage.github, inputs({ to: 'blue', 'verify-timeout': '1s' }));
    expect(bad.exitCode).toBe(1);
    expect(statuses(Number(bad.outputs['deployment-id']))).toEqual(['in_progress', 'failure', 'inactive']);
    expect(await live()).toBe('green');
    stage.blue.anonymous = false;
    // The rollback undoes the last switch that stands: green's, back to blue, on the commit blue ran.
    const rolled = await runSwitch(stage.github, inputs({ command: 'rollback', sha: 'f'.repeat(40) }));
    expect(failureOf(rolled)).toBe('');
    expect(rolled.outputs).toMatchObject({ live: 'blue', switched: 'true' });
    expect(await live()).toBe('blue');
  });

  it('leaves traffic where it is when auto-rollback is off, and says where that is', async () => {
    stage.green.anonymous = true;
    const run = await runSwitch(
      stage.github,
      inputs({ to: 'green', 'verify-timeout': '1s', 'auto-rollback': 'false' }),
    );
    expect(run.exitCode).toBe(1);
    expect(failureOf(run)).toMatch(/The router reports: .*green 100%.* auto-rollback is off/);
  });

  it('rolls back from a later run by reading the deployment record', async () => {
    const switched = await runSwitch(stage.github, inputs({ to: 'green', sha: 'a'.repeat(40) }));
    expect(failureOf(switched)).toBe('');
    // A later workflow: no outputs from the switch, only the environment.
    const rolled = await runSwitch(stage.github, inputs({ command: 'rollback' }), { env: { GITHUB_RUN_ID: '9999' } });
    expect(failureOf(rolled)).toBe('');
    expect(rolled.outputs).toMatchObject({ live: 'blue', previous: 'green', switched: 'true' });
    expect(await live()).toBe('blue');
    const first = Number(switched.outputs['deployment-id']);
    const second = Number(rolled.outputs['deployment-id']);
    expect(statuses(first)).toEqual(['in_progress', 'success', 'inactive']);
    expect(statuses(second)).toEqual(['in_progress', 'success']);
    expect(stage.github.deployments.find((d) => Number(d.id) === second)!.payload).toMatchObject({
      colour: 'blue',
      rolledBack: first,
    });
    expect(rolled.outputs['rollback-window']).toBe('closed');
    // A second rollback would bring back the release just rolled back: refused, and status says why.
    const status = await runSwitch(stage.github, inputs({ command: 'status' }));
    expect(failureOf(status)).toBe('');
    expect(status.outputs).toMatchObject({
      live: 'blue',
      'rollback-window': 'closed',
      'deployment-id': String(second),
    });
    const again = await runSwitch(stage.github, inputs({ command: 'rollback' }));
    expect(failureOf(again)).toMatch(/^Rollback refused: deployment \d+ is itself the rollback of deployment \d+/);
    expect(await live()).toBe('blue');
  });

  it('rolls back a switch that was cut off mid-way, from its own record', async () => {
    // A switch killed between steps: traffic split 50/50, its record left in_progress.
    const cut = runSwitch(stage.github, inputs({ to: 'green', weights: '50, 100', 'step-pause': '20s' }), {
      onStart: (child) => {
        const timer = setInterval(() => {
          if (include().includes(stage.green.address) && include().includes(stage.blue.address)) {
            clearInterval(timer);
            child.kill('SIGKILL');
          }
        }, 20);
      },
    });
    const killed = await cut;
    expect(killed.exitCode).not.toBe(0);
    const rolled = await runSwitch(stage.github, inputs({ command: 'rollback' }));
    expect(failureOf(rolled)).toBe('');
    expect(rolled.outputs).toMatchObject({ live: 'blue', switched: 'true' });
    expect(include()).not.toContain(stage.green.address);
  });

  it('refuses a rollback past contract migrations unless forced', async () => {
    const switched = await runSwitch(stage.github, inputs({ to: 'green' }));
    const id = Number(switched.outputs['deployment-id']);
    const client = createGitHubClient({
      token: SWITCH_TOKEN,
      baseUrl: stage.github.url,
      retries: 0,
      minWriteIntervalMs: 0,
    });
    await markContractMigrations(client, { owner: OWNER, repo: REPO }, id);
    const refused = await runSwitch(stage.github, inputs({ command: 'rollback' }));
    expect(refused.exitCode).toBe(1);
    expect(failureOf(refused)).toMatch(/^Rollback refused: the contract-phase migrations of deployment \d+ have run/);
    expect(await live()).toBe('green');
    const status = await runSwitch(stage.github, inputs({ command: 'status' }));
    expect(status.outputs['rollback-window']).toBe('closed');
    const forced = await runSwitch(stage.github, inputs({ command: 'rollback', force: 'true' }));
    expect(failureOf(forced)).toBe('');
    expect(await live()).toBe('blue');
  });

  it('stops a second switch of the same environment while the first is in progress', async () => {
    const first = runSwitch(stage.github, inputs({ to: 'green', weights: '10, 100', 'step-pause': '4s' }));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const second = await runSwitch(stage.github, inputs({ to: 'green' }));
    expect(second.exitCode).toBe(1);
    expect(failureOf(second)).toMatch(
      /^Another switch of production-\d+ is in progress \(deployment \d+.*concurrency: deploy-production-\d+/,
    );
    const done = await first;
    expect(failureOf(done)).toBe('');
    expect(await live()).toBe('green');
  });

  it('fails clearly when there is no record to roll back to', async () => {
    const run = await runSwitch(stage.github, inputs({ command: 'rollback' }));
    expect(run.exitCode).toBe(1);
    expect(failureOf(run)).toMatch(/^No deployment record to roll back to: production-\d+ has no switch recorded/);
  });
});

describe('blue-green-switch: bad input', () => {
  it.each([
    [
      'an unknown provider',
      { provider: 'haproxy' },
      'provider',
      /must be one of nginx, kubernetes, aws-alb, command, got "haproxy"/,
    ],
    ['a colour outside the pair', { to: 'red' }, 'to', /must be one of the colours blue, green, got "red"/],
    ['weights that do not increase', { to: 'green', weights: '50, 10, 100' }, 'weights', /must increase/],
    ['weights over 100', { to: 'green', weights: '10, 150' }, 'weights', /between 1 and 100/],
    ['no health URL with nginx', { to: 'green', 'health-urls': '' }, 'health-urls', /is required with provider nginx/],
    [
      'no health check at all with the command router',
      { to: 'green', provider: 'command', 'health-urls': '', 'status-command': 'true', 'switch-command': 'true' },
      'health-urls',
      /is required with provider command unless readiness-command is given/,
    ],
    [
      'a health URL for a third colour',
      { to: 'green', 'health-urls': 'red: http://127.0.0.1:1/health' },
      'health-urls',
      /names "red"/,
    ],
    [
      'a relative include path',
      { to: 'green', 'nginx-include': 'live.conf' },
      'nginx-include',
      /must be an absolute path/,
    ],
    ['a switch with no target', {}, 'to', /is required for switch/],
  ])('%s', async (_name, extra, input, pattern) => {
    const run = await runSwitch(stage.github, inputs(extra));
    expectInputError(run, input, pattern, [SWITCH_TOKEN]);
    expect(stage.github.requests).toHaveLength(0);
  });
});
