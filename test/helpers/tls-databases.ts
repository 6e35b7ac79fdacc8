import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asPostgres, initPostgresCluster, postgresBin } from './databases.ts';
import { freePort } from './ports.ts';
import { launchMariaDb } from './mariadb-instance.ts';

/**
 * Throwaway PostgreSQL and MariaDB servers that speak TLS, with certificates from a test CA made
 * with openssl (CN localhost, SAN localhost and 127.0.0.1, not 127.0.0.2). Both also listen on
 * 127.0.0.2, so a test can reach a good certificate under a name it does not carry.
 */

const START_TIMEOUT_MS = 30_000;

export interface Certificates {
  /** PEM of the CA that signed the servers' and the client's certificates. */
  ca: string;
  caPath: string;
  /** PEM of another CA, which signed nothing here. */
  wrongCa: string;
  wrongCaPath: string;
  serverCertPath: string;
  serverKeyPath: string;
  /** A client certificate (CN certuser) signed by the CA. */
  clientCert: string;
  clientKey: string;
  clientCertPath: string;
  clientKeyPath: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe', timeout: 10_000 });
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function makeCa(dir: string, name: string): void {
  openssl(
    [
      'req',
      '-x509',
      ...EC,
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
    ],
    dir,
  );
}

function makeSigned(dir: string, name: string, subject: string, extensions: string): void {
  openssl(['req', ...EC, '-subj', subject, '-keyout', `${name}.key`, '-out', `${name}.csr`], dir);
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.crt`,
    ],
    dir,
  );
}

/** A CA, a server certificate for localhost/127.0.0.1, a client certificate, and an unrelated CA. */
export function makeCertificates(dir: string): Certificates {
  makeCa(dir, 'ca');
  makeCa(dir, 'wrong-ca');
  makeSigned(
    dir,
    'server',
    '/CN=localhost',
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n',
  );
  makeSigned(dir, 'client', '/CN=certuser', 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n');
  const read = (name: string): string => readFileSync(join(dir, name), 'utf8');
  return {
    ca: read('ca.crt'),
    caPath: join(dir, 'ca.crt'),
    wrongCa: read('wrong-ca.crt'),
    wrongCaPath: join(dir, 'wrong-ca.crt'),
    serverCertPath: join(dir, 'server.crt'),
    serverKeyPath: join(dir, 'server.key'),
    clientCert: read('client.crt'),
    clientKey: read('client.key'),
    clientCertPath: join(dir, 'client.crt'),
    clientKeyPath: join(dir, 'client.key'),
  };
}

export interface TlsServer {
  host: '127.0.0.1';
  port: number;
  /** A password user allowed everything. */
  user: string;
  password: string;
  /** A user that authenticates with the client certificate (PostgreSQL: cert auth; MariaDB: REQUIRE SUBJECT). */
  certUser: 'certuser';
  certs: Certificates;
  stop: () => Promise<void>;
}

function check(result: SpawnSyncReturns<string>, what: string): void {
  if (result.status !== 0) {
    throw new Error(`${what} failed (${result.error?.message ?? `exit ${result.status}`}): ${result.stderr}`);
  }
}

/**
 * A PostgreSQL cluster with ssl=on that accepts only TLS over TCP (hostssl): scram passwords for
 * `admin`, the client certificate for `certuser`. Runs as the postgres OS user on a free port.
 */
export async function startTlsPostgres(): Promise<TlsServer> {
  const dir = mkdtempSync(join(tmpdir(), 'pgtls-'));
  try {
    const certs = makeCertificates(dir);
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    for (const path of [certs.serverCertPath, certs.serverKeyPath, certs.caPath]) chownSync(path, uid, gid);
    const password = `pg:tls\\${randomBytes(6).toString('hex')}`;
    const data = initPostgresCluster(dir, password);
    // TCP only with TLS; the socket (in this folder) lets the helper create the cert user.
    writeFileSync(
      join(data, 'pg_hba.conf'),
      [
        'local all all trust',
        'hostssl all certuser 127.0.0.0/8 cert',
        'hostssl all all 127.0.0.0/8 scram-sha-256',
        '',
      ].join('\n'),
    );
    const port = await freePort();
    check(
      asPostgres([
        postgresBin('pg_ctl'),
        '-D',
        data,
        '-w',
        '-t',
        String(START_TIMEOUT_MS / 1000),
        '-l',
        join(dir, 'log'),
        '-o',
        [
          `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1,127.0.0.2 -c fsync=off`,
          `-c ssl=on -c ssl_cert_file=${certs.serverCertPath} -c ssl_key_file=${certs.serverKeyPath} -c ssl_ca_file=${certs.caPath}`,
        ].join(' '),
        'start',
      ]),
      'pg_ctl start',
    );
    check(
      asPostgres([
        postgresBin('psql'),
        '-X',
        '-q',
        '-h',
        dir,
        '-p',
        String(port),
        '-U',
        'admin',
        '-d',
        'postgres',
        '-c',
        'CREATE ROLE certuser LOGIN SUPERUSER',
      ]),
      'psql create certuser',
    );
    return {
      host: '127.0.0.1',
      port,
      user: 'admin',
      password,
      certUser: 'certuser',
      certs,
      stop: () => {
        asPostgres([postgresBin('pg_ctl'), '-D', data, '-m', 'immediate', '-t', '20', 'stop']);
        rmSync(dir, { recursive: true, force: true });
        return Promise.resolve();
      },
    };
  } catch (error) {
    spawnSync(
      'runuser',
      ['-u', 'postgres', '--', postgresBin('pg_ctl'), '-D', join(dir, 'data'), '-m', 'immediate', 'stop'],
      {
        timeout: 20_000,
      },
    );
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * A MariaDB server with its own datadir, socket and free port, TLS certificates set and
 * require_secure_transport=ON: `app` with a password, `certuser` with the client certificate.
 */
export async function startTlsMariaDb(): Promise<TlsServer> {
  const dir = mkdtempSync(join(tmpdir(), 'mariatls-'));
  let stopServer: () => Promise<void> = () => Promise.resolve();
  try {
    const certs = makeCertificates(dir);
    const { port, client, stop } = await launchMariaDb(dir, [
      '--bind-address=127.0.0.1,127.0.0.2',
      '--skip-log-bin',
      `--ssl-cert=${certs.serverCertPath}`,
      `--ssl-key=${certs.serverKeyPath}`,
      `--ssl-ca=${certs.caPath}`,
      '--require-secure-transport=ON',
    ]);
    stopServer = stop;
    const password = `my"tls\\${randomBytes(6).toString('hex')}`;
    const quoted = `'${password.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
    const statements: string[] = [];
    for (const host of ['127.0.0.1', '127.0.0.2']) {
      statements.push(
        `CREATE USER 'app'@'${host}' IDENTIFIED BY ${quoted}`,
        `GRANT ALL PRIVILEGES ON *.* TO 'app'@'${host}'`,
        `CREATE USER 'certuser'@'${host}' REQUIRE SUBJECT '/CN=certuser'`,
        `GRANT ALL PRIVILEGES ON *.* TO 'certuser'@'${host}'`,
      );
    }
    check(client(statements.join('; ')), 'mariadb create users');
    return {
      host: '127.0.0.1',
      port,
      user: 'app',
      password,
      certUser: 'certuser',
      certs,
      stop: async () => {
        await stopServer();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await stopServer();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
