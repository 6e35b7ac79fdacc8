import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { FakeElbv2 } from '../../../test/fakes/elbv2.ts';
import { FakeGitHub } from '../../../test/fakes/github.ts';
import { FakeKubernetes } from '../../../test/fakes/kubernetes.ts';
import { TestServer } from '../../../test/helpers/http-server.ts';
import { failureOf } from '../../../test/helpers/run-action.ts';
import { SWITCH_LOGIN, SWITCH_TOKEN, runSwitch } from './helpers.ts';

/**
 * The Kubernetes and ALB providers through the built action, against their stateful fakes. The
 * live URL is a loopback server that answers as the routed colour would: the colour the fake
 * router's state sends traffic to (by weight while split), so verification sees what users would.
 */
let github: FakeGitHub;
let live: TestServer;
let route: () => string;
const folder = mkdtempSync(join(tmpdir(), 'cloud-routers-'));

beforeAll(async () => {
  github = await FakeGitHub.start();
  github.addUser(SWITCH_LOGIN, SWITCH_TOKEN);
  live = await TestServer.start();
  live.otherwise(() => ({ status: 200, headers: { 'x-colour': route() }, body: 'ok' }));
});
afterAll(async () => {
  await Promise.all([github.close(), live.close()]);
});

const common = (environment: string) => ({
  environment,
  'github-token': SWITCH_TOKEN,
  'token-login': SWITCH_LOGIN,
  'live-url': `${live.url.href}version`,
  'verify-timeout': '3s',
  'step-pause': '0s',
});

describe('blue-green-switch on kubernetes', () => {
  let kube: FakeKubernetes;
  let kubeconfig: string;
  beforeEach(async () => {
    kube = await FakeKubernetes.start();
    kubeconfig = join(folder, `kubeconfig-${Date.now()}`);
    writeFileSync(kubeconfig, kube.kubeconfig());
    kube.addService('shop', 'shop', { app: 'shop', colour: 'blue' });
    kube.addDeployment('shop', 'shop-blue', { app: 'shop', colour: 'blue' }, 2);
    kube.addDeployment('shop', 'shop-green', { app: 'shop', colour: 'green' }, 2);
    route = () => kube.selectorOf('shop', 'shop').colour ?? 'none';
  });
  afterEach(() => kube.close());

  const inputs = (extra: Record<string, string> = {}) => ({
    ...common('k8s-production'),
    provider: 'kubernetes',
    'kubernetes-namespace': 'shop',
    'kubernetes-service': 'shop',
    kubeconfig,
    ...extra,
  });

  it("switches the Service's selector once the target has rolled out, and rolls back from the record", async () => {
    const run = await runSwitch(github, inputs({ to: 'green' }));
    expect(failureOf(run)).toBe('');
    expect(run.outputs).toMatchObject({ live: 'green', previous: 'blue', switched: 'true' });
    expect(kube.selectorOf('shop', 'shop')).toEqual({ app: 'shop', colour: 'green' });
    const back = await runSwitch(github, inputs({ command: 'rollback' }));
    expect(failureOf(back)).toBe('');
    expect(kube.selectorOf('shop', 'shop')).toEqual({ app: 'shop', colour: 'blue' });
  });

  it('refuses while the target is still rolling out, leaving the Service as it was', async () => {
    kube.setRollout('shop', 'shop-green', { updatedReplicas: 1, availableReplicas: 1 });
    const run = await runSwitch(github, inputs({ to: 'green' }));
    expect(run.exitCode).toBe(1);
    expect(failureOf(run)).toMatch(/^green is not ready, so the router was not touched: /);
    expect(kube.selectorOf('shop', 'shop').colour).toBe('blue');
  });

  it('switches in one step, and says so, when asked for weights: a Service selector cannot split traffic', async () => {
    const run = await runSwitch(github, inputs({ to: 'green', weights: '10, 100' }));
    expect(failureOf(run)).toBe('');
    expect(run.annotations).toContainEqual(
      expect.objectContaining({ level: 'warning', message: expect.stringContaining('cannot split traffic') }),
    );
    expect(kube.selectorOf('shop', 'shop').colour).toBe('green');
  });

  it('names the missing Service', async () => {
    const run = await runSwitch(github, inputs({ to: 'green', 'kubernetes-service': 'shopp' }));
    expect(run.exitCode).toBe(1);
    expect(failureOf(run)).toMatch(/shopp/);
    expect(failureOf(run)).toMatch(/not found|does not exist/i);
  });
});

