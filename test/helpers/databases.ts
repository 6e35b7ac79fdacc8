import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { freePort } from './ports.ts';

/** The machine's PostgreSQL (trust auth on loopback) and MariaDB (root, no password). */
export const LOCAL_PG = { host: '127.0.0.1', port: 5432, user: 'postgres' };
export const LOCAL_MARIADB = { host: '127.0.0.1', port: 3306, user: 'root' };

export const uniqueName = (prefix: string): string => `${prefix}_${randomBytes(4).toString('hex')}`;

/**
 * Two fresh database names that fill PostgreSQL's 63-byte identifier limit (it cuts names by
 * bytes): one ASCII, one of 2-byte UTF-8 characters. Where a scratch name was once the source's
 * name with a suffix cut to 63 bytes, these are the names that made it the source itself.
 */
export function namesOf63Bytes(): { ascii: string; utf8: string } {
  const tag = randomBytes(4).toString('hex');
  return { ascii: `long_${tag}_${'x'.repeat(49)}`, utf8: `${'é'.repeat(27)}${tag}x` };
}

export interface PgServer {
  host: string;
  port: number;
  user: string;
  password?: string;
}

export async function pgQuery(database: string, sql: string, params: unknown[] = [], server: PgServer = LOCAL_PG) {
  const client = new pg.Client({ ...server, database });
  await client.connect();
  try {
    return await client.query(sql, params);
  } finally {
    await client.end();
  }
}

/** A fresh database with a few tables, a view and a function; returns its name. */
export async function createPgDatabase(prefix = 'bk', server: PgServer = LOCAL_PG): Promise<string> {
  const name = uniqueName(prefix);
  await pgQuery('postgres', `CREATE DATABASE ${name}`, [], server);
  await pgQuery(
    name,
    `CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, note text);
     CREATE TABLE orders (id serial PRIMARY KEY, customer_id int REFERENCES customers(id), total numeric(10,2));
     CREATE SCHEMA billing;
     CREATE TABLE billing.invoices (id bigint PRIMARY KEY, body jsonb);
     INSERT INTO customers (name, note) SELECT 'customer ' || g, 'secret-row-text-' || g FROM generate_series(1, 500) g;
     INSERT INTO orders (customer_id, total) SELECT 1 + g % 500, g * 1.5 FROM generate_series(1, 1200) g;
     INSERT INTO billing.invoices SELECT g, jsonb_build_object('n', g) FROM generate_series(1, 77) g;
     CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 100;
     CREATE FUNCTION order_count() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM orders $$;`,
    [],
    server,
  );
  return name;
}

export async function dropPgDatabase(name: string, server: PgServer = LOCAL_PG): Promise<void> {
  await pgQuery('postgres', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`, [], server);
}

export async function mariaQuery(sql: string, params: unknown[] = [], database?: string) {
  const db = await mysql.createConnection({
    ...LOCAL_MARIADB,
    ...(database ? { database } : {}),
    multipleStatements: true,
  });
  try {
    const [rows] = await db.query(sql, params);
    return rows;
  } finally {
    await db.end();
  }
}

export async function createMariaDatabase(prefix = 'bk'): Promise<string> {
  const name = uniqueName(prefix);
  await mariaQuery(`CREATE DATABASE ${name}`);
  await mariaQuery(
    `CREATE TABLE customers (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100) NOT NULL, photo BLOB);
     CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, customer_id INT, total DECIMAL(10,2));
     INSERT INTO customers (name, photo) SELECT CONCAT('customer ', seq), UNHEX('00FF10') FROM seq_1_to_300;
     INSERT INTO orders (customer_id, total) SELECT 1 + seq % 300, seq * 1.5 FROM seq_1_to_900;
     CREATE PROCEDURE order_count() SELECT COUNT(*) FROM orders;
     CREATE TRIGGER orders_positive BEFORE INSERT ON orders FOR EACH ROW SET NEW.total = ABS(NEW.total);`,
    [],
    name,
  );
  return name;
}

export async function dropMariaDatabase(name: string): Promise<void> {
  await mariaQuery(`DROP DATABASE IF EXISTS ${name}`);
}

/** A MariaDB user with a password, allowed what a backup and a restore need on `database` (and its scratch copies). */
export async function createMariaUser(password: string): Promise<string> {
  const user = uniqueName('bkuser');
  await mariaQuery(`CREATE USER '${user}'@'127.0.0.1' IDENTIFIED BY ?`, [password]);
  await mariaQuery(`GRANT ALL PRIVILEGES ON *.* TO '${user}'@'127.0.0.1'`);
  return user;
}

export async function dropMariaUser(user: string): Promise<void> {
  await mariaQuery(`DROP USER IF EXISTS '${user}'@'127.0.0.1'`);
}

export function postgresBin(name: string): string {
  const major = execFileSync('pg_config', ['--version'], { encoding: 'utf8' }).match(/(\d+)/)?.[1];
  return `/usr/lib/postgresql/${major}/bin/${name}`;
}

/** Runs a PostgreSQL tool as the postgres OS user (the server refuses to run as root). */
export const asPostgres = (args: string[], timeoutMs = 60_000) =>
  spawnSync('runuser', ['-u', 'postgres', '--', ...args], { encoding: 'utf8', timeout: timeoutMs });

/**
 * A new cluster's data folder in `dir` (made the postgres user's), its superuser `admin` with a
 * scram-sha-256 password; returns the data folder.
 */
export function initPostgresCluster(dir: string, password: string): string {
  chmodSync(dir, 0o755);
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
  chownSync(dir, uid, gid);
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, password + '\n', { mode: 0o600 });
  chownSync(pwfile, uid, gid);
  const data = join(dir, 'data');
  const init = asPostgres([
    postgresBin('initdb'),
    '-D',
    data,
    '-U',
    'admin',
    '--auth=scram-sha-256',
    `--pwfile=${pwfile}`,
    '-E',
    'UTF8',
    '--no-sync',
  ]);
  rmSync(pwfile);
  if (init.status !== 0)
    throw new Error(`initdb failed (${init.error?.message ?? `exit ${init.status}`}): ${init.stderr}`);
  return data;
}

/**
 * A throwaway PostgreSQL cluster that checks passwords (scram-sha-256) on a free loopback port,
 * run as the postgres user; the machine's own cluster trusts local connections.
 */
export async function startPasswordCluster(
  password: string,
): Promise<{ port: number; user: string; password: string; stop: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'pgcluster-'));
  const data = initPostgresCluster(dir, password);
  const port = await freePort();
  const start = asPostgres([
    postgresBin('pg_ctl'),
    '-D',
    data,
    '-w',
    '-l',
    join(dir, 'log'),
    '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
    'start',
  ]);
  if (start.status !== 0) throw new Error(`pg_ctl start failed: ${start.stderr}`);
  return {
    port,
    user: 'admin',
    password,
    stop: () => {
      asPostgres([postgresBin('pg_ctl'), '-D', data, '-m', 'immediate', 'stop']);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Runs `work` while sampling the command lines of every process whose arguments mention `tool`,
 * so a test can check what reached argv (where any local user can read it).
 */
export async function commandLinesDuring(tool: string, work: () => Promise<unknown>): Promise<string[]> {
  const seen = new Set<string>();
  let running = true;
  const sampler = (async () => {
    while (running) {
      const result = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
      for (const line of result.stdout.split('\n'))
        if (line.includes(tool) && !line.startsWith('ps ')) seen.add(line.trim());
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  try {
    await work();
  } finally {
    running = false;
    await sampler;
  }
  return [...seen];
}
