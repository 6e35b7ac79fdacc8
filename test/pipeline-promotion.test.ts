// The pipeline's promotion step (gh api and jq inside pipeline.yml), run as it ships against the
// fake GitHub API: a digest is promoted only when the environment before holds a deployment
// record of it, made by the workflow's token, whose newest own status is success and that no
// rollback undid.
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createGitHubClient, type GitHubClient } from '../packages/github/src/index.ts';
import {
  createDeploymentRecord,
  setDeploymentStatus,
  type DeploymentState,
} from '../packages/record/src/deployment-record.ts';
import { FakeGitHub } from './fakes/github.ts';
import { switchRecordPayload } from './helpers/deployment-records.ts';
import { runWorkflowStep, stepScript, type StepRun } from './helpers/workflow-step.ts';

const script = stepScript('.github/workflows/pipeline.yml', 'check', 'promotion');

const OWNER = 'acme';
const repo = 'shop';
const BOT = 'github-actions[bot]';
const BOT_TOKEN = 'ghs_workflowtoken00000000000000000000000';
const DIGEST = `sha256:${'ab'.repeat(32)}`;
const SHA = 'c'.repeat(40);
let github: FakeGitHub;
let bot: GitHubClient;
let mallory: GitHubClient;
let bin: string;

// A fake GitHub per test: its deployments list is the whole fake's, whatever the repository.
beforeEach(async () => {
  github = await FakeGitHub.start();
  github.addUser(BOT, BOT_TOKEN).addUser('mallory', 'ghp_mallory000000000000000000000000000000');
  bot = createGitHubClient({ token: BOT_TOKEN, baseUrl: github.url, retries: 0, minWriteIntervalMs: 0 });
  mallory = createGitHubClient({
    token: 'ghp_mallory000000000000000000000000000000',
    baseUrl: github.url,
    retries: 0,
    minWriteIntervalMs: 0,
  });
});
afterEach(() => github.close());

beforeAll(() => {
  // `gh api` as the step calls it, against the fake: the method, the path, -f fields as the
  // query of a GET, and --jq applied by jq with raw output, as gh prints it.
  bin = mkdtempSync(join(tmpdir(), 'fake-gh-'));
  writeFileSync(
    join(bin, 'gh'),
    `#!/usr/bin/env node
const { execFileSync } = require('node:child_process');
const args = process.argv.slice(3);
let method = 'GET', path, jq;
const fields = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--method') method = args[++i];
  else if (args[i] === '-f') fields.push(args[++i]);
  else if (args[i] === '--jq') jq = args[++i];
  else path = args[i];
}
const url = new URL(process.env.FAKE_GH_API + '/' + path);
for (const field of fields) { const at = field.indexOf('='); url.searchParams.set(field.slice(0, at), field.slice(at + 1)); }
fetch(url, { method, headers: { authorization: 'token ' + process.env.GH_TOKEN } }).then(async (response) => {
  const body = await response.text();
  if (!response.ok) { process.stderr.write(body); process.exit(1); }
  process.stdout.write(jq === undefined ? body : execFileSync('jq', ['-r', jq], { input: body }));
});
`,
  );
  chmodSync(join(bin, 'gh'), 0o755);
});

async function record(
  environment: string,
  options: { digest?: string; statuses?: [DeploymentState, GitHubClient?][]; rolledBack?: number; by?: GitHubClient },
): Promise<number> {
  const id = await createDeploymentRecord(
    options.by ?? bot,
    { owner: OWNER, repo },
    {
      environment,
      payload: switchRecordPayload({
        sha: SHA,
        artifactDigest: options.digest ?? DIGEST,
        rolledBack: options.rolledBack ?? null,
      }),
      description: 'switching',
      logUrl: undefined,
    },
  );
  for (const [state, by] of options.statuses ?? [])
    await setDeploymentStatus(by ?? bot, { owner: OWNER, repo }, id, state, state);
  return id;
}

function promote(environment = 'production'): Promise<StepRun> {
  return runWorkflowStep(script, {
    PATH: `${bin}:${process.env.PATH ?? ''}`,
    GH_TOKEN: BOT_TOKEN,
    FAKE_GH_API: github.url,
    REPOSITORY: `${OWNER}/${repo}`,
    ENVIRONMENT: environment,
    FIRST_REGION: '',
    DIGEST,
  });
}

describe("the pipeline's promotion check", () => {
  it("promotes a digest that succeeded in staging, with that record's commit", async () => {
    await record('staging', { statuses: [['success']] });
    const run = await promote();
    expect(run.log).toContain('ran successfully in staging');
    expect(run.status).toBe(0);
    expect(run.outputs.sha).toBe(SHA);
  });

  it.each([
    [
      'no record of the digest in staging',
      async () => record('staging', { digest: `sha256:${'cd'.repeat(32)}`, statuses: [['success']] }),
    ],
    ['a record only in development', async () => record('development', { statuses: [['success']] })],
    ['a success followed by a failure', async () => record('staging', { statuses: [['success'], ['failure']] })],
    ['a success posted by someone else', async () => record('staging', { statuses: [['success', mallory]] })],
    ['a record someone else made', async () => record('staging', { statuses: [['success', mallory]], by: mallory })],
    [
      'a record a rollback undid',
      async () => {
        const id = await record('staging', { statuses: [['success']] });
        await record('staging', { rolledBack: id, statuses: [['success']] });
      },
    ],
  ])('refuses %s', async (_what, arrange) => {
    await arrange();
    const run = await promote();
    expect(run.status).not.toBe(0);
    expect(run.log).toContain('has no successful deployment in staging');
    expect(run.outputs.sha).toBeUndefined();
  });
});
