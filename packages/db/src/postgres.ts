import { readdirSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import {
  ConfigurationError,
  errorMessage,
  InputError,
  makeTempDir,
  retry,
  RetryExhaustedError,
} from '@deploy-suite/kit';
import pg from 'pg';
import { isVerified, tlsOf, type Connection } from './connection.ts';
import { APPLICATION_NAME, connectPostgres, quoteIdent } from './pg-client.ts';
import {
  DumpFailedError,
  RestoreFailedError,
  type DatabaseEngine,
  type DumpHandle,
  type DumpOptions,
  type ReplaceOptions,
  type RestoreOptions,
  type ToolInfo,
} from './engine.ts';
import { databaseFailure, feedTool, runTool, spawnTool, type Spawned } from './process.ts';

export const DIRECTORY_FORMAT = 'pg_dump directory (tar)';

/**
 * The libpq environment for a tool, its files in a private folder under RUNNER_TEMP: the password
 * in a 0600 passfile (never argv, nor PGPASSWORD, which /proc/<pid>/environ shows), the TLS mode
 * and certificates. Call remove() when the tool is done.
 */
function toolEnvironment(connection: Connection, database: string): { env: NodeJS.ProcessEnv; remove: () => void } {
  const folder = makeTempDir('pg-tool');
  const file = folder.file;
  try {
    const tls = tlsOf(connection);
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      LANG: 'C.UTF-8',
      PGHOST: connection.host,
      PGPORT: String(connection.port),
      PGUSER: connection.user,
      PGDATABASE: database,
      PGCONNECT_TIMEOUT: '15',
      PGAPPNAME: APPLICATION_NAME,
      // Always set, so nothing else decides it; on loopback the default is libpq's own prefer.
      PGSSLMODE: tls.mode,
    };
    if (connection.password !== undefined) env.PGPASSFILE = file('pgpass', passfileLine(connection.password));
    // Without ssl-ca, the same roots Node trusts (libpq 15 has no sslrootcert=system).
    if (isVerified(tls.mode)) env.PGSSLROOTCERT = file('root.crt', tls.ca ?? rootCertificates.join('\n') + '\n');
    if (tls.cert !== undefined && tls.key !== undefined) {
      env.PGSSLCERT = file('client.crt', tls.cert);
      env.PGSSLKEY = file('client.key', tls.key);
    }
    return { env, remove: () => folder.remove() };
  } catch (error) {
    folder.remove();
    throw error;
  }
}

/**
 * A pgpass line for this one connection (the file serves one tool run, so any host, port,
 * database and user match); ":" and "\\" escaped as the format requires.
 */
export function passfileLine(password: string): string {
  if (/[\r\n]/.test(password)) {
    throw new InputError(
      'password',
      'cannot hold a line break for the PostgreSQL tools (pg_dump, pg_restore)',
      'password: ${{ secrets.DB_PASSWORD }}',
    );
  }
  return `*:*:*:*:${password.replace(/[\\:]/g, (c) => `\\${c}`)}\n`;
}

/** Major version of a tool from "pg_dump (PostgreSQL) 15.19 (Debian …)". */
export function toolMajor(versionText: string): number {
  const match = /\(PostgreSQL\)\s+(\d+)/.exec(versionText);
  return match ? Number(match[1]) : 0;
}

export class PostgresEngine implements DatabaseEngine {
  readonly connection: Connection;
  private readonly binDir: string | undefined;
  private major: number | undefined;

  constructor(connection: Connection, options: { binDir?: string } = {}) {
    this.connection = connection;
    this.binDir = options.binDir;
  }

  client(database = this.connection.database): Promise<pg.Client> {
    return connectPostgres(this.connection, { database, applicationName: APPLICATION_NAME });
  }

  /**
   * Spawns a libpq tool with its private environment (passfile, certificates), which is removed
   * as soon as the tool exits — before anyone awaiting `exited` goes on.
   */
  private spawnLibpqTool(path: string, args: string[], options: { database: string; stdin?: 'pipe' }): Spawned {
    const environment = toolEnvironment(this.connection, options.database);
    const spawned = spawnTool(path, args, { env: environment.env, ...(options.stdin ? { stdin: options.stdin } : {}) });
    void spawned.exited.then(environment.remove);
    return spawned;
  }

