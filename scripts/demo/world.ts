// The local parts the demo's pipeline runs against, and the state it keeps between runs.
//
// Real: PostgreSQL (one database per environment), nginx in front of a blue and a green colour of
// the sample service per environment, Prometheus scraping every colour, an SMTP server with
// STARTTLS. Fakes speaking the real protocol on loopback: the GitHub REST API (change requests,
// deployment records, check runs, pull requests; a scripted approver comments through it) and
// the Slack Web API. State kept in the state folder between runs: the GitHub records, which colour
// is live in each environment and what each colour runs, the backup stores and the keys.
import { generateKeyPairSync } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as age from 'age-encryption';
import { FakeGitHub, type FakeIssue } from '../../test/fakes/github.ts';
import { FakeChecks } from '../../test/fakes/github-checks.ts';
import { FakePulls } from '../../test/fakes/github-pulls.ts';
import { FakeSlack } from '../../test/fakes/slack.ts';
import { pgQuery } from '../../test/helpers/databases.ts';
import { NginxRouter } from '../../test/helpers/nginx.ts';
import { PrometheusServer } from '../../test/helpers/prometheus.ts';
import { TestSmtpServer } from '../../test/helpers/smtp.ts';
import { SampleService, Traffic, type Release } from './service.ts';

export const OWNER = 'acme';
export const REPO = 'shop';
export const ENVIRONMENTS = ['development', 'staging', 'production'] as const;
type Colour = 'blue' | 'green';

export interface DemoEnvironment {
  name: string;
  database: string;
  store: string;
  nginx: NginxRouter;
  colours: Record<Colour, SampleService>;
  traffic: Traffic;
}

interface SavedState {
  releases: number;
  github?: string;
  environments: Record<string, { live: Colour; colours: Partial<Record<Colour, Release>> }>;
  keys?: { signingKey: string; verifyKey: string; identity: string; recipient: string };
}

/** What the demo needs on this machine, with how to get each. */
export function missingParts(): string[] {
  const missing: string[] = [];
  const has = (command: string) => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
  for (const [command, hint] of [
    ['nginx', 'apt-get install nginx'],
    ['prometheus', 'apt-get install prometheus'],
    ['pg_dump', 'apt-get install postgresql-client'],
    ['pg_restore', 'apt-get install postgresql-client'],
    ['psql', 'apt-get install postgresql-client'],
  ] as const) {
    if (!has(command)) missing.push(`${command} (${hint})`);
  }
  return missing;
}

export class DemoWorld {
  readonly login = 'github-actions[bot]';
  readonly token = 'ghs_demoworkflowtoken00000000000000000000';
  readonly environments = new Map<string, DemoEnvironment>();
  smtpCaFile = '';

  readonly stateDir: string;
  readonly state: SavedState;
  readonly github: FakeGitHub;
  readonly checks: FakeChecks;
  readonly pulls: FakePulls;
  readonly slack: FakeSlack;
  readonly smtp: TestSmtpServer;
  readonly prometheus: PrometheusServer;
  readonly keys: NonNullable<SavedState['keys']>;

  private constructor(parts: {
    stateDir: string;
    state: SavedState;
    github: FakeGitHub;
    checks: FakeChecks;
    pulls: FakePulls;
    slack: FakeSlack;
    smtp: TestSmtpServer;
    prometheus: PrometheusServer;
    keys: NonNullable<SavedState['keys']>;
  }) {
    this.stateDir = parts.stateDir;
    this.state = parts.state;
    this.github = parts.github;
    this.checks = parts.checks;
    this.pulls = parts.pulls;
    this.slack = parts.slack;
    this.smtp = parts.smtp;
    this.prometheus = parts.prometheus;
    this.keys = parts.keys;
  }

  static async start(stateDir: string): Promise<DemoWorld> {
    mkdirSync(stateDir, { recursive: true });
    const statePath = join(stateDir, 'state.json');
    const state: SavedState = existsSync(statePath)
      ? (JSON.parse(readFileSync(statePath, 'utf8')) as SavedState)
      : { releases: 0, environments: {} };
    const keys = state.keys ?? (await newKeys());
    state.keys = keys;

    // What has started so far, stopped again if a later part fails to start.
    const started: (() => Promise<void> | void)[] = [];
    try {
      return await DemoWorld.startParts(stateDir, state, keys, started);
    } catch (error) {
      for (const stop of started.reverse()) await Promise.resolve(stop()).catch(() => undefined);
      throw error;
    }
  }

