// Each class of failure, run the way the runner runs an action (its built dist/index.js with
// INPUT_* variables): what the user can fix (an input, a closed gate) and what a remote did are
// expected failures that print one clear ::error:: line and no stack; a bug keeps its stack.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseSigningKey } from '../packages/storage/src/signing.ts';
import { TEST_KEYS, tempDir } from '../actions/db-backup/test/helpers.ts';
import { createPgDatabase, dropPgDatabase, pgQuery, uniqueName } from './helpers/databases.ts';
import { TestServer } from './helpers/http-server.ts';
import { runBuiltAction, type ActionRun } from './helpers/run-action.ts';

/** The lines that fail the step: ::error:: without a title (titled ones are a check's findings). */
const stepErrors = (run: ActionRun): string[] => run.log.split('\n').filter((line) => line.startsWith('::error::'));
/** A printed stack frame, as V8 writes it. */
const STACK_FRAME = /^\s+at .+(\(|:\d+:\d+)/m;

function expectExpectedFailure(run: ActionRun, message: RegExp): void {
  expect(run.exitCode).toBe(1);
  const errors = stepErrors(run);
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatch(message);
  expect(run.log).not.toMatch(STACK_FRAME);
  expect(run.log).not.toContain('a bug in this action');
}

let app: TestServer;
beforeAll(async () => {
  app = await TestServer.start();
  app.route('GET', '/healthz', { status: 200, body: 'ok' });
  app.route('GET', '/broken', { status: 500, body: 'upstream down' });
  app.route('POST', '/api/v1/query', {
    status: 400,
    headers: { 'content-type': 'application/json' },
    body: { status: 'error', errorType: 'bad_data', error: 'parse error: ranges only allowed for vector selectors' },
  });
});
afterAll(() => app.close());

const smoke = (inputs: Record<string, string>, env: Record<string, string> = {}) =>
  runBuiltAction('smoke-test', { 'ready-timeout': '0s', ...inputs }, { env });

describe('smoke-test, the runner way', () => {
  it('an input error prints one ::error:: naming the input, and no stack', async () => {
    const run = await smoke({ checks: `- url: ${app.url.href}healthz`, timeout: 'soon' });
    expectExpectedFailure(run, /^::error::Input 'timeout' .*Example:/);
  });

  it('a closed gate (a check failed) prints one ::error:: with the verdict, and no stack', async () => {
    const run = await smoke({ checks: `- url: ${app.url.href}broken\n  name: broken` });
    expectExpectedFailure(run, /^::error::.*fail/i);
    expect(run.outputs.passed).toBe('false');
  });

  it('a remote error (Prometheus answers 400 bad_data) prints one ::error:: naming the remote, and no stack', async () => {
    const run = await smoke({ 'prometheus-url': app.url.href, metrics: '- name: errors\n  query: rate(up)' });
    expectExpectedFailure(run, /^::error::Prometheus at http:\/\/127\.0\.0\.1:\d+\/? rejected the query "rate\(up\)"/);
  });

  it('a bug keeps its stack: the runner output file vanished, so writing an output throws', async () => {
    // A genuinely unexpected path through the action itself: nothing the inputs say can cause
    // it, so it must be reported as a bug, with the stack needed to find it.
    const missing = join(tempDir('gone-'), 'no-such-dir', 'output');
    const run = await smoke({ checks: `- url: ${app.url.href}healthz` }, { GITHUB_OUTPUT: missing });
    expect(run.exitCode).toBe(1);
    expect(stepErrors(run).join('\n')).toMatch(/a bug in this action; please report it\): .*Missing file at path/);
    expect(run.log).toMatch(STACK_FRAME);
  });
});

describe('db-backup restore, the runner way: a tar entry escaping its folder', () => {
  let source: string;
  const target = uniqueName('bktarevil');
  const store = tempDir('tar-evil-');
  beforeAll(async () => {
    source = await createPgDatabase('bktar');
  });
  afterAll(async () => {
    await dropPgDatabase(source);
    await dropPgDatabase(target);
  });

  it('is refused as a failed restore with one ::error:: and no stack, and nothing is left behind', async () => {
    const url = `postgres://postgres@127.0.0.1:5432/${source}`;
    const backup = await runBuiltAction('db-backup', {
      'signing-key': TEST_KEYS.signing,
      'database-url': url,
      store,
      'pg-format': 'directory',
      compression: 'none',
      'allow-unencrypted': 'true',
    });
    expect(stepErrors(backup)).toEqual([]);

    // What a holder of the signing key (or a bug in the dump tool) could store: a directory
    // archive whose data file is a link out of its folder. Signed, so it is read, not ignored.
    const folder = tempDir('evil-dump-');
    mkdirSync(join(folder, 'dump'));
    writeFileSync(join(folder, 'dump', 'toc.dat'), 'x');
    symlinkSync('/etc/passwd', join(folder, 'dump', '1234.dat'));
    const archive = execFileSync('tar', ['-c', '-C', folder, 'dump']);
    const dir = join(store, source);
    const manifestFile = readdirSync(dir).find((f) => f.endsWith('.manifest.json'))!;
    const envelope = JSON.parse(readFileSync(join(dir, manifestFile), 'utf8')) as { manifest: string };
    const manifest = JSON.parse(envelope.manifest) as {
      object: string;
      stored: { bytes: number; sha256: string };
      details: { plain: { bytes: number; sha256: string } };
    };
    const digest = { bytes: archive.length, sha256: createHash('sha256').update(archive).digest('hex') };
    writeFileSync(join(store, manifest.object), archive);
    manifest.stored = digest;
    manifest.details.plain = digest;
    const text = JSON.stringify(manifest);
    const signer = parseSigningKey('signing-key', TEST_KEYS.signing);
    writeFileSync(
      join(dir, manifestFile),
      JSON.stringify({ manifest: text, keyId: signer.keyId, signature: signer.sign(text) }),
    );

    const runnerTemp = tempDir('runner-temp-');
    const run = await runBuiltAction(
      'db-backup',
      {
        command: 'restore',
        'verify-key': TEST_KEYS.verify,
        'database-url': url,
        store,
        'target-database': target,
        'allow-unencrypted': 'true',
      },
      { env: { RUNNER_TEMP: runnerTemp } },
    );
    expectExpectedFailure(run, /holds entries a directory dump never has \(dump\/1234\.dat\)/);
    expect(readdirSync(runnerTemp)).toEqual([]);
    expect((await pgQuery('postgres', 'SELECT 1 FROM pg_database WHERE datname = $1', [target])).rowCount).toBe(0);
  });
});