describe('blue-green-switch on an AWS ALB', () => {
  let elb: FakeElbv2;
  let listener: string;
  let blue: string;
  let green: string;
  const env = {
    AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKEFAKE',
    AWS_SECRET_ACCESS_KEY: 'fake-secret-key-for-the-loopback-fake',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: '/nonexistent/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
  };
  beforeEach(async () => {
    elb = await FakeElbv2.start();
    blue = elb.addTargetGroup('shop-blue', [{ Id: 'i-0b1', Port: 8080, State: 'healthy' }]);
    green = elb.addTargetGroup('shop-green', [{ Id: 'i-0g1', Port: 8080, State: 'healthy' }]);
    listener = elb.addListener([
      {
        Type: 'forward',
        ForwardConfig: {
          TargetGroups: [
            { TargetGroupArn: blue, Weight: 100 },
            { TargetGroupArn: green, Weight: 0 },
          ],
          TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 300 },
        },
      },
    ]);
    route = () => {
      const groups = elb.listeners.get(listener)!.DefaultActions[0]!.ForwardConfig!.TargetGroups!;
      const total = groups.reduce((sum, group) => sum + (group.Weight ?? 0), 0);
      let pick = Math.random() * total;
      for (const group of groups) {
        pick -= group.Weight ?? 0;
        if (pick < 0) return group.TargetGroupArn === blue ? 'blue' : 'green';
      }
      return 'none';
    };
  });
  afterEach(() => elb.close());

  const inputs = (extra: Record<string, string> = {}) => ({
    ...common('alb-production'),
    provider: 'aws-alb',
    'alb-listener-arn': listener,
    'alb-target-groups': `blue: ${blue}\ngreen: ${green}`,
    'aws-endpoint': elb.url,
    ...extra,
  });

  it('moves traffic 10, 50, 100 in one ModifyListener call per step, keeping stickiness', async () => {
    const run = await runSwitch(github, inputs({ to: 'green', weights: '10, 50, 100' }), { env });
    expect(failureOf(run)).toBe('');
    expect(run.outputs).toMatchObject({ live: 'green', switched: 'true' });
    const modifies = elb.calls('ModifyListener');
    expect(modifies).toHaveLength(3);
    const action = elb.listeners.get(listener)!.DefaultActions[0]!;
    expect(action.ForwardConfig!.TargetGroupStickinessConfig).toEqual({ Enabled: true, DurationSeconds: 300 });
    expect(action.ForwardConfig!.TargetGroups!.find((group) => group.TargetGroupArn === green)!.Weight).toBeGreaterThan(
      0,
    );
  });

  it('leaves the listener alone when the target group has no healthy target', async () => {
    elb.setHealth(green, 'i-0g1', 'unhealthy', 'Target.ResponseCodeMismatch');
    const run = await runSwitch(github, inputs({ to: 'green' }), { env });
    expect(run.exitCode).toBe(1);
    expect(failureOf(run)).toMatch(/^green is not ready, so the router was not touched: .*unhealthy/);
    expect(elb.calls('ModifyListener')).toHaveLength(0);
  });

  it('rolls back to the exact prior split when verification fails', async () => {
    // A 90/10 canary is live; the switch to green cannot be verified (the live URL keeps saying blue).
    const action = elb.listeners.get(listener)!.DefaultActions[0]!;
    action.ForwardConfig!.TargetGroups = [
      { TargetGroupArn: blue, Weight: 90 },
      { TargetGroupArn: green, Weight: 10 },
    ];
    route = () => 'blue';
    const run = await runSwitch(github, inputs({ to: 'green', 'verify-timeout': '1s' }), { env });
    expect(run.exitCode).toBe(1);
    expect(failureOf(run)).toMatch(/Rolled back automatically|rollback did not verify/);
    const weights = Object.fromEntries(
      elb.listeners
        .get(listener)!
        .DefaultActions[0]!.ForwardConfig!.TargetGroups!.map((g) => [g.TargetGroupArn, g.Weight]),
    );
    expect(weights).toEqual({ [blue]: 90, [green]: 10 });
  });
});
