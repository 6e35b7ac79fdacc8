import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { Inputs } from '@deploy-suite/kit';
import { pgTlsOptions } from '../../../packages/db/src/pg-client.ts';
import { createPgDatabase, dropPgDatabase } from '../../../test/helpers/databases.ts';
import { expectSettingsInputError } from '../../../test/helpers/expect-input-error.ts';
import { startTlsPostgres, type TlsServer } from '../../../test/helpers/tls-databases.ts';
import { readSettings } from '../src/settings.ts';
import { ageKeyPair, backupAction, errorOf, tempDir, TEST_KEYS } from './helpers.ts';

/**
 * verify's separate scratch server is another host than the database: its TLS is decided from its
 * own host and its own scratch-ssl-mode and scratch-ssl-ca, never copied from the main connection.
 */

const CA = '-----BEGIN CERTIFICATE-----\nTUFJTi1DQQ==\n-----END CERTIFICATE-----';
const SCRATCH_CA = '-----BEGIN CERTIFICATE-----\nU0NSQVRDSC1DQQ==\n-----END CERTIFICATE-----';

const read = (values: Record<string, string>) =>
  readSettings(
    new Inputs(
      (name) =>
        ({
          command: 'verify',
          store: '/backups',
          'signing-key': TEST_KEYS.signing,
          'database-url': 'postgres://deployer@127.0.0.1:5432/shop',
          ...values,
        })[name],
    ),
  );

const printed = () => (process.stdout.write as unknown as jest.Mock).mock.calls.map((call) => String(call[0])).join('');

describe('scratch server TLS settings', () => {
  beforeEach(() => {
    jest.restoreAllMocks();
    jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  });
  afterAll(() => {
    jest.restoreAllMocks();
  });

  it('verifies a remote scratch server by default even when the database is on loopback', () => {
    const settings = read({ 'scratch-server-url': 'postgres://verifier@scratch.example.net/postgres' });
    expect(settings.connection.tls).toEqual({ mode: 'prefer' });
    expect(settings.scratchServer?.tls).toEqual({ mode: 'verify-full' });
    // What node-postgres gets: verified TLS, not plaintext.
    expect(pgTlsOptions(settings.scratchServer!)).toMatchObject({ rejectUnauthorized: true });
    expect(printed()).not.toContain('::warning::');
  });

  it("never takes the main connection's mode or CA, and trusts its own scratch-ssl-ca", () => {
    const mainOnly = read({
      'database-url': 'postgres://deployer@db.internal:5432/shop',
      'ssl-mode': 'verify-ca',
      'ssl-ca': CA,
      'scratch-server-url': 'postgres://verifier@scratch.example.net/postgres',
    });
    expect(mainOnly.connection.tls).toEqual({ mode: 'verify-ca', ca: CA + '\n' });
    expect(mainOnly.scratchServer?.tls).toEqual({ mode: 'verify-full' });

    const own = read({
      'ssl-mode': 'disable',
      'scratch-server-url': 'postgres://verifier@scratch.example.net/postgres',
      'scratch-ssl-ca': SCRATCH_CA,
    });
    expect(own.connection.tls).toEqual({ mode: 'disable' });
    expect(own.scratchServer?.tls).toEqual({ mode: 'verify-full', ca: SCRATCH_CA + '\n' });

    const loopbackScratch = read({
      'database-url': 'postgres://deployer@db.internal:5432/shop',
      'ssl-ca': CA,
      'scratch-server-url': 'postgres://postgres@127.0.0.1:5432/postgres',
    });
    expect(loopbackScratch.scratchServer?.tls).toEqual({ mode: 'prefer' });
  });

  it('warns when a remote scratch server is not verified, naming its own inputs, and not on loopback', () => {
    read({
      'scratch-server-url': 'postgres://verifier@scratch.example.net/postgres',
      'scratch-ssl-mode': 'require',
    });
    expect(printed()).toMatch(
      /::warning::scratch-ssl-mode is require: the connection to scratch\.example\.net is encrypted but the server is not verified.*Use verify-full with scratch-ssl-ca/,
    );
    read({
      'scratch-server-url': 'mysql://verifier@scratch.example.net/mysql',
      'database-url': 'mysql://deployer@127.0.0.1/shop',
      'scratch-ssl-mode': 'disable',
    });
    expect(printed()).toMatch(
      /::warning::scratch-ssl-mode is disable: the connection to scratch\.example\.net is not encrypted/,
    );
    (process.stdout.write as unknown as jest.Mock).mockClear();
    read({ 'scratch-server-url': 'postgres://postgres@localhost/postgres', 'scratch-ssl-mode': 'disable' });
    expect(printed()).not.toContain('::warning::');
  });

  it.each(['scratch-ssl-mode', 'scratch-ssl-ca'])('refuses %s without scratch-server-url', (input) => {
    expectSettingsInputError(
      () => read({ [input]: input === 'scratch-ssl-ca' ? SCRATCH_CA : 'verify-full' }),
      input,
      /applies only to scratch-server-url, which is not set/,
      [],
    );
  });

  it.each([
    [{ 'scratch-ssl-mode': 'verify' }, 'scratch-ssl-mode', /must be one of disable, require, verify-ca, verify-full/],
    [{ 'scratch-ssl-ca': '/nonexistent/ca.pem' }, 'scratch-ssl-ca', /names a file that cannot be read \(ENOENT\)/],
    [
      { 'scratch-ssl-mode': 'require', 'scratch-ssl-ca': SCRATCH_CA },
      'scratch-ssl-mode',
      /is require, which does not verify the server, but scratch-ssl-ca was given/,
    ],
    [
      { 'scratch-ssl-mode': 'disable', 'scratch-ssl-ca': SCRATCH_CA },
      'scratch-ssl-mode',
      /is disable, but scratch-ssl-ca was given/,
    ],
  ])('rejects %j, naming the scratch input', (values, input, pattern) => {
    expectSettingsInputError(
      () => read({ 'scratch-server-url': 'postgres://verifier@scratch.example.net/postgres', ...values }),
      input,
      pattern,
      [],
    );
  });
});

