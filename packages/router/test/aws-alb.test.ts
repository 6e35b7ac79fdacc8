import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { Inputs } from '@deploy-suite/kit';
import { FakeElbv2, type FakeAction } from '../../../test/fakes/elbv2.ts';
import { expectSettingsInputError } from '../../../test/helpers/expect-input-error.ts';
import { createAlbProvider, readAlbConfig, type AlbConfig } from '../src/aws-alb.ts';
import { RouterError } from '../src/provider.ts';

// The real SDK client against the fake on loopback: fake static credentials from the
// environment (the first provider of the standard chain), and no instance metadata lookups.
const AWS_ENV = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_EC2_METADATA_DISABLED',
  'AWS_CONFIG_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_PROFILE',
  'AWS_ROLE_ARN',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
];
const saved = Object.fromEntries(AWS_ENV.map((name) => [name, process.env[name]]));
beforeAll(() => {
  for (const name of AWS_ENV) Reflect.deleteProperty(process.env, name);
  process.env.AWS_ACCESS_KEY_ID = 'AKIAFAKEFAKEFAKEFAKE';
  process.env.AWS_SECRET_ACCESS_KEY = 'fake-secret-key-for-the-loopback-fake';
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  process.env.AWS_CONFIG_FILE = '/nonexistent/aws-config';
  process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/aws-credentials';
});
afterAll(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) Reflect.deleteProperty(process.env, name);
    else process.env[name] = value;
  }
});

let elb: FakeElbv2;
let blue: string;
let green: string;
beforeEach(async () => {
  jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  elb = await FakeElbv2.start();
  blue = elb.addTargetGroup('shop-blue', [
    { Id: 'i-0b1', Port: 8080, State: 'healthy' },
    { Id: 'i-0b2', Port: 8080, State: 'healthy' },
  ]);
  green = elb.addTargetGroup('shop-green', [
    { Id: 'i-0g1', Port: 8080, State: 'initial', Reason: 'Elb.RegistrationInProgress' },
    { Id: 'i-0g2', Port: 8080, State: 'initial', Reason: 'Elb.RegistrationInProgress' },
  ]);
});
afterEach(async () => {
  await elb.close();
  jest.restoreAllMocks();
});

const STICKY = { Enabled: true, DurationSeconds: 300 };
const forward = (weights: [string, number][], stickiness: object = STICKY): FakeAction => ({
  Type: 'forward',
  Order: 2,
  ForwardConfig: {
    TargetGroups: weights.map(([arn, weight]) => ({ TargetGroupArn: arn, Weight: weight })),
    TargetGroupStickinessConfig: stickiness,
  },
});
const oidc: FakeAction = {
  Type: 'authenticate-oidc',
  Order: 1,
  AuthenticateOidcConfig: {
    Issuer: 'https://idp.example.com',
    AuthorizationEndpoint: 'https://idp.example.com/authorize',
    TokenEndpoint: 'https://idp.example.com/token',
    UserInfoEndpoint: 'https://idp.example.com/userinfo',
    ClientId: 'shop',
    ClientSecret: 'stored-client-secret',
  },
};

const albOf = (router: Pick<AlbConfig, 'listenerArn' | 'ruleArn'>, extra: Partial<AlbConfig> = {}) =>
  createAlbProvider({
    ...router,
    targetGroups: { blue, green },
    colours: ['blue', 'green'],
    endpoint: elb.url,
    requestTimeoutMs: 1000,
    ...extra,
  });

const forwardOf = (actions: FakeAction[]) => actions.find((a) => a.Type === 'forward')!;
const weightsIn = (action: FakeAction) =>
  Object.fromEntries((action.ForwardConfig?.TargetGroups ?? []).map((t) => [t.TargetGroupArn, t.Weight]));

