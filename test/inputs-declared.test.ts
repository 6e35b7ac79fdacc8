// Every input an action's readSettings reads is declared in its action.yml, every declared input
// is read, and every `default:` in action.yml means what the code does when the input is unset —
// found by recording which names Inputs is asked for, and what it returns for each unset one.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import * as age from 'age-encryption';
import { Inputs } from '../packages/kit/src/index.ts';
import { readActionMetadata } from '../scripts/actions.ts';
import { repoRoot } from './helpers/run-action.ts';

type Values = Record<string, string>;
type ReadSettings = (inputs: Inputs) => unknown;

/** Inputs read with a fallback that depends on other inputs: action.yml cannot state it as one value. */
const DEPENDENT_DEFAULTS: Record<string, Record<string, string>> = {
  'db-backup': {
    'compression-level': "the level's default depends on compression (zstd 3, gzip 6); action.yml says so in words",
    'target-database': 'defaults to the database being backed up or restored',
  },
  migrate: {},
  'deployment-metrics': {},
  'smoke-test': {},
  'approval-gate': {
    'continue-ref': "defaults to the repository's default branch, from the event",
  },
  'blue-green-switch': {},
  'notify-stakeholders': {
    'smtp-port': 'defaults to 465 for smtp-security tls, 587 otherwise; action.yml says so in words',
  },
  'verify-checklist': {
    'waiver-roles': 'defaults to admin and maintain; action.yml says so in words',
  },
};

interface Read {
  method: string;
  name: string;
  args: unknown[];
  result: unknown;
}

/** An Inputs over `values` that records the names asked for and each outermost typed read. */
function recordingInputs(values: Values): { inputs: Inputs; asked: Set<string>; reads: Read[] } {
  const asked = new Set<string>();
  const reads: Read[] = [];
  const inputs = new Inputs((name) => {
    asked.add(name);
    return values[name];
  });
  let depth = 0;
  const methods = Object.getOwnPropertyNames(Inputs.prototype).filter((m) => m !== 'constructor');
  for (const method of methods) {
    const original = (Inputs.prototype as unknown as Record<string, (...args: unknown[]) => unknown>)[method]!;
    Object.defineProperty(inputs, method, {
      value: (...args: unknown[]) => {
        depth++;
        try {
          const result = original.apply(inputs, args);
          if (depth === 1) reads.push({ method, name: String(args[0]), args, result });
          return result;
        } finally {
          depth--;
        }
      },
    });
  }
  return { inputs, asked, reads };
}

/** What the same typed read returns when the input holds `text` (action.yml's default). */
function readWith(read: Read, text: string): unknown {
  const inputs = new Inputs((name) => (name === read.name ? text : undefined));
  return (inputs as unknown as Record<string, (...args: unknown[]) => unknown>)[read.method]!(...read.args);
}

/** Typed reads whose result for an unset input is the code's fallback. */
const WITH_FALLBACK = new Set(['string', 'boolean', 'integer', 'number', 'duration', 'oneOf']);

