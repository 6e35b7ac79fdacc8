import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ConfigurationError, InputError } from '@deploy-suite/kit';
import type { Connection, ConnectionTls } from '../src/index.ts';
import { MySqlEngine } from '../src/mysql.ts';
import { connectMySql } from '../src/mysql-client.ts';
import { PostgresEngine } from '../src/postgres.ts';
import { connectPostgres } from '../src/pg-client.ts';
import { startTlsMariaDb, startTlsPostgres, type TlsServer } from '../../../test/helpers/tls-databases.ts';

/** Real TLS: a throwaway PostgreSQL (hostssl only) and MariaDB (require_secure_transport) with a test CA. */

let pgServer: TlsServer;
let myServer: TlsServer;
/** A custom-format dump taken over TLS, for the tool-only refusals. */
let pgDump: Buffer = Buffer.alloc(0);
const runnerTemp = mkdtempSync(join(tmpdir(), 'tls-runner-temp-'));
const savedRunnerTemp = process.env.RUNNER_TEMP;

beforeAll(async () => {
  // The tools' private files go under RUNNER_TEMP; the tests check they are gone afterwards.
  process.env.RUNNER_TEMP = runnerTemp;
  pgServer = await startTlsPostgres();
  myServer = await startTlsMariaDb();
}, 60_000);

afterAll(async () => {
  await pgServer?.stop();
  await myServer?.stop();
  rmSync(runnerTemp, { recursive: true, force: true });
  if (savedRunnerTemp === undefined) delete process.env.RUNNER_TEMP;
  else process.env.RUNNER_TEMP = savedRunnerTemp;
}, 30_000);

const pg = (tls: ConnectionTls, overrides: Partial<Connection> = {}): Connection => ({
  engine: 'postgres',
  host: '127.0.0.1',
  port: pgServer.port,
  user: pgServer.user,
  password: pgServer.password,
  database: 'postgres',
  tls,
  ...overrides,
});

const my = (tls: ConnectionTls, overrides: Partial<Connection> = {}): Connection => ({
  engine: 'mysql',
  host: '127.0.0.1',
  port: myServer.port,
  user: myServer.user,
  password: myServer.password,
  database: 'mysql',
  tls,
  ...overrides,
});

async function pgEncrypted(connection: Connection): Promise<boolean> {
  const client = await connectPostgres(connection, { database: 'postgres', applicationName: 'tls-test' });
  try {
    const { rows } = await client.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
    return rows[0]!.ssl;
  } finally {
    await client.end();
  }
}

async function myCipher(connection: Connection): Promise<string> {
  const db = await connectMySql(connection, undefined);
  try {
    const [rows] = await db.query<import('mysql2').RowDataPacket[]>("SHOW SESSION STATUS LIKE 'Ssl_cipher'");
    return String(rows[0]?.Value ?? '');
  } finally {
    await db.end();
  }
}