  private async withClient<T>(database: string, fn: (client: pg.Client) => Promise<T>, doing?: string): Promise<T> {
    const client = await this.client(database);
    try {
      return await fn(client);
    } catch (error) {
      // A server error or a lost session is the database's doing; anything else stays a bug.
      throw databaseFailure(
        error,
        doing ?? `PostgreSQL at ${this.connection.host}:${this.connection.port} (database ${database})`,
      );
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  async serverVersion(): Promise<string> {
    return this.withClient(this.connection.database, async (client) => {
      const { rows } = await client.query<{ server_version: string; num: string }>(
        "SELECT current_setting('server_version') AS server_version, current_setting('server_version_num') AS num",
      );
      this.major = Math.floor(Number(rows[0]!.num) / 10000);
      return rows[0]!.server_version;
    });
  }

  /**
   * Finds a pg_dump or pg_restore at least as new as the server: the one on PATH, else
   * /usr/lib/postgresql/<major>/bin. Fails saying which version is needed and where it looked.
   */
  async findTool(name: 'pg_dump' | 'pg_restore' | 'psql'): Promise<ToolInfo> {
    if (this.major === undefined) await this.serverVersion();
    const needed = this.major!;
    const candidates = this.binDir !== undefined ? [`${this.binDir}/${name}`] : [name, ...installedPostgresBins(name)];
    const seen: string[] = [];
    for (const path of candidates) {
      const { code, stdout } = await runTool(path, ['--version'], { PATH: process.env.PATH });
      if (code !== 0) {
        seen.push(`${path} (not found)`);
        continue;
      }
      const version = stdout.trim();
      if (toolMajor(version) >= needed) return { path, version };
      seen.push(`${path} (${version})`);
    }
    throw new ConfigurationError(
      `${name} ${needed} or newer is needed for PostgreSQL ${needed}, found only: ${seen.join(', ')}. Install postgresql-client-${needed} or set pg-bin-dir to its bin folder.`,
    );
  }

  async startDump(options: DumpOptions = {}): Promise<DumpHandle> {
    const serverVersion = await this.serverVersion();
    const tool = await this.findTool('pg_dump');
    // One snapshot for the dump and the row counts, so verify compares like with like.
    const snapshotClient = await this.client();
    let snapshot: string;
    try {
      await snapshotClient.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      // The counts run beside the dump: one worker, so they take CPU from it as little as possible.
      await snapshotClient.query('SET LOCAL max_parallel_workers_per_gather = 0');
      snapshot = (await snapshotClient.query<{ id: string }>('SELECT pg_export_snapshot() AS id')).rows[0]!.id;
    } catch (error) {
      await snapshotClient.end().catch(() => undefined);
      throw error;
    }
    const folder = options.format === 'directory' ? makeTempDir('pg-dump') : undefined;
    const directory = folder?.path;
    const formatArgs =
      directory === undefined
        ? ['--format=custom']
        : ['--format=directory', `--jobs=${options.jobs ?? 2}`, `--file=${join(directory, 'dump')}`];
    const spawned = this.spawnLibpqTool(
      tool.path,
      [...formatArgs, '--compress=0', '--no-password', `--snapshot=${snapshot}`],
      {
        database: this.connection.database,
      },
    );
    // Handled from the start (a session killed while the upload waits must not crash the run), and
    // it stops pg_dump: without the counts there is no backup, so there is no point dumping on.
    const rowCounts = countRows(snapshotClient).catch((error: unknown) => {
      spawned.child.kill('SIGTERM');
      throw databaseFailure(error, "Counting rows in the dump's snapshot");
    });
    rowCounts.catch(() => undefined);
    const dumped = spawned.exited.then(async (code) => {
      const countFailure = await rowCounts.then(
        () => undefined,
        (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
      );
      await snapshotClient.query('COMMIT').catch(() => undefined);
      await snapshotClient.end().catch(() => undefined);
      // The counts' failure is the cause when it stopped pg_dump.
      if (countFailure !== undefined) throw countFailure;
      if (code !== 0) {
        throw new DumpFailedError(`pg_dump exited with code ${code}: ${spawned.stderr.toString() || 'no message'}`);
      }
    });
    dumped.catch(() => undefined); // whoever awaits it still sees the failure
    const abort = (): void => void spawned.child.kill('SIGTERM');
    if (directory === undefined) {
      return {
        stream: spawned.child.stdout,
        finished: dumped,
        tool,
        serverVersion,
        format: 'pg_dump custom',
        rowCounts,
        abort,
      };
    }
    // A directory dump is written in parallel to a private folder, then sent on as one tar stream.
    spawned.child.stdout.resume();
    const stream = new PassThrough();
    const finished = dumped
      .then(() => pipeline(Readable.from(tar.create({ cwd: directory, portable: true }, ['dump'])), stream))
      .finally(() => folder!.remove());
    finished.catch((error: unknown) => stream.destroy(error instanceof Error ? error : new Error(String(error))));
    return { stream, finished, tool, serverVersion, format: DIRECTORY_FORMAT, rowCounts, abort };
  }

  async restore(database: string, input: Readable, options: RestoreOptions): Promise<ToolInfo> {
    const tool = await this.findTool('pg_restore');
    const common = [
      '--exit-on-error',
      ...(options.privileges === false ? ['--no-owner', '--no-privileges'] : []),
      '--no-password',
      // A conninfo string that sets the database name alone: a name holding "=" or "postgres://"
      // is never expanded into a connection to some other host.
      `--dbname=dbname='${database.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`,
    ];
    if (options.format === DIRECTORY_FORMAT)
      return this.restoreDirectory(tool, database, input, common, options.jobs ?? 2);
    // One transaction and stop at the first error: a failed restore leaves the target as it was.
    const spawned = this.spawnLibpqTool(tool.path, [...common, '--single-transaction'], { database, stdin: 'pipe' });
    const stdin = spawned.child.stdin!;
    // A damaged backup found late (a failed MAC or hash at the end of the stream) is the real
    // cause: reported as such rather than as whatever pg_restore made of its cut-off input.
    feedTool(input, stdin, () => spawned.child.kill('SIGTERM'));
    const code = await spawned.exited;
    if (input.errored) throw input.errored;
    if (code !== 0) {
      throw new RestoreFailedError(`pg_restore exited with code ${code}: ${spawned.stderr.toString() || 'no message'}`);
    }
    return tool;
  }

  /** Unpacks the tar stream into a private folder, then restores it with parallel jobs. */
  private async restoreDirectory(
    tool: ToolInfo,
    database: string,
    input: Readable,
    common: string[],
    jobs: number,
  ): Promise<ToolInfo> {
    const folder = makeTempDir('pg-restore');
    const directory = folder.path;
    try {
      await extractDump(input, directory);
      // --single-transaction cannot run with --jobs; each pass still stops at its first error.
      // One pass per section: run in parallel, pg_restore can create a trigger on a partitioned
      // table while its partitions' data is still loading, and the trigger fires on that COPY.
      for (const section of ['pre-data', 'data', 'post-data']) {
        const spawned = this.spawnLibpqTool(
          tool.path,
          [...common, `--section=${section}`, `--jobs=${jobs}`, '--format=directory', join(directory, 'dump')],
          { database },
        );
        spawned.child.stdout.resume();
        const code = await spawned.exited;
        if (code !== 0) {
          throw new RestoreFailedError(
            `pg_restore (${section}) exited with code ${code}: ${spawned.stderr.toString() || 'no message'}`,
          );
        }
      }
      return tool;
    } finally {
      folder.remove();
    }
  }

  /**
   * The replacement first gets what lives outside any dump — the old database's owner, its
   * database-level GRANTs, its ALTER DATABASE … SET settings (also per role), connection limit
   * and comment — then both renames run in one transaction: either the replacement is in place
   * and the old one kept, or nothing changed. With terminateSessions, connections to the target
   * are refused and its sessions ended first, and allowed again whatever happens.
   */
  async replaceDatabase(target: string, replacement: string, kept: string, options: ReplaceOptions): Promise<void> {
    await this.withClient('postgres', async (client) => {
      const q = quoteIdent;
      const { rows } = await client.query<{
        owner: string;
        connlimit: number;
        comment: string | null;
        grants: { grantee: string; privilege: string }[] | null;
        settings: { role: string | null; setting: string }[] | null;
      }>(
        `SELECT pg_catalog.pg_get_userbyid(d.datdba) AS owner, d.datconnlimit AS connlimit,
                pg_catalog.shobj_description(d.oid, 'pg_database') AS comment,
                (SELECT json_agg(json_build_object('grantee', CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(a.grantee) END, 'privilege', a.privilege_type))
                   FROM aclexplode(d.datacl) a) AS grants,
                (SELECT json_agg(json_build_object('role', CASE WHEN s.setrole = 0 THEN NULL ELSE pg_catalog.pg_get_userbyid(s.setrole) END, 'setting', c.setting))
                   FROM pg_catalog.pg_db_role_setting s, unnest(s.setconfig) AS c(setting) WHERE s.setdatabase = d.oid) AS settings
           FROM pg_catalog.pg_database d WHERE d.datname = $1`,
        [target],
      );
      const old = rows[0];
      if (old === undefined)
        throw new ConfigurationError(`Database ${target} does not exist any more; nothing was replaced.`);
      try {
        await client.query(`ALTER DATABASE ${q(replacement)} OWNER TO ${q(old.owner)}`);
        for (const grant of old.grants ?? []) {
          const grantee = grant.grantee === 'PUBLIC' ? 'PUBLIC' : q(grant.grantee);
          await client.query(`GRANT ${grant.privilege} ON DATABASE ${q(replacement)} TO ${grantee}`);
        }
        for (const { role, setting } of old.settings ?? []) {
          const at = setting.indexOf('=');
          const [name, value] = [setting.slice(0, at), setting.slice(at + 1)];
          const assignment = `SET ${q(name)} TO ${pg.escapeLiteral(value)}`;
          await client.query(
            role === null
              ? `ALTER DATABASE ${q(replacement)} ${assignment}`
              : `ALTER ROLE ${q(role)} IN DATABASE ${q(replacement)} ${assignment}`,
          );
        }
        await client.query(`ALTER DATABASE ${q(replacement)} CONNECTION LIMIT ${old.connlimit}`);
        if (old.comment !== null)
          await client.query(`COMMENT ON DATABASE ${q(replacement)} IS ${pg.escapeLiteral(old.comment)}`);
      } catch (error) {
        throw new ConfigurationError(
          `Could not give the restored copy ${target}'s owner ${old.owner}, GRANTs and settings: ${errorMessage(error)}. ${target} was left as it was.`,
        );
      }
      let blocked = false;
      try {
        if (options.terminateSessions) {
          await client.query(`ALTER DATABASE ${q(target)} ALLOW_CONNECTIONS false`);
          blocked = true;
          await client.query(
            'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
            [target],
          );
        }
        // Autovacuum visits freshly restored tables; its workers would make the rename fail as
        // "being accessed". The replacement is ours alone, and autovacuum simply comes back later.
        const swap = async (): Promise<void> => {
          await client.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND (datname = $1 OR (datname = $2 AND backend_type = 'autovacuum worker'))",
            [replacement, target],
          );
          await client.query('BEGIN');
          try {
            await client.query(`ALTER DATABASE ${q(target)} RENAME TO ${q(kept)}`);
            await client.query(`ALTER DATABASE ${q(replacement)} RENAME TO ${q(target)}`);
            await client.query('COMMIT');
          } catch (error) {
            await client.query('ROLLBACK').catch(() => undefined);
            throw error;
          }
        };
        try {
          await retry(swap, {
            attempts: 4,
            baseDelayMs: 250,
            // Only a session that came and went in between is worth another try.
            retryable: inUse,
          });
        } catch (failure) {
          const error = failure instanceof RetryExhaustedError ? failure.lastError : failure;
          throw new ConfigurationError(
            `Could not swap the restored copy in for ${target}: ${errorMessage(error)}. ${inUse(error) ? 'It is in use: stop its clients, or set terminate-sessions: true. ' : ''}${target} was left as it was.`,
          );
        }
      } finally {
        // Whichever name it has now, the old database takes connections again.
        if (blocked) {
          for (const name of [kept, target])
            await client.query(`ALTER DATABASE ${q(name)} ALLOW_CONNECTIONS true`).catch(() => undefined);
        }
      }
    });
  }

  rowCounts(database: string): Promise<Record<string, number>> {
    return this.withClient(database, (client) => countRows(client), `Counting rows of ${database}`);
  }

  tableCount(database: string): Promise<number> {
    return this.withClient(database, async (client) => {
      const { rows } = await client.query<{ n: string }>(
        "SELECT count(*) AS n FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r','p','v','m','S','f') AND n.nspname NOT IN ('pg_catalog','information_schema') AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'",
      );
      return Number(rows[0]!.n);
    });
  }

  databaseExists(database: string): Promise<boolean> {
    return this.withClient('postgres', async (client) => {
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      return (rowCount ?? 0) > 0;
    });
  }

  async createDatabase(database: string): Promise<void> {
    await this.withClient('postgres', (client) => client.query(`CREATE DATABASE ${quoteIdent(database)}`));
  }

  async dropDatabase(database: string): Promise<void> {
    await this.withClient('postgres', (client) =>
      // Never WITH (FORCE): sessions of others are not ours to end. Scratch databases, which this
      // run made under a name nobody else has, are dropped by the scratch helper instead.
      client.query(`DROP DATABASE IF EXISTS ${quoteIdent(database)}`),
    );
  }
}

/** PostgreSQL's answer to renaming a database that has sessions. */
const inUse = (error: unknown): boolean => /being accessed by other users/.test(errorMessage(error));

/**
 * Unpacks a directory dump's tar stream. Only plain files and folders under dump/ are accepted;
 * anything else (a link, a device, a path escaping the folder) means the archive is not one we
 * wrote, and it stops the restore before pg_restore sees it.
 */
async function extractDump(input: Readable, directory: string): Promise<void> {
  const refused: string[] = [];
  try {
    await pipeline(
      input,
      tar.extract({
        cwd: directory,
        strict: true,
        filter: (path, entry) => {
          const type = 'type' in entry ? entry.type : undefined;
          const ok = /^dump(\/[A-Za-z0-9._-]+)?\/?$/.test(path) && (type === 'File' || type === 'Directory');
          if (!ok) refused.push(path.slice(0, 200));
          return ok;
        },
      }),
    );
  } catch (error) {
    if (input.errored) throw input.errored;
    if (error instanceof ConfigurationError) throw error;
    throw new RestoreFailedError(`The backup's directory archive cannot be unpacked: ${errorMessage(error)}`);
  }
  if (refused.length > 0) {
    throw new RestoreFailedError(
      `The backup's directory archive holds entries a directory dump never has (${refused.slice(0, 3).join(', ')}); nothing was restored.`,
    );
  }
}

/** Exact row counts per user table, inside whatever transaction the client is in. */
async function countRows(client: pg.Client): Promise<Record<string, number>> {
  const { rows: tables } = await client.query<{ schema: string; name: string }>(
    "SELECT n.nspname AS schema, c.relname AS name FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r','p') AND NOT c.relispartition AND n.nspname NOT IN ('pg_catalog','information_schema') AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%' ORDER BY 1, 2",
  );
  const counts: Record<string, number> = {};
  for (const table of tables) {
    const { rows } = await client.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${quoteIdent(table.schema)}.${quoteIdent(table.name)}`,
    );
    counts[`${table.schema}.${table.name}`] = Number(rows[0]!.n);
  }
  return counts;
}

function installedPostgresBins(name: string): string[] {
  try {
    return readdirSync('/usr/lib/postgresql')
      .filter((entry) => /^\d+$/.test(entry))
      .sort((a, b) => Number(b) - Number(a))
      .map((major) => `/usr/lib/postgresql/${major}/bin/${name}`);
  } catch {
    return [];
  }
}
