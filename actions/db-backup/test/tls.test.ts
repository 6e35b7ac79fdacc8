import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { leakedSecrets } from '../../../test/helpers/run-action.ts';
import { startTlsMariaDb, startTlsPostgres, type TlsServer } from '../../../test/helpers/tls-databases.ts';
import { ageKeyPair, backupAction, errorOf, outputsOf, tempDir } from './helpers.ts';

/** db-backup run the runner's way against servers that accept only verified-or-not TLS. */

let pgServer: TlsServer;
let myServer: TlsServer;
let keys: { identity: string; recipient: string };

beforeAll(async () => {
  keys = await ageKeyPair();
  pgServer = await startTlsPostgres();
  myServer = await startTlsMariaDb();
  // Source databases, made over TLS: the servers accept nothing else.
  const pg = (await import('pg')).default;
  const client = new pg.Client({
    host: '127.0.0.1',
    port: pgServer.port,
    user: pgServer.user,
    password: pgServer.password,
    database: 'postgres',
    ssl: { ca: pgServer.certs.ca },
  });
  await client.connect();
  await client.query('CREATE DATABASE shop');
  await client.end();
  const shopClient = new pg.Client({
    host: '127.0.0.1',
    port: pgServer.port,
    user: pgServer.user,
    password: pgServer.password,
    database: 'shop',
    ssl: { ca: pgServer.certs.ca },
  });
  await shopClient.connect();
  await shopClient.query('CREATE TABLE orders AS SELECT g AS id, g * 1.5 AS total FROM generate_series(1, 300) g');
  await shopClient.end();
  const mysql = (await import('mysql2/promise')).default;
  const db = await mysql.createConnection({
    host: '127.0.0.1',
    port: myServer.port,
    user: myServer.user,
    password: myServer.password,
    ssl: { ca: myServer.certs.ca },
  });
  await db.query('CREATE DATABASE shop');
  await db.query('CREATE TABLE shop.orders (id INT PRIMARY KEY, total DECIMAL(10,2))');
  await db.query('USE shop');
  await db.query('INSERT INTO orders SELECT seq, seq * 1.5 FROM seq_1_to_300');
  await db.end();
}, 60_000);

afterAll(async () => {
  await pgServer?.stop();
  await myServer?.stop();
}, 30_000);

const url = (server: TlsServer, scheme: string) =>
  `${scheme}://${server.user}:${encodeURIComponent(server.password)}@127.0.0.1:${server.port}/shop`;

describe('db-backup over TLS', () => {
  it('backs up and verifies PostgreSQL with verify-full, a client certificate and its key masked', async () => {
    const run = await backupAction({
      'database-url': `postgres://certuser@127.0.0.1:${pgServer.port}/shop`,
      'ssl-mode': 'verify-full',
      'ssl-ca': pgServer.certs.caPath,
      'ssl-cert': pgServer.certs.clientCert,
      'ssl-key': pgServer.certs.clientKey,
      store: tempDir('tls-pg-store-'),
      recipients: keys.recipient,
      identity: keys.identity,
      verify: 'true',
    });
    expect(errorOf(run)).toBe('');
    expect(outputsOf(run).verified).toBe('true');
    const keyLines = pgServer.certs.clientKey
      .split('\n')
      .filter((line) => line.length > 20 && !line.startsWith('-----'));
    for (const line of keyLines) expect(run.masks).toContain(line);
    expect(leakedSecrets(run, keyLines)).toEqual([]);
  });

  it('backs up and verifies MariaDB with verify-full', async () => {
    const run = await backupAction({
      'database-url': url(myServer, 'mysql'),
      'ssl-ca': myServer.certs.ca,
      'ssl-mode': 'verify-full',
      store: tempDir('tls-my-store-'),
      recipients: keys.recipient,
      identity: keys.identity,
      verify: 'true',
    });
    expect(errorOf(run)).toBe('');
    expect(outputsOf(run).verified).toBe('true');
    expect(leakedSecrets(run, [myServer.password])).toEqual([]);
  });

  it.each([
    ['PostgreSQL', () => pgServer, 'postgres'],
    ['MySQL', () => myServer, 'mysql'],
  ])(
    'refuses %s behind a certificate the given CA did not sign: one clear error, no stack, no password',
    async (name, server, scheme) => {
      const run = await backupAction({
        'database-url': url(server(), scheme),
        'ssl-ca': server().certs.wrongCaPath,
        store: tempDir('tls-wrong-store-'),
        recipients: keys.recipient,
      });
      expect(run.exitCode).toBe(1);
      expect(errorOf(run)).toMatch(
        new RegExp(
          `^Could not connect to ${name} at 127\\.0\\.0\\.1:${server().port} as .*certificate.*check ssl-mode and ssl-ca\\)$`,
        ),
      );
      expect(run.log).not.toMatch(/\n\s+at /);
      expect(leakedSecrets(run, [server().password])).toEqual([]);
    },
  );
});
