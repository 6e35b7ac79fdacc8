import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, jest } from '@jest/globals';
import { InputError, Inputs, resetSecretsForTests } from '@deploy-suite/kit';
import {
  connectionFailure,
  describeConnection,
  isLoopbackHost,
  parseConnectionUrl,
  readConnectionInputs,
  type Connection,
} from '../src/index.ts';
import { mySqlTlsOptions } from '../src/mysql-client.ts';
import { pgTlsOptions } from '../src/pg-client.ts';
import { passfileLine } from '../src/postgres.ts';
import { inputErrorOf } from '../../../test/helpers/expect-input-error.ts';

beforeEach(() => {
  jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
});

describe('connection URLs', () => {
  it('reads every part, percent-decoding user and password', () => {
    const password = `p@ss:w/rd#%'" x`;
    const connection = parseConnectionUrl(
      'database-url',
      `postgresql://dep%40loyer:${encodeURIComponent(password)}@db.internal:6543/shop`,
    );
    expect(connection).toEqual({
      engine: 'postgres',
      host: 'db.internal',
      port: 6543,
      user: 'dep@loyer',
      password,
      database: 'shop',
    });
    expect(describeConnection(connection)).toBe('postgres://dep@loyer@db.internal:6543/shop');
  });

  it('defaults the port and user per engine, and takes mariadb:// as mysql', () => {
    expect(parseConnectionUrl('u', 'mariadb://db/shop')).toMatchObject({
      engine: 'mysql',
      port: 3306,
      user: 'root',
      password: undefined,
    });
    expect(parseConnectionUrl('u', 'postgres://db/shop')).toMatchObject({
      engine: 'postgres',
      port: 5432,
      user: 'postgres',
    });
    expect(parseConnectionUrl('u', 'postgres://u@[::1]:5433/shop')).toMatchObject({ host: '::1', port: 5433 });
  });

  it.each([
    ['postgres://u:pw@db:0/shop', /bad port "0"/],
    ['postgres://u:pw@db:65536/shop', /bad port "65536"/],
    ['postgres://u:pw@db:/shop', /bad port ""/],
    ['postgres://u:pw@db:5432', /must name one database/],
    ['sqlite://file/x', /must be postgres or mysql/],
    ['db.internal:5432/shop', /must be a URL/],
  ])('rejects %s', (url, message) => {
    let error: unknown;
    try {
      parseConnectionUrl('database-url', url);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('pw@');
  });
});

const CA = '-----BEGIN CERTIFICATE-----\nMIIBdGVzdA==\n-----END CERTIFICATE-----';
const KEY = '-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1saW5lLW9uZQ==\n-----END PRIVATE KEY-----';

/** What the step printed: workflow commands included. */
const printed = (): string =>
  (process.stdout.write as unknown as jest.Mock).mock.calls.map((call) => String(call[0])).join('');

const read = (values: Record<string, string>) => readConnectionInputs(new Inputs((name) => values[name]));

describe('TLS inputs', () => {
  it('verifies by default off loopback, and uses no TLS on loopback or a socket unless asked', () => {
    expect(read({ 'database-url': 'postgres://u@db.internal/shop' }).tls).toEqual({ mode: 'verify-full' });
    expect(read({ 'database-url': 'mysql://u@10.0.0.5/shop' }).tls).toEqual({ mode: 'verify-full' });
    for (const host of ['127.0.0.1', '127.8.9.10', 'localhost', '[::1]'])
      expect(read({ 'database-url': `postgres://u@${host}/shop` }).tls).toEqual({ mode: 'prefer' });
    expect(read({ engine: 'postgres', host: '/var/run/postgresql', user: 'u', database: 'd' }).tls).toEqual({
      mode: 'prefer',
    });
    // A CA given is a request to verify, even on loopback.
    expect(read({ 'database-url': 'postgres://u@127.0.0.1/shop', 'ssl-ca': CA }).tls).toEqual({
      mode: 'verify-full',
      ca: CA + '\n',
    });
    expect(isLoopbackHost('128.0.0.1')).toBe(false);
    expect(isLoopbackHost('localhost.example.com')).toBe(false);
    expect(printed()).not.toContain('::warning::');
  });

  it('warns when a remote connection is not verified, and not on loopback', () => {
    read({ 'database-url': 'postgres://u@db.internal/shop', 'ssl-mode': 'require' });
    expect(printed()).toMatch(
      /::warning::ssl-mode is require: the connection to db\.internal is encrypted but the server is not verified/,
    );
    read({ 'database-url': 'mysql://u@db.internal/shop', 'ssl-mode': 'disable' });
    expect(printed()).toMatch(/::warning::ssl-mode is disable: the connection to db\.internal is not encrypted/);
    (process.stdout.write as unknown as jest.Mock).mockClear();
    read({ 'database-url': 'postgres://u@127.0.0.1/shop', 'ssl-mode': 'require' });
    read({ 'database-url': 'postgres://u@db.internal/shop', 'ssl-mode': 'verify-ca', 'ssl-ca': CA });
    expect(printed()).not.toContain('::warning::');
  });

  it('reads PEMs inline or from a file, and masks the client key before use', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tls-inputs-'));
    writeFileSync(join(dir, 'ca.pem'), CA);
    writeFileSync(join(dir, 'client.key'), KEY);
    const fromFiles = read({
      'database-url': 'postgres://u@db.internal/shop',
      'ssl-ca': join(dir, 'ca.pem'),
      'ssl-cert': CA,
      'ssl-key': join(dir, 'client.key'),
    });
    expect(fromFiles.tls).toEqual({ mode: 'verify-full', ca: CA + '\n', cert: CA + '\n', key: KEY + '\n' });
    expect(printed()).toContain('::add-mask::c2VjcmV0LWtleS1saW5lLW9uZQ==');
    (process.stdout.write as unknown as jest.Mock).mockClear();
    resetSecretsForTests();
    read({ 'database-url': 'postgres://u@db.internal/shop', 'ssl-cert': CA, 'ssl-key': KEY });
    expect(printed()).toContain('::add-mask::c2VjcmV0LWtleS1saW5lLW9uZQ==');
  });

  it.each([
    [{ 'ssl-mode': 'verify' }, 'ssl-mode', /must be one of disable, require, verify-ca, verify-full/],
    [{ 'ssl-ca': '/nonexistent/ca.pem' }, 'ssl-ca', /names a file that cannot be read \(ENOENT\)/],
    [{ 'ssl-ca': 'not a pem'.padEnd(10) }, 'ssl-ca', /names a file that cannot be read/],
    [{ 'ssl-ca': KEY }, 'ssl-ca', /must be a PEM certificate/],
    [{ 'ssl-cert': CA }, 'ssl-key', /is required with ssl-cert/],
    [{ 'ssl-key': KEY }, 'ssl-cert', /is required with ssl-key/],
    [{ 'ssl-mode': 'disable', 'ssl-ca': CA }, 'ssl-mode', /is disable, but ssl-ca or ssl-cert was given/],
    [{ 'ssl-mode': 'require', 'ssl-ca': CA }, 'ssl-mode', /is require, which does not verify the server/],
  ])('rejects %j', (values, input, message) => {
    const error = inputErrorOf(() => read({ 'database-url': 'postgres://u@db.internal/shop', ...values }));
    expect(error.message).toContain(input);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('c2VjcmV0');
  });

  const connection = (tls: Connection['tls'], host = 'db.internal'): Connection => ({
    engine: 'postgres',
    host,
    port: 5432,
    user: 'u',
    password: 'pw',
    database: 'd',
    ...(tls === undefined ? {} : { tls }),
  });

  it('maps each mode onto node-postgres and mysql2 alike', () => {
    expect(pgTlsOptions(connection(undefined, '127.0.0.1'))).toBe(false);
    expect(mySqlTlsOptions(connection(undefined, '127.0.0.1'))).toEqual({});
    expect(pgTlsOptions(connection({ mode: 'disable' }))).toBe(false);
    // No TLS options given at all still means verify-full off loopback.
    expect(pgTlsOptions(connection(undefined))).toEqual({ rejectUnauthorized: true });
    expect(mySqlTlsOptions(connection(undefined))).toEqual({ ssl: { rejectUnauthorized: true, verifyIdentity: true } });
    const require = pgTlsOptions(connection({ mode: 'require' })) as Record<string, unknown>;
    expect(require.rejectUnauthorized).toBe(false);
    expect(mySqlTlsOptions(connection({ mode: 'require' })).ssl).toMatchObject({ rejectUnauthorized: false });
    const verifyCa = pgTlsOptions(connection({ mode: 'verify-ca', ca: CA })) as {
      ca: string;
      rejectUnauthorized: boolean;
      checkServerIdentity: (host: string, cert: unknown) => Error | undefined;
    };
    expect(verifyCa).toMatchObject({ ca: CA, rejectUnauthorized: true });
    expect(verifyCa.checkServerIdentity('other.name', {})).toBeUndefined();
    expect(mySqlTlsOptions(connection({ mode: 'verify-ca', ca: CA })).ssl).toEqual({
      ca: CA,
      rejectUnauthorized: true,
      verifyIdentity: false,
    });
    expect(pgTlsOptions(connection({ mode: 'verify-full', ca: CA, cert: CA, key: KEY }))).toEqual({
      ca: CA,
      cert: CA,
      key: KEY,
      rejectUnauthorized: true,
    });
  });

  it('names ssl-mode and ssl-ca in a TLS connection failure, without the password', () => {
    const error = connectionFailure(
      connection({ mode: 'verify-full', ca: CA }),
      'd',
      new Error('self-signed certificate in certificate chain'),
    );
    expect(error.message).toBe(
      'Could not connect to PostgreSQL at db.internal:5432 as u (database d): self-signed certificate in certificate chain (TLS with ssl-mode verify-full, trusting the ssl-ca certificate: check ssl-mode and ssl-ca)',
    );
  });
});

describe('pgpass line', () => {
  it('escapes colon and backslash, and refuses a line break', () => {
    expect(passfileLine('a:b\\c')).toBe('*:*:*:*:a\\:b\\\\c\n');
    expect(inputErrorOf(() => passfileLine('a\nb')).message).toMatch(/password.*cannot hold a line break/);
  });
});