describe('aws-alb read', () => {
  it('reads the live colour from the single-target-group form, signed for the ARN’s region', async () => {
    const listenerArn = elb.addListener([{ Type: 'forward', Order: 1, TargetGroupArn: blue }]);
    const state = await albOf({ listenerArn }).read();
    expect(state.live).toBe('blue');
    expect(state.weights).toEqual({ blue: 100, green: 0 });
    expect(state.detail).toContain('shop-blue');
    const [request] = elb.calls('DescribeListeners');
    expect(request!.params['ListenerArns.member.1']).toBe(listenerArn);
    expect(request!.authorization).toContain('/eu-west-1/elasticloadbalancing/aws4_request');
  });

  it('reads a 90/10 split (ELB weights 900/100) as percent, with nothing live', async () => {
    const listenerArn = elb.addListener([
      forward([
        [blue, 900],
        [green, 100],
      ]),
    ]);
    const state = await albOf({ listenerArn }).read();
    expect(state.weights).toEqual({ blue: 90, green: 10 });
    expect(state.live).toBeUndefined();
    expect(state.detail).toMatch(/blue \(shop-blue\) weight 900, green \(shop-green\) weight 100; stickiness 300 s/);
  });

  it('rounds weights on any scale to whole percent summing to 100', async () => {
    const listenerArn = elb.addListener([
      forward([
        [blue, 1],
        [green, 2],
      ]),
    ]);
    expect((await albOf({ listenerArn }).read()).weights).toEqual({ blue: 33, green: 67 });
  });

  it('refuses a forward action that sends traffic to a target group not of the pair, never guessing', async () => {
    const legacy = elb.addTargetGroup('shop-legacy');
    const listenerArn = elb.addListener([
      forward([
        [blue, 50],
        [legacy, 50],
      ]),
    ]);
    const alb = albOf({ listenerArn });
    await expect(alb.read()).rejects.toThrow(RouterError);
    await expect(alb.read()).rejects.toThrow(
      /targetgroup\/shop-legacy\/.*\(weight 50\), which is not the target group of blue or green/,
    );
    await expect(alb.route({ blue: 0, green: 100 })).rejects.toThrow(/shop-legacy/);
    expect(elb.calls('ModifyListener')).toHaveLength(0);
  });

  it('names a listener that does not exist', async () => {
    const listenerArn = elb.addListener([forward([[blue, 1]])]);
    elb.listeners.delete(listenerArn);
    await expect(albOf({ listenerArn }).read()).rejects.toThrow(
      new RegExp(`DescribeListeners .*ListenerNotFound.*no such listener: ${listenerArn.replace(/\//g, '\\/')}`),
    );
  });

  it('retries a throttled Describe with backoff (the SDK retry strategy)', async () => {
    const listenerArn = elb.addListener([forward([[blue, 1]])]);
    elb.inject('DescribeListeners', 'Throttling', { times: 2 });
    expect((await albOf({ listenerArn }).read()).live).toBe('blue');
    expect(elb.calls('DescribeListeners')).toHaveLength(3);
  });

  it('gives up on a Describe throttled past its attempts, saying so', async () => {
    const listenerArn = elb.addListener([forward([[blue, 1]])]);
    elb.inject('DescribeListeners', 'Throttling', { times: 10 });
    await expect(albOf({ listenerArn }).read()).rejects.toThrow(/400 Throttling.*kept throttling/);
    expect(elb.calls('DescribeListeners')).toHaveLength(4);
  });

  it('does not hang on a Describe that never answers', async () => {
    const listenerArn = elb.addListener([forward([[blue, 1]])]);
    elb.inject('DescribeListeners', 'hang', { times: 10 });
    const started = Date.now();
    await expect(albOf({ listenerArn }, { requestTimeoutMs: 300 }).read()).rejects.toThrow(
      /DescribeListeners .*no answer within 300 ms/,
    );
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('names the IAM action when a Describe is refused', async () => {
    const listenerArn = elb.addListener([forward([[blue, 1]])]);
    elb.inject('DescribeListeners', 'AccessDenied');
    await expect(albOf({ listenerArn }).read()).rejects.toThrow(
      /403 AccessDenied.*grant it elasticloadbalancing:DescribeListeners on arn:aws:elasticloadbalancing/,
    );
  });
});

describe('aws-alb readiness', () => {
  it('is ready with at least one healthy target, and reports the counts', async () => {
    const alb = albOf({ listenerArn: elb.addListener([forward([[blue, 1]])]) });
    expect(await alb.readiness('blue')).toEqual({
      ready: true,
      detail: `target group shop-blue/${blue.split('/').pop()!}: 2/2 targets healthy`,
    });
    const starting = await alb.readiness('green');
    expect(starting?.ready).toBe(false);
    expect(starting?.detail).toMatch(/0\/2 targets healthy \(2 initial: Elb.RegistrationInProgress\)/);
    elb.setHealth(green, 'i-0g1', 'healthy');
    elb.setHealth(green, 'i-0g2', 'unhealthy', 'Target.ResponseCodeMismatch');
    const half = await alb.readiness('green');
    expect(half?.ready).toBe(true);
    expect(half?.detail).toMatch(/1\/2 targets healthy \(1 unhealthy: Target.ResponseCodeMismatch\)/);
    expect(elb.calls('DescribeTargetHealth').at(-1)!.params.TargetGroupArn).toBe(green);
  });

  it('is not ready when all targets are unhealthy, unused or none are registered', async () => {
    const alb = albOf({ listenerArn: elb.addListener([forward([[blue, 1]])]) });
    elb.setHealth(green, 'i-0g1', 'unused', 'Target.NotInUse');
    elb.setHealth(green, 'i-0g2', 'unused', 'Target.NotInUse');
    const unused = await alb.readiness('green');
    expect(unused?.ready).toBe(false);
    expect(unused?.detail).toMatch(/2 unused: Target.NotInUse.*add it to the forward action at weight 0/);
    elb.targetGroups.get(green)!.targets.length = 0;
    expect(await alb.readiness('green')).toMatchObject({
      ready: false,
      detail: expect.stringMatching(/no registered targets/),
    });
  });

  it('names a target group that does not exist', async () => {
    const alb = albOf({ listenerArn: elb.addListener([forward([[blue, 1]])]) });
    elb.targetGroups.delete(green);
    await expect(alb.readiness('green')).rejects.toThrow(
      /DescribeTargetHealth .*TargetGroupNotFound.*no such target group/,
    );
  });
});

describe('aws-alb route', () => {
  it('switches blue → green in ONE ModifyListener, keeping stickiness and the other actions', async () => {
    const listenerArn = elb.addListener([oidc, forward([[blue, 1]])]);
    const alb = albOf({ listenerArn });
    await alb.route({ blue: 0, green: 100 });

    expect(elb.calls('ModifyListener')).toHaveLength(1);
    const stored = elb.listeners.get(listenerArn)!.DefaultActions;
    expect(stored).toHaveLength(2);
    expect(stored[0]).toMatchObject({ Type: 'authenticate-oidc', Order: 1 });
    expect((stored[0]!.AuthenticateOidcConfig as Record<string, unknown>).ClientSecret).toBe('stored-client-secret');
    const action = forwardOf(stored);
    expect(action.Order).toBe(2);
    expect(weightsIn(action)).toEqual({ [blue]: 0, [green]: 100 });
    expect(action.ForwardConfig?.TargetGroupStickinessConfig).toEqual(STICKY);

    // Only the weights were sent: the secret (which Describe never returns) is kept by the API.
    const sent = elb.calls('ModifyListener')[0]!.params;
    expect(sent['DefaultActions.member.1.AuthenticateOidcConfig.UseExistingClientSecret']).toBe('true');
    expect(Object.keys(sent).some((key) => key.includes('ClientSecret') && !key.includes('UseExisting'))).toBe(false);
    expect(sent['DefaultActions.member.2.TargetGroupArn']).toBeUndefined();

    const state = await alb.read();
    expect(state.live).toBe('green');
    expect(state.weights).toEqual({ blue: 0, green: 100 });
  });

  it('moves traffic gradually (10, 50, 100), one Modify per step, each read back', async () => {
    const listenerArn = elb.addListener([forward([[blue, 1]])]);
    const alb = albOf({ listenerArn });
    for (const share of [10, 50, 100]) {
      await alb.route({ blue: 100 - share, green: share });
      expect(weightsIn(forwardOf(elb.listeners.get(listenerArn)!.DefaultActions))).toEqual({
        [blue]: 100 - share,
        [green]: share,
      });
      expect((await alb.read()).weights).toEqual({ blue: 100 - share, green: share });
    }
    expect(elb.calls('ModifyListener')).toHaveLength(3);
    // Already as asked: nothing to send.
    await alb.route({ blue: 0, green: 100 });
    expect(elb.calls('ModifyListener')).toHaveLength(3);
  });

  it('switches a listener rule instead, leaving its conditions and the listener alone', async () => {
    const listenerArn = elb.addListener([{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } }]);
    const conditions = [{ Field: 'host-header', HostHeaderConfig: { Values: ['shop.example.com'] } }];
    const ruleArn = elb.addRule(listenerArn, 10, conditions, [forward([[blue, 1]])]);
    const alb = albOf({ ruleArn });
    expect((await alb.read()).live).toBe('blue');
    await alb.route({ blue: 50, green: 50 });
    expect(elb.calls('ModifyRule')).toHaveLength(1);
    expect(elb.calls('ModifyListener')).toHaveLength(0);
    expect(elb.calls('DescribeRules')[0]!.params['RuleArns.member.1']).toBe(ruleArn);
    const rule = elb.rules.get(ruleArn)!;
    expect(rule.Conditions).toEqual(conditions);
    expect(weightsIn(forwardOf(rule.Actions))).toEqual({ [blue]: 50, [green]: 50 });
    expect(elb.listeners.get(listenerArn)!.DefaultActions).toEqual([
      { Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } },
    ]);
    expect((await alb.read()).weights).toEqual({ blue: 50, green: 50 });
  });

  it('a refused Modify names the IAM action to grant and reports what the listener holds', async () => {
    const listenerArn = elb.addListener([forward([[blue, 1]])]);
    elb.inject('ModifyListener', 'AccessDenied');
    const error = await albOf({ listenerArn })
      .route({ blue: 0, green: 100 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RouterError);
    expect((error as Error).message).toMatch(
      /ModifyListener .*403 AccessDenied.*grant it elasticloadbalancing:ModifyListener on arn:/,
    );
    expect((error as Error).message).toMatch(
      /reads back: forwards to blue \(shop-blue\) weight 1, green \(shop-green\) not listed.*\(unchanged\)/,
    );
    expect(elb.calls('ModifyListener')).toHaveLength(1);
  });

  it('a Modify that hangs times out, is not re-sent, and the state is read back and reported', async () => {
    const listenerArn = elb.addListener([forward([[blue, 1]])]);
    elb.inject('ModifyListener', 'hang');
    const started = Date.now();
    const error = await albOf({ listenerArn }, { requestTimeoutMs: 500 })
      .route({ blue: 0, green: 100 })
      .catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(error).toBeInstanceOf(RouterError);
    expect((error as Error).message).toMatch(
      /no answer within 500 ms.*reads back: .*blue \(shop-blue\) weight 1.*\(unchanged\).*not sent again: it may still land/,
    );
    expect(elb.calls('ModifyListener')).toHaveLength(1);
    // Read back after the timeout, not guessed.
    expect(elb.requests.at(-1)!.action).toBe('DescribeListeners');
  });

  it('a Modify that landed but whose answer was lost is read back and accepted', async () => {
    const listenerArn = elb.addListener([forward([[blue, 1]])]);
    elb.inject('ModifyListener', 'hang', { landed: true });
    const alb = albOf({ listenerArn }, { requestTimeoutMs: 500 });
    const out = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    await alb.route({ blue: 0, green: 100 });
    expect(elb.calls('ModifyListener')).toHaveLength(1);
    expect((await alb.read()).live).toBe('green');
    expect(out.mock.calls.map(([text]) => String(text)).join('')).toMatch(
      /::warning::.*ModifyListener .*no answer within 500 ms.*holds the weights asked for: the change landed/,
    );
  });

  it('a conflicting change (PriorRequestNotComplete 429) is sent again after the read-back; another refusal is not', async () => {
    const listenerArn = elb.addListener([forward([[blue, 1]])]);
    elb.inject('ModifyListener', 'PriorRequestNotComplete');
    const alb = albOf({ listenerArn });
    await alb.route({ blue: 0, green: 100 });
    expect(elb.calls('ModifyListener')).toHaveLength(2);
    elb.inject('ModifyListener', { status: 400, code: 'ResourceInUse', message: 'The listener is being modified' });
    await expect(alb.route({ blue: 100, green: 0 })).rejects.toThrow(
      /ModifyListener .*400 ResourceInUse: "The listener is being modified".*reads back: forwards to blue \(shop-blue\) weight 0, green \(shop-green\) weight 100; stickiness 300 s \(unchanged\)\.$/,
    );
    expect(elb.calls('ModifyListener')).toHaveLength(3);
  });

  it('a 500 on Modify is not re-sent; the message says what the listener holds', async () => {
    const listenerArn = elb.addListener([forward([[blue, 1]])]);
    elb.inject('ModifyListener', 'InternalFailure');
    await expect(albOf({ listenerArn }).route({ blue: 90, green: 10 })).rejects.toThrow(
      /500 InternalFailure.*internal error.*\(unchanged\)/,
    );
    expect(elb.calls('ModifyListener')).toHaveLength(1);
  });

  it('a throttled Modify is sent again only after the read-back shows it was not carried out', async () => {
    const listenerArn = elb.addListener([forward([[blue, 1]])]);
    elb.inject('ModifyListener', 'Throttling');
    const alb = albOf({ listenerArn });
    await alb.route({ blue: 90, green: 10 });
    expect(elb.calls('ModifyListener')).toHaveLength(2);
    const actions = elb.requests.map((r) => r.action);
    expect(actions.slice(actions.indexOf('ModifyListener'))).toEqual([
      'ModifyListener',
      'DescribeListeners',
      'ModifyListener',
      'DescribeListeners',
    ]);
    expect((await alb.read()).weights).toEqual({ blue: 90, green: 10 });
  });
});

describe('readAlbConfig', () => {
  const region = 'eu-west-1';
  const account = '123456789012';
  const listener = `arn:aws:elasticloadbalancing:${region}:${account}:listener/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2`;
  const rule = `arn:aws:elasticloadbalancing:${region}:${account}:listener-rule/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee`;
  const tg = (name: string, where = `${region}:${account}`) =>
    `arn:aws:elasticloadbalancing:${where}:targetgroup/${name}/73e2d6bc24d8a067`;
  const groups = `blue: ${tg('shop-blue')}\ngreen: ${tg('shop-green')}`;
  const read = (values: Record<string, string>) => readAlbConfig(new Inputs((name) => values[name]), ['blue', 'green']);

  it('reads a listener, the target groups (YAML map or one line) and the region of the ARN', () => {
    expect(read({ 'alb-listener-arn': listener, 'alb-target-groups': groups })).toEqual({
      listenerArn: listener,
      targetGroups: { blue: tg('shop-blue'), green: tg('shop-green') },
      colours: ['blue', 'green'],
      region,
    });
    const oneLine = read({
      'alb-rule-arn': rule,
      'alb-target-groups': `blue: ${tg('shop-blue')}, green: ${tg('shop-green')}`,
      'aws-region': region,
      'aws-endpoint': 'http://127.0.0.1:4566',
    });
    expect(oneLine).toMatchObject({ ruleArn: rule, region, endpoint: 'http://127.0.0.1:4566/' });
    expect(oneLine.targetGroups.green).toBe(tg('shop-green'));
  });

  const bad: [string, Record<string, string>, string, RegExp][] = [
    [
      'both ARNs',
      { 'alb-listener-arn': listener, 'alb-rule-arn': rule, 'alb-target-groups': groups },
      'alb-listener-arn',
      /both given/,
    ],
    ['neither ARN', { 'alb-target-groups': groups }, 'alb-listener-arn', /is required .* both were empty/],
    [
      'a target group as the listener',
      { 'alb-listener-arn': tg('x'), 'alb-target-groups': groups },
      'alb-listener-arn',
      /listener ARN, got a targetgroup ARN/,
    ],
    [
      'a rule as the listener',
      { 'alb-listener-arn': rule, 'alb-target-groups': groups },
      'alb-listener-arn',
      /give it as 'alb-rule-arn'/,
    ],
    [
      'not an ARN',
      { 'alb-listener-arn': 'shop-listener', 'alb-target-groups': groups },
      'alb-listener-arn',
      /listener ARN, got "shop-listener"/,
    ],
    [
      'a listener as the rule',
      { 'alb-rule-arn': listener, 'alb-target-groups': groups },
      'alb-rule-arn',
      /listener-rule ARN, got a listener ARN/,
    ],
    ['no target groups', { 'alb-listener-arn': listener }, 'alb-target-groups', /is required/],
    [
      'a colour missing',
      { 'alb-listener-arn': listener, 'alb-target-groups': `blue: ${tg('b')}` },
      'alb-target-groups',
      /no target group for green/,
    ],
    [
      'a colour not of the pair',
      { 'alb-listener-arn': listener, 'alb-target-groups': `${groups}\nred: ${tg('r')}` },
      'alb-target-groups',
      /"red", which is not one of the colours/,
    ],
    [
      'a listener ARN as a target group',
      { 'alb-listener-arn': listener, 'alb-target-groups': `blue: ${listener}\ngreen: ${tg('g')}` },
      'alb-target-groups',
      /targetgroup ARN, got a listener ARN/,
    ],
    [
      'the same target group twice',
      { 'alb-listener-arn': listener, 'alb-target-groups': `blue: ${tg('s')}\ngreen: ${tg('s')}` },
      'alb-target-groups',
      /the same target group/,
    ],
    [
      'a target group in another region',
      {
        'alb-listener-arn': listener,
        'alb-target-groups': `blue: ${tg('b', `us-east-1:${account}`)}\ngreen: ${tg('g')}`,
      },
      'alb-target-groups',
      /in us-east-1\/123456789012.*own region and account/,
    ],
    [
      'not a map',
      { 'alb-listener-arn': listener, 'alb-target-groups': '- a\n- b' },
      'alb-target-groups',
      /is not valid/,
    ],
    [
      'a region other than the ARN’s',
      { 'alb-listener-arn': listener, 'alb-target-groups': groups, 'aws-region': 'us-east-1' },
      'aws-region',
      /is "us-east-1" but the alb-listener-arn is in eu-west-1/,
    ],
    [
      'an endpoint that is not a URL',
      { 'alb-listener-arn': listener, 'alb-target-groups': groups, 'aws-endpoint': 'elb.local' },
      'aws-endpoint',
      /absolute URL/,
    ],
  ];
  it.each(bad)('rejects %s with an InputError naming the input', (_, values, input, pattern) => {
    expectSettingsInputError(() => read(values), input, pattern, []);
  });
});