  private static async startParts(
    stateDir: string,
    state: SavedState,
    keys: NonNullable<SavedState['keys']>,
    started: (() => Promise<void> | void)[],
  ): Promise<DemoWorld> {
    const [github, slack, smtp] = await Promise.all([
      FakeGitHub.start(),
      FakeSlack.start(),
      TestSmtpServer.start({ tls: 'starttls' }),
    ]);
    started.push(
      () => github.close(),
      () => slack.close(),
      () => smtp.close(),
    );
    if (state.github !== undefined) github.restore(state.github);
    const checks = new FakeChecks(github);
    const pulls = new FakePulls(github, { owner: OWNER, repo: REPO });

    const environments: DemoEnvironment[] = [];
    for (const name of ENVIRONMENTS) {
      // Before the first run, blue serves v1.0.0, deployed before the suite was used.
      const saved = (state.environments[name] ??= {
        live: 'blue',
        colours: { blue: { version: 'v1.0.0', digest: `sha256:${'0'.repeat(64)}`, faulty: false } },
      });
      const database = `demo_shop_${name}`;
      // A new state folder starts from new databases: their schema belongs to the releases it records.
      if (state.releases === 0) await pgQuery('postgres', `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      const exists = await pgQuery('postgres', 'SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      if (exists.rowCount === 0) await pgQuery('postgres', `CREATE DATABASE ${database}`);
      const colours = {
        blue: await SampleService.start(name, 'blue', saved.colours.blue),
        green: await SampleService.start(name, 'green', saved.colours.green),
      };
      started.push(
        () => colours.blue.close(),
        () => colours.green.close(),
      );
      const nginx = await NginxRouter.start(colours[saved.live].address);
      started.push(() => nginx.stop());
      const store = join(stateDir, 'backups', name);
      mkdirSync(store, { recursive: true });
      const traffic = new Traffic(`${nginx.url}/api/orders`);
      started.push(() => traffic.stop());
      environments.push({ name, database, store, nginx, colours, traffic });
    }
    const prometheus = await PrometheusServer.start(
      environments.flatMap((e) => [new URL(e.colours.blue.url), new URL(e.colours.green.url)]),
    );
    const world = new DemoWorld({ stateDir, state, github, checks, pulls, slack, smtp, prometheus, keys });
    for (const environment of environments) world.environments.set(environment.name, environment);
    world.smtpCaFile = join(stateDir, 'smtp-ca.pem');
    writeFileSync(world.smtpCaFile, smtp.ca);

    github.addUser(world.login, world.token);
    for (const login of ['alice', 'bob', 'dev', 'oncall']) github.setRole(OWNER, REPO, login, 'write');
    for (const login of ['alice', 'bob', 'dev', 'oncall']) github.addUser(login, `ghp_demo${login.padEnd(32, '0')}`);
    return world;
  }

  environment(name: string): DemoEnvironment {
    return this.environments.get(name)!;
  }

  /**
   * The people who approve: they watch for the change request of this SHA in this environment and
   * each comment `approve <evidence hash>` on it, as the request tells them to. Resolves once they
   * have (or after a minute, when no request came: the gate then times out and says so).
   */
  async scriptApprovers(environment: string, sha: string, approvers: string[]): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const request = (this.github.issues.get(`${OWNER}/${REPO}`) ?? []).find(
        (issue) =>
          issue.user?.login === this.login &&
          issue.state === 'open' &&
          hasLabel(issue, `env:${environment}`) &&
          (issue.body ?? '').includes(sha),
      );
      const hash = /approve (sha256:[0-9a-f]{64})/.exec(request?.body ?? '')?.[1];
      if (request !== undefined && hash !== undefined) {
        await new Promise((resolve) => setTimeout(resolve, 1500));
        for (const login of approvers) {
          this.github.addComment(OWNER, REPO, request.number, { login, body: `approve ${hash}` });
          console.log(`      ${login} comments on change request #${request.number}: approve ${hash.slice(0, 19)}…`);
        }
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  }

  /** Which colour serves an environment now (the pipeline reports it after each deployment). */
  setLive(name: string, colour: string): void {
    if (colour === 'blue' || colour === 'green') this.state.environments[name]!.live = colour;
  }

  /** Keeps the state for the next run: the GitHub records, each router's live colour, each colour's release. */
  save(): void {
    for (const [name, stage] of this.environments) {
      this.state.environments[name] = {
        live: this.state.environments[name]!.live,
        colours: { blue: stage.colours.blue.release, green: stage.colours.green.release },
      };
    }
    this.state.github = this.github.snapshot();
    writeFileSync(join(this.stateDir, 'state.json'), JSON.stringify(this.state, null, 2));
  }

  async close(): Promise<void> {
    for (const stage of this.environments.values()) await stage.traffic.stop();
    await this.prometheus.stop();
    for (const stage of this.environments.values()) {
      stage.nginx.stop();
      await Promise.all([stage.colours.blue.close(), stage.colours.green.close()]);
    }
    await Promise.all([this.github.close(), this.slack.close(), this.smtp.close()]);
  }
}

/** Whether an issue carries a label (GitHub gives labels as names or as objects). */
export function hasLabel(issue: FakeIssue, name: string): boolean {
  return issue.labels.some((label) => (typeof label === 'string' ? label : label.name) === name);
}

async function newKeys(): Promise<NonNullable<SavedState['keys']>> {
  const identity = await age.generateIdentity();
  const recipient = await age.identityToRecipient(identity);
  // The manifest-signing key pair: the backup job holds the private key, restores pin the public one.
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    identity,
    recipient,
    signingKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    verifyKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}
