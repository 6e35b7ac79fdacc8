import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';

/**
 * A throwaway MariaDB server with its own datadir (mariadb-install-db), socket and free loopback
 * port, writing ROW binary logs (log_bin, binlog_format=ROW) into its datadir: what physical
 * backups and point-in-time recovery need. root authenticates over the socket (the tests run as
 * root); `backup` is a password user the code under test connects as.
 */

const START_TIMEOUT_MS = 30_000;

export interface MariaDbInstance {
  dir: string;
  datadir: string;
  socket: string;
  port: number;
  /** A password user with the privileges mariadb-backup and the binlog archive need. */
  user: string;
  password: string;
  /** Runs SQL as root over the socket; returns the tab-separated rows (throws on failure). */
  sql: (statements: string) => string[][];
  stop: () => Promise<void>;
}

function check(result: SpawnSyncReturns<string>, what: string): string {
  if (result.status !== 0) {
    throw new Error(`${what} failed (${result.error?.message ?? `exit ${result.status}`}): ${result.stderr}`);
  }
  return result.stdout;
}

/** A mariadbd of its own on a free loopback port: what each throwaway-server helper starts from. */
export interface LaunchedMariaDb {
  datadir: string;
  socket: string;
  port: number;
  /** Runs SQL as root over the socket (tab-separated rows, no column names). */
  client: (statements: string) => SpawnSyncReturns<string>;
  stop: () => Promise<void>;
}

/**
 * Makes a datadir in `dir` (mariadb-install-db, root by socket), starts mariadbd on it with
 * `serverArgs` on top of the common ones, and waits until it answers on its socket, bounded. On a
 * failure to start it stops what it started; the caller removes `dir`.
 */
export async function launchMariaDb(dir: string, serverArgs: string[]): Promise<LaunchedMariaDb> {
  const datadir = join(dir, 'data');
  const socket = join(dir, 'sock');
  check(
    spawnSync(
      'mariadb-install-db',
      [
        '--no-defaults',
        '--user=root',
        `--datadir=${datadir}`,
        '--auth-root-authentication-method=socket',
        '--skip-test-db',
      ],
      { encoding: 'utf8', timeout: START_TIMEOUT_MS },
    ),
    'mariadb-install-db',
  );
  const port = await freePort();
  const server = spawn(
    '/usr/sbin/mariadbd',
    [
      '--no-defaults',
      '--user=root',
      `--datadir=${datadir}`,
      `--socket=${socket}`,
      `--port=${port}`,
      `--pid-file=${join(dir, 'pid')}`,
      `--log-error=${join(dir, 'log')}`,
      '--skip-name-resolve',
      '--innodb-buffer-pool-size=16M',
      '--innodb-log-file-size=8M',
      '--performance-schema=OFF',
      ...serverArgs,
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (server.exitCode === null && server.signalCode === null) {
      server.kill('SIGTERM');
      const timer = setTimeout(() => server.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
  };
  const client = (statements: string) =>
    spawnSync(
      'mariadb',
      ['--no-defaults', `--socket=${socket}`, '-u', 'root', '--batch', '--skip-column-names', '-e', statements],
      { encoding: 'utf8', timeout: 20_000 },
    );
  try {
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (client('SELECT 1').status === 0) break;
      if (server.exitCode !== null || Date.now() > deadline) {
        throw new Error(`mariadbd did not start: ${readFileSync(join(dir, 'log'), 'utf8').slice(-2000)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { datadir, socket, port, client, stop };
}

export async function startMariaDbInstance(): Promise<MariaDbInstance> {
  const dir = mkdtempSync(join(tmpdir(), 'mariadb-instance-'));
  let stopServer: () => Promise<void> = () => Promise.resolve();
  try {
    const { datadir, socket, port, client, stop } = await launchMariaDb(dir, [
      '--bind-address=127.0.0.1',
      `--log-bin=${join(dir, 'data', 'binlog')}`,
      '--binlog-format=ROW',
      '--server-id=1',
    ]);
    stopServer = stop;
    const sql = (statements: string): string[][] =>
      check(client(statements), 'mariadb')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => line.split('\t'));
    // A password with quotes and a backslash: the option file must carry it intact.
    const password = `bk"p'w\\${Math.random().toString(36).slice(2, 10)}`;
    const quoted = `'${password.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
    sql(
      [
        `CREATE USER 'backup'@'localhost' IDENTIFIED BY ${quoted}`,
        `CREATE USER 'backup'@'127.0.0.1' IDENTIFIED BY ${quoted}`,
        "GRANT RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR, BINLOG ADMIN, REPLICATION CLIENT, SELECT ON *.* TO 'backup'@'localhost'",
        "GRANT RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR, BINLOG ADMIN, REPLICATION CLIENT, SELECT ON *.* TO 'backup'@'127.0.0.1'",
      ].join('; '),
    );
    return {
      dir,
      datadir,
      socket,
      port,
      user: 'backup',
      password,
      sql,
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