let scenarios: Record<string, Values[]>;
beforeAll(async () => {
  const folder = mkdtempSync(join(tmpdir(), 'inputs-declared-'));
  const checksFile = join(folder, 'checks.yml');
  writeFileSync(checksFile, '- name: health\n  url: https://service.example.com/health\n');
  const kubeconfigFile = join(folder, 'kubeconfig');
  writeFileSync(
    kubeconfigFile,
    'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n',
  );
  const targetGroup = (name: string) =>
    `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/${name}/73e2d6bc24d8a067`;
  const checklistFile = join(folder, 'deploy-checklist.yml');
  writeFileSync(checklistFile, 'items:\n  task-list: true\n');
  const policyFile = join(folder, 'policy.yml');
  writeFileSync(policyFile, 'time-zone: Europe/Berlin\n');
  writeFileSync(join(folder, 'routing.yml'), 'routes:\n  - to: [email]\n');
  process.env.GITHUB_REPOSITORY ??= 'acme/service';
  process.env.GITHUB_SHA ??= '0123456789abcdef0123456789abcdef01234567';
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const signingKey = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const verifyKey = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const identity = await age.generateIdentity();
  const recipient = await age.identityToRecipient(identity);
  const url = 'postgres://deployer@127.0.0.1:5432/shop';
  scenarios = {
    'smoke-test': [
      { checks: '- name: health\n  url: /health', 'base-url': 'https://service.example.com' },
      {
        'checks-file': checksFile,
        metrics: '- name: errors\n  query: sum(rate(errors_total[$window]))\n  fail-above: 0.05',
        'prometheus-url': 'https://prometheus.example.com',
        'prometheus-token': 'token-123',
        'junit-path': join(folder, 'junit.xml'),
      },
    ],
    'db-backup': [
      { 'database-url': url, store: folder, recipients: recipient, 'signing-key': signingKey },
      {
        engine: 'postgres',
        user: 'deployer',
        database: 'shop',
        store: 's3://backups/shop',
        'aws-access-key-id': 'AKIAEXAMPLE',
        'aws-secret-access-key': 'secret-key',
        's3-endpoint': 'http://127.0.0.1:9000',
        passphrase: 'a long passphrase',
        'signing-key': signingKey,
      },
      {
        command: 'restore',
        'database-url': url,
        store: 'azure://backups/shop',
        'azure-connection-string':
          'DefaultEndpointsProtocol=https;AccountName=a;AccountKey=a2V5;EndpointSuffix=core.windows.net',
        'verify-key': verifyKey,
        identity,
        'target-database': 'shop_copy',
      },
      { command: 'list', 'database-url': url, store: folder, 'verify-key': verifyKey, compression: 'none' },
      {
        command: 'restore',
        method: 'physical',
        'database-url': url,
        type: 'incr',
        'target-time': '2026-01-02T03:04:05+01:00',
        'target-data-dir': '/var/lib/postgresql/restored',
        confirm: '/var/lib/postgresql/restored',
        'pgbackrest-repo': '/var/lib/pgbackrest',
        'pgbackrest-stanza': 'shop',
        'repo-passphrase': 'a long repository passphrase',
        'pg-data': '/var/lib/postgresql/16/main',
        'pg-socket': '/var/run/postgresql',
        'run-as': 'postgres',
      },
      {
        method: 'physical',
        'database-url': 'mysql://backup@127.0.0.1:3306/shop',
        store: folder,
        recipients: recipient,
        'signing-key': signingKey,
        type: 'incremental',
        'binlog-dir': '/var/lib/mysql',
      },
    ],
    'approval-gate': [
      {
        'github-token': 'ghs_token',
        'token-login': 'deploy-app[bot]',
        environment: 'production',
        approvers: 'alice, acme/leads',
        mode: 'wait',
        sha: 'a'.repeat(40),
        'change-key': 'production@release-42',
        'artifact-digest': `sha256:${'0'.repeat(64)}`,
        'migration-plan-hash': '1'.repeat(64),
        'checklist-evidence': '{"passed":true}',
        'migration-pending': '[]',
        'migration-lint': '[]',
        'base-sha': 'c'.repeat(40),
        'rollback-backup-id': 'shop-1',
        'rollback-backup-verified': 'true',
        'previous-colour': 'blue',
        'previous-colour-running': 'true',
        'rollback-plan': 'switch back to blue',
        'change-author': 'dev',
        policy: 'time-zone: UTC',
        'outside-window': 'wait',
        'minimum-approvals': '1',
        'approve-keywords': 'ok',
        'deny-keywords': 'no',
        timeout: '2h',
        'poll-interval': '30s',
      },
      { 'github-token': 'ghs_token', environment: 'staging', 'change-type': 'standard', 'policy-file': policyFile },
      {
        command: 'decide',
        'github-token': 'ghs_token',
        approvers: 'alice',
        'continue-workflow': 'deploy.yml',
        'continue-ref': 'main',
        'change-request': '3',
      },
      {
        command: 'record-outcome',
        'github-token': 'ghs_token',
        'change-request': '3',
        outcome: 'succeeded',
        'outcome-detail': 'all green',
      },
    ],
    'blue-green-switch': [
      {
        provider: 'nginx',
        environment: 'production',
        colours: 'blue, green',
        to: 'green',
        weights: '10, 50, 100',
        'step-pause': '5s',
        'health-urls': 'blue: http://127.0.0.1:8081/health\ngreen: http://127.0.0.1:8082/health',
        'health-timeout': '30s',
        'check-timeout': '2s',
        'live-url': 'https://shop.example.com/version',
        'verify-header': 'x-slot',
        'verify-timeout': '20s',
        'auto-rollback': 'false',
        'github-token': 'ghs_token',
        'token-login': 'deploy-app[bot]',
        sha: 'a'.repeat(40),
        'artifact-digest': `sha256:${'0'.repeat(64)}`,
        service: 'shop',
        'change-request': '42',
        'nginx-include': '/etc/nginx/conf.d/shop-live.conf',
        'nginx-upstream': 'shop_live',
        'nginx-servers': 'blue: 127.0.0.1:8081\ngreen: 127.0.0.1:8082',
        'nginx-conf': '/etc/nginx/nginx.conf',
        'nginx-binary': '/usr/sbin/nginx',
        'ssh-host': 'deploy@lb1.example.com',
        'ssh-port': '2222',
        'ssh-key': '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----',
        'ssh-known-hosts': 'lb1.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFake',
        'command-timeout': '1m',
      },
      {
        provider: 'command',
        command: 'rollback',
        environment: 'production',
        'github-token': 'ghs_token',
        'live-url': 'https://shop.example.com/version',
        'verify-body': 'colour={colour}',
        'deployment-id': '12345',
        force: 'true',
        'status-command': './live.sh',
        'switch-command': './switch.sh',
        'rollback-command': './rollback.sh',
        'readiness-command': './ready.sh',
        'command-supports-weights': 'true',
      },
      {
        provider: 'nginx',
        environment: 'staging',
        'github-token': 'ghs_token',
        to: 'blue',
        'health-urls': 'blue: http://127.0.0.1:8081/health\ngreen: http://127.0.0.1:8082/health',
        'live-url': 'https://shop.example.com/version',
        'nginx-include': '/etc/nginx/conf.d/shop-live.conf',
        'nginx-servers': 'blue: 127.0.0.1:8081\ngreen: 127.0.0.1:8082',
      },
      {
        provider: 'command',
        command: 'status',
        environment: 'staging',
        'github-token': 'ghs_token',
        'status-command': 'a',
        'switch-command': 'b',
      },
      {
        provider: 'kubernetes',
        command: 'status',
        environment: 'staging',
        'github-token': 'ghs_token',
        'kubernetes-service': 'shop',
        kubeconfig: kubeconfigFile,
      },
      {
        provider: 'kubernetes',
        command: 'status',
        environment: 'production',
        'github-token': 'ghs_token',
        'rollback-window': '12h',
        'kubernetes-namespace': 'shop',
        'kubernetes-service': 'shop',
        'kubernetes-selector-key': 'slot',
        'kubernetes-deployments': 'blue: shop-blue, green: shop-green',
        kubeconfig: kubeconfigFile,
      },
      {
        provider: 'aws-alb',
        command: 'status',
        environment: 'production',
        'github-token': 'ghs_token',
        'alb-listener-arn':
          'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2',
        'alb-target-groups': `blue: ${targetGroup('shop-blue')}\ngreen: ${targetGroup('shop-green')}`,
        'aws-region': 'eu-west-1',
        'aws-endpoint': 'https://elasticloadbalancing.eu-west-1.amazonaws.com',
      },
      {
        provider: 'aws-alb',
        command: 'status',
        environment: 'production',
        'github-token': 'ghs_token',
        'alb-rule-arn':
          'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee',
        'alb-target-groups': `blue: ${targetGroup('shop-blue')}\ngreen: ${targetGroup('shop-green')}`,
      },
    ],
    'verify-checklist': [
      {
        environment: 'production',
        'github-token': 'ghs_token',
        rules: 'items:\n  tests-passing: true\n  backup-ready: { max-age: 24h }',
        ref: 'main',
        'artifact-digest': `sha256:${'0'.repeat(64)}`,
        backups: '[]',
        policy: 'time-zone: UTC',
        'waiver-roles': 'admin',
      },
      {
        environment: 'staging',
        'github-token': 'ghs_token',
        'rules-file': checklistFile,
        'policy-file': policyFile,
      },
    ],
    'deployment-metrics': [
      {
        'github-token': 'ghs_token',
        repository: 'acme/shop',
        environments: 'staging, production',
        window: '30d',
        author: 'github-actions[bot]',
        'json-file': join(folder, 'dora.json'),
        'prometheus-file': join(folder, 'dora.prom'),
        'pushgateway-url': 'https://pushgateway.example.com',
        'pushgateway-job': 'dora',
        'pushgateway-token': 'token-123',
      },
      { 'github-token': 'ghs_token' },
    ],
    'notify-stakeholders': [
      {
        status: 'failed',
        environment: 'production',
        service: 'shop',
        version: 'v1.2.3',
        sha: '0123456789abcdef0123456789abcdef01234567',
        'change-type': 'normal',
        title: 'Faster checkout',
        impact: 'none visible',
        details: 'step 4 failed',
        approvers: 'alice, bob',
        'backup-id': '20261127T100000Z-abcd',
        'plan-hash': `sha256:${'1'.repeat(64)}`,
        'smoke-verdict': 'fail',
        severity: 'critical',
        links: 'Dashboard=https://grafana.example.com/d/shop',
        template: '{{service}} {{status}}',
        routing: 'routes:\n  - to: [slack]',
        policy: 'time-zone: UTC',
        'thread-key': 'production-shop',
        thread: JSON.stringify({ version: 1, key: 'production-shop', startedAt: '2026-11-27T10:00:00Z', stages: [] }),
        'keep-thread': 'false',
        'github-token': 'ghs_token',
        'github-comment': 'commit',
        'pull-request': '7',
        'change-request': '12',
        'slack-token': 'xoxb-1-2-3',
        'slack-channel': '#deploys',
        'slack-api-url': 'https://slack.example.com/api/',
        'slack-webhook-url': 'https://hooks.slack.com/services/T0/B0/secret',
        'teams-webhook-url':
          'https://prod-01.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=s1',
        'smtp-host': 'smtp.example.com',
        'smtp-port': '2525',
        'smtp-security': 'tls',
        'smtp-username': 'deployer',
        'smtp-password': 'mail-password',
        'smtp-ca-file': policyFile,
        'email-from': 'deploys@example.com',
        'email-to': 'ops@example.com, product@example.com',
        'webhook-url': 'https://hooks.example.com/deploys',
        'webhook-secret': 'a-webhook-secret-of-some-length',
        'webhook-ca-file': policyFile,
        'pagerduty-routing-key': '0123456789abcdef0123456789abcdef',
        'pagerduty-api-url': 'https://events.eu.pagerduty.com',
        'grafana-url': 'https://grafana.example.com',
        'grafana-token': 'glsa_token',
        'grafana-dashboard-uid': 'deploys',
        'grafana-ca-file': policyFile,
        'fail-on-error': 'true',
        timeout: '90s',
      },
      {
        status: 'scheduled',
        environment: 'staging',
        'window-start': '2026-12-06T02:00:00+01:00',
        'window-end': '2026-12-06T04:00:00+01:00',
        'routing-file': policyFile.replace('policy.yml', 'routing.yml'),
        'policy-file': policyFile,
        'smtp-host': '127.0.0.1',
        'email-from': 'deploys@example.com',
        'email-to': 'ops@example.com',
      },
    ],
    migrate: [
      { command: 'plan', folder, 'database-url': url },
      { command: 'repair', folder, 'database-url': url, 'repair-version': '3', phase: 'expand' },
      {
        command: 'apply',
        folder,
        'database-url': url,
        phase: 'contract',
        'deployment-id': '42',
        'github-token': 'ghs_token',
      },
      { command: 'baseline', folder, engine: 'mysql', user: 'deployer', database: 'shop', 'target-version': '12' },
    ],
  };
});