describe('verify on a TLS-only scratch server, the runner way', () => {
  let server: TlsServer;
  let source: string;
  let keys: { identity: string; recipient: string };
  const store = tempDir('scratch-tls-');

  beforeAll(async () => {
    [server, source, keys] = await Promise.all([startTlsPostgres(), createPgDatabase('bkscratchtls'), ageKeyPair()]);
    const backup = await backupAction({
      'database-url': `postgres://postgres@127.0.0.1:5432/${source}`,
      store,
      recipients: keys.recipient,
    });
    expect(errorOf(backup)).toBe('');
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    if (source !== undefined) await dropPgDatabase(source);
  }, 30_000);

  const verify = (tls: Record<string, string>) =>
    backupAction({
      command: 'verify',
      // The database on loopback without TLS; the scratch server takes TLS only.
      'database-url': `postgres://postgres@127.0.0.1:5432/${source}`,
      'ssl-mode': 'disable',
      store,
      identity: keys.identity,
      'scratch-server-url': `postgres://${server.user}:${encodeURIComponent(server.password)}@127.0.0.1:${server.port}/postgres`,
      ...tls,
    });

  it('verifies over verify-full with scratch-ssl-ca, though the main connection has TLS disabled', async () => {
    const run = await verify({ 'scratch-ssl-mode': 'verify-full', 'scratch-ssl-ca': server.certs.caPath });
    expect(errorOf(run)).toBe('');
    expect(run.outputs.verified).toBe('true');
    expect(run.log).toMatch(
      new RegExp(`scratch database deploy_suite_scratch_verify_[0-9a-f]{16} on 127\\.0\\.0\\.1:${server.port}`),
    );
  });

  it('refuses a scratch server whose certificate scratch-ssl-ca did not sign', async () => {
    const run = await verify({ 'scratch-ssl-mode': 'verify-full', 'scratch-ssl-ca': server.certs.wrongCaPath });
    expect(run.exitCode).toBe(1);
    expect(errorOf(run)).toMatch(/TLS with ssl-mode verify-full|certificate/i);
    expect(run.log).not.toMatch(/\n\s+at /);
  });
});