/** A connection failure as the user sees it: a ConfigurationError (no stack), never echoing the password. */
async function failure(attempt: Promise<unknown>, password: string): Promise<string> {
  let error: unknown;
  try {
    await attempt;
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(ConfigurationError);
  expect(error).not.toBeInstanceOf(InputError);
  const message = (error as Error).message;
  expect(message).not.toContain(password);
  return message;
}

const strict = (ca: string): ConnectionTls => ({ mode: 'verify-full', ca });

describe('PostgreSQL over TLS', () => {
  it('refuses a server whose certificate the CA did not sign, saying what to check', async () => {
    const message = await failure(pgEncrypted(pg(strict(pgServer.certs.wrongCa))), pgServer.password);
    expect(message).toMatch(
      new RegExp(
        `^Could not connect to PostgreSQL at 127\\.0\\.0\\.1:${pgServer.port} as admin \\(database postgres\\): .*certificate.*check ssl-mode and ssl-ca\\)$`,
      ),
    );
  });

  it('connects encrypted with the right CA: verify-full by name, verify-ca by chain only', async () => {
    expect(await pgEncrypted(pg(strict(pgServer.certs.ca)))).toBe(true);
    // 127.0.0.2 reaches the same server, but its certificate does not name that address.
    const message = await failure(pgEncrypted(pg(strict(pgServer.certs.ca), { host: '127.0.0.2' })), pgServer.password);
    expect(message).toMatch(/Hostname\/IP does not match certificate's altnames/);
    expect(await pgEncrypted(pg({ mode: 'verify-ca', ca: pgServer.certs.ca }, { host: '127.0.0.2' }))).toBe(true);
    expect(await pgEncrypted(pg({ mode: 'require' }))).toBe(true);
  });

  it('require never falls back: the plaintext-only server on 5432 is refused', async () => {
    const message = await failure(
      pgEncrypted({ ...pg({ mode: 'require' }), port: 5432, user: 'postgres', password: undefined }),
      pgServer.password,
    );
    expect(message).toMatch(/Could not connect to PostgreSQL at 127\.0\.0\.1:5432.*does not support SSL/);
  });

  it('authenticates with a client certificate and no password', async () => {
    const tls = { ...strict(pgServer.certs.ca), cert: pgServer.certs.clientCert, key: pgServer.certs.clientKey };
    expect(await pgEncrypted(pg(tls, { user: 'certuser', password: undefined }))).toBe(true);
  });

  it('pg_dump and pg_restore verify too, and find the password in a 0600 passfile, never PGPASSWORD', async () => {
    const admin = pg(strict(pgServer.certs.ca));
    const setup = await connectPostgres(admin, { database: 'postgres', applicationName: 'tls-test' });
    await setup.query('CREATE DATABASE tls_source');
    await setup.query('CREATE DATABASE tls_copy');
    await setup.end();
    const source = await connectPostgres(admin, { database: 'tls_source', applicationName: 'tls-test' });
    // Larger than a pipe buffer, so pg_dump waits on its unread stdout while its environment is read.
    await source.query("CREATE TABLE big AS SELECT g, repeat('x', 200) AS t FROM generate_series(1, 20000) g");
    await source.end();

    const engine = new PostgresEngine({ ...admin, database: 'tls_source' });
    const handle = await engine.startDump();
    const environ = await pollEnvironOf('pg_dump', `PGPORT=${pgServer.port}`);
    const chunks: Buffer[] = [];
    handle.stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    await handle.finished;
    pgDump = Buffer.concat(chunks);

    expect(Object.keys(environ)).not.toContain('PGPASSWORD');
    expect(Object.values(environ).join('\n')).not.toContain(pgServer.password);
    expect(environ).toMatchObject({ PGSSLMODE: 'verify-full', PGHOST: '127.0.0.1', PGUSER: 'admin' });
    expect(environ.PGPASSFILE?.startsWith(`${runnerTemp}/`)).toBe(true);
    expect(environ.PGSSLROOTCERT?.startsWith(`${runnerTemp}/`)).toBe(true);
    // The password holds ":" and "\\", escaped as pgpass wants; the dump authenticating proves it.
    expect(pgServer.password).toMatch(/:.*\\/);
    expect(environ['passfile mode']).toBe('600');
    expect(environ['passfile text']).toBe(`*:*:*:*:${pgServer.password.replace(/[\\:]/g, (c) => `\\${c}`)}\n`);
    // Removed once pg_dump exited.
    expect(existsSync(environ.PGPASSFILE!)).toBe(false);

    // Restored as the certificate user: PGSSLCERT/PGSSLKEY reach pg_restore.
    const certTls = { ...strict(pgServer.certs.ca), cert: pgServer.certs.clientCert, key: pgServer.certs.clientKey };
    const certUser = new PostgresEngine(pg(certTls, { user: 'certuser', password: undefined, database: 'tls_copy' }));
    await certUser.restore('tls_copy', Readable.from(Buffer.concat(chunks)), { format: handle.format });
    expect(await certUser.rowCounts('tls_copy')).toEqual({ 'public.big': 20000 });
    expect(readdirSync(runnerTemp)).toEqual([]);
  });

  it('pg_restore itself refuses a wrong CA and a server without TLS', async () => {
    const connection = pg(strict(pgServer.certs.ca), { database: 'tls_copy' });
    const engine = new PostgresEngine(connection);
    await engine.serverVersion(); // the driver connects; from here on only the tool does
    connection.tls = strict(pgServer.certs.wrongCa);
    await expect(engine.restore('tls_copy', Readable.from(pgDump), { format: 'pg_dump custom' })).rejects.toThrow(
      /certificate verify failed/,
    );

    const plain: Connection = { ...pg({ mode: 'prefer' }), port: 5432, user: 'postgres', password: undefined };
    const local = new PostgresEngine(plain);
    await local.serverVersion();
    plain.tls = { mode: 'require' };
    await expect(
      // A database that does not exist there: should TLS ever be skipped, nothing is written.
      local.restore('tls_never_created', Readable.from(pgDump), { format: 'pg_dump custom' }),
    ).rejects.toThrow(/server does not support SSL, but SSL was required/);
    expect(readdirSync(runnerTemp)).toEqual([]);
  });
});

describe('MariaDB over TLS', () => {
  it('refuses a server whose certificate the CA did not sign, saying what to check', async () => {
    const message = await failure(myCipher(my(strict(myServer.certs.wrongCa))), myServer.password);
    expect(message).toMatch(
      new RegExp(
        `^Could not connect to MySQL at 127\\.0\\.0\\.1:${myServer.port} as app: .*certificate.*check ssl-mode and ssl-ca\\)$`,
      ),
    );
  });

  it('connects encrypted with the right CA: verify-full by name, verify-ca by chain only', async () => {
    expect(await myCipher(my(strict(myServer.certs.ca)))).not.toBe('');
    const message = await failure(myCipher(my(strict(myServer.certs.ca), { host: '127.0.0.2' })), myServer.password);
    expect(message).toMatch(/Hostname\/IP does not match certificate's altnames/);
    expect(await myCipher(my({ mode: 'verify-ca', ca: myServer.certs.ca }, { host: '127.0.0.2' }))).not.toBe('');
    expect(await myCipher(my({ mode: 'require' }))).not.toBe('');
  });

  it('require never falls back: the plaintext-only server on 3306 is refused', async () => {
    const message = await failure(
      myCipher({ ...my({ mode: 'require' }), port: 3306, user: 'root', password: undefined }),
      myServer.password,
    );
    expect(message).toMatch(
      /Could not connect to MySQL at 127\.0\.0\.1:3306.*Server does not support secure connection/,
    );
  });

  it('authenticates with a client certificate and no password', async () => {
    const tls = { ...strict(myServer.certs.ca), cert: myServer.certs.clientCert, key: myServer.certs.clientKey };
    expect(await myCipher(my(tls, { user: 'certuser', password: undefined }))).not.toBe('');
  });

  it('mariadb-dump and the client connect verified (the server accepts nothing else)', async () => {
    const admin = my(strict(myServer.certs.ca));
    const db = await connectMySql(admin, undefined);
    await db.query('CREATE DATABASE tls_source');
    await db.query('CREATE DATABASE tls_copy');
    await db.query('CREATE TABLE tls_source.t (id INT PRIMARY KEY, note TEXT)');
    await db.query('USE tls_source');
    await db.query("INSERT INTO t SELECT seq, CONCAT('row ', seq) FROM seq_1_to_500");
    await db.end();
    const engine = new MySqlEngine({ ...admin, database: 'tls_source' });
    const handle = await engine.startDump();
    const chunks: Buffer[] = [];
    handle.stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    await handle.finished;
    const certTls = { ...strict(myServer.certs.ca), cert: myServer.certs.clientCert, key: myServer.certs.clientKey };
    const certUser = new MySqlEngine(my(certTls, { user: 'certuser', password: undefined, database: 'tls_copy' }));
    await certUser.restore('tls_copy', Readable.from(Buffer.concat(chunks)));
    expect(await certUser.rowCounts('tls_copy')).toEqual({ t: 500 });
    expect(readdirSync(runnerTemp)).toEqual([]);
  });

  it('the client itself refuses a wrong CA', async () => {
    const connection = my(strict(myServer.certs.ca), { database: 'tls_copy' });
    const engine = new MySqlEngine(connection);
    await engine.serverVersion(); // the driver connects; from here on only the tool does
    connection.tls = strict(myServer.certs.wrongCa);
    await expect(engine.restore('tls_copy', Readable.from('SELECT 1;\n'))).rejects.toThrow(
      /TLS\/SSL error: self-signed certificate in certificate chain/,
    );
  });

  it('a restored dump cannot read runner files with LOAD DATA LOCAL INFILE', async () => {
    const admin = my(strict(myServer.certs.ca));
    const db = await connectMySql(admin, undefined);
    // The server would allow it: the refusal must come from the client.
    const [[setting]] = await db.query<import('mysql2').RowDataPacket[]>('SELECT @@GLOBAL.local_infile AS on_');
    expect(Number(setting!.on_)).toBe(1);
    await db.query('CREATE DATABASE tls_infile');
    await db.query('CREATE TABLE tls_infile.t (line TEXT)');
    const engine = new MySqlEngine({ ...admin, database: 'tls_infile' });
    const planted = "LOAD DATA LOCAL INFILE '/etc/hostname' INTO TABLE t;\n";
    await expect(engine.restore('tls_infile', Readable.from(planted))).rejects.toThrow(/exited with code 1/);
    const [[count]] = await db.query<import('mysql2').RowDataPacket[]>('SELECT COUNT(*) AS n FROM tls_infile.t');
    expect(Number(count!.n)).toBe(0);
    await db.end();
  });
});

/** Polls /proc until a running `command` whose environment holds `marker` shows up; returns its environment. */
async function pollEnvironOf(command: string, marker: string): Promise<Record<string, string>> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
      try {
        if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== command) continue;
        const pairs = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
        if (!pairs.includes(marker)) continue;
        const environ = Object.fromEntries(
          pairs.map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
        );
        // The passfile as the tool sees it, read while the tool runs.
        const passfile = environ.PGPASSFILE;
        if (passfile !== undefined) {
          environ['passfile mode'] = (statSync(passfile).mode & 0o777).toString(8);
          environ['passfile text'] = readFileSync(passfile, 'utf8');
        }
        return environ;
      } catch {
        // The process ended between listing and reading.
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no running ${command} with ${marker} within 10 s`);
}