describe.each([
  'approval-gate',
  'blue-green-switch',
  'db-backup',
  'deployment-metrics',
  'migrate',
  'notify-stakeholders',
  'smoke-test',
  'verify-checklist',
])('%s: action.yml and readSettings agree', (action) => {
  const meta = readActionMetadata(join(repoRoot, 'actions', action));
  const declared = meta.inputs ?? {};
  let asked: Set<string>;
  let reads: Read[];
  let unset: Read[];

  beforeAll(async () => {
    const { readSettings } = (await import(`../actions/${action}/src/settings.ts`)) as { readSettings: ReadSettings };
    asked = new Set();
    reads = [];
    unset = [];
    for (const values of scenarios[action]!) {
      const recorder = recordingInputs(values);
      // A scenario must be valid, or it stops before reading the rest.
      const settings = readSettings(recorder.inputs) as { provider?: string; colours?: [string, string] };
      // blue-green-switch reads its router's own inputs when it loads that router.
      if (action === 'blue-green-switch') {
        const { loadProvider } = (await import('../actions/blue-green-switch/src/providers.ts')) as {
          loadProvider: (name: string, inputs: Inputs, colours: [string, string]) => Promise<{ cleanUp: () => void }>;
        };
        (await loadProvider(settings.provider!, recorder.inputs, settings.colours!)).cleanUp();
      }
      for (const name of recorder.asked) asked.add(name);
      reads.push(...recorder.reads);
      unset.push(...recorder.reads.filter((read) => values[read.name] === undefined));
    }
  });

  const problems = (): string[] => {
    const found: string[] = [];
    for (const name of asked) if (!(name in declared)) found.push(`reads '${name}', which action.yml does not declare`);
    for (const name of Object.keys(declared))
      if (!asked.has(name)) found.push(`declares '${name}', which readSettings never reads`);
    const dependent = DEPENDENT_DEFAULTS[action] ?? {};
    for (const read of unset) {
      const yml = declared[read.name]?.default;
      // The runner evaluates an expression default (${{ github.token }}), so the code always gets a value.
      if (yml?.startsWith('${{')) continue;
      if (read.name in dependent) {
        if (yml !== undefined && yml !== '')
          found.push(`'${read.name}' has a default that depends on other inputs, but action.yml fixes it to "${yml}"`);
        continue;
      }
      const codeHasFallback = WITH_FALLBACK.has(read.method) && read.result !== undefined;
      if (!codeHasFallback) {
        if (yml !== undefined && yml !== '')
          found.push(`'${read.name}': action.yml defaults to "${yml}", the code reads nothing when it is unset`);
      } else if (yml === undefined || yml === '') {
        found.push(
          `'${read.name}': the code falls back to ${JSON.stringify(read.result)}, action.yml declares no default`,
        );
      } else {
        let fromYml: unknown;
        try {
          fromYml = readWith(read, yml);
        } catch (error) {
          fromYml = `an error: ${(error as Error).message}`;
        }
        if (JSON.stringify(fromYml) !== JSON.stringify(read.result))
          found.push(
            `'${read.name}': action.yml's default "${yml}" reads as ${JSON.stringify(fromYml)}, the code's fallback is ${JSON.stringify(read.result)}`,
          );
      }
    }
    return [...new Set(found)].sort();
  };

  it('finds the typed reads it checks', () => {
    expect(reads.length).toBeGreaterThan(5);
  });

  it('reads only declared inputs, reads every declared one, and its defaults match the code', () => {
    expect(problems()).toEqual([]);
  });

  it('checks every default action.yml declares against the code', () => {
    const checked = new Set(unset.map((read) => read.name));
    const unchecked = Object.entries(declared)
      .filter(([name, spec]) => spec.default !== undefined && spec.default !== '' && !checked.has(name))
      .filter(([, spec]) => !spec.default!.startsWith('${{'))
      .map(([name]) => name);
    expect(unchecked).toEqual([]);
  });

  it('the allow-list names only inputs that exist', () => {
    for (const name of Object.keys(DEPENDENT_DEFAULTS[action] ?? {})) expect(Object.keys(declared)).toContain(name);
  });
});
