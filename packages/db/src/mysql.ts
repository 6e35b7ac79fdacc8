import { rootCertificates } from 'node:tls';
import type { Readable } from 'node:stream';
import { ConfigurationError, makeTempDir } from '@deploy-suite/kit';
import type mysql from 'mysql2/promise';
import { isVerified, tlsOf, type Connection } from './connection.ts';
import { connectMySql, quoteMySqlIdent } from './mysql-client.ts';
import { replaceMySqlDatabase } from './mysql-swap.ts';
import {
  DumpFailedError,
  RestoreFailedError,
  type DatabaseEngine,
  type DumpHandle,
  type ReplaceOptions,
  type ToolInfo,
} from './engine.ts';
import { databaseFailure, feedTool, runTool, spawnTool } from './process.ts';

/** Option-file value in double quotes; backslash escapes are interpreted by the client. */
function optionValue(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/**
 * A private (0600) client option file under RUNNER_TEMP carrying the credentials and TLS settings,
 * so the password is never in argv or the environment; removed when the tool is done.
 */
function writeDefaultsFile(connection: Connection): { path: string; remove: () => void } {
  const folder = makeTempDir('db-client');
  try {
    const file = folder.file;
    const lines = [
      '[client]',
      `host=${optionValue(connection.host)}`,
      `port=${connection.port}`,
      `user=${optionValue(connection.user)}`,
    ];
    if (connection.password !== undefined) lines.push(`password=${optionValue(connection.password)}`);
    const tls = tlsOf(connection);
    if (tls.mode === 'disable') lines.push('skip-ssl');
    if (tls.mode === 'require') lines.push('ssl', 'skip-ssl-verify-server-cert');
    if (isVerified(tls.mode)) {
      // The client only refuses a server without TLS when it verifies the name too, so verify-ca
      // is verify-full for the tools: stricter, never a silent fall back to plaintext.
      lines.push(
        'ssl',
        `ssl-ca=${optionValue(file('ca.pem', tls.ca ?? rootCertificates.join('\n') + '\n'))}`,
        'ssl-verify-server-cert',
      );
    }
    if (tls.cert !== undefined && tls.key !== undefined) {
      lines.push(`ssl-cert=${optionValue(file('client.pem', tls.cert))}`);
      lines.push(`ssl-key=${optionValue(file('client.key', tls.key))}`);
    }
    return { path: file('client.cnf', lines.join('\n') + '\n'), remove: () => folder.remove() };
  } catch (error) {
    folder.remove();
    throw error;
  }
}

export class MySqlEngine implements DatabaseEngine {
  readonly connection: Connection;
  private flavour: 'mariadb' | 'mysql' | undefined;

  constructor(connection: Connection) {
    this.connection = connection;
  }

  private async withConnection<T>(
    database: string | undefined,
    fn: (db: mysql.Connection) => Promise<T>,
    doing?: string,
  ): Promise<T> {
    const db = await connectMySql(this.connection, database);
    try {
      return await fn(db);
    } catch (error) {
      // A server error or a lost session is the database's doing; anything else stays a bug.
      throw databaseFailure(
        error,
        doing ??
          `MySQL at ${this.connection.host}:${this.connection.port}${database === undefined ? '' : ` (database ${database})`}`,
      );
    } finally {
      await db.end().catch(() => undefined);
    }
  }

  async serverVersion(): Promise<string> {
    return this.withConnection(this.connection.database, async (db) => {
      const [rows] = await db.query<mysql.RowDataPacket[]>('SELECT VERSION() AS version');
      const version = String(rows[0]!.version);
      this.flavour = /mariadb/i.test(version) ? 'mariadb' : 'mysql';
      return version;
    });
  }

  private async findTool(kind: 'dump' | 'client'): Promise<ToolInfo> {
    if (this.flavour === undefined) await this.serverVersion();
    const names =
      kind === 'dump'
        ? this.flavour === 'mariadb'
          ? ['mariadb-dump', 'mysqldump']
          : ['mysqldump', 'mariadb-dump']
        : this.flavour === 'mariadb'
          ? ['mariadb', 'mysql']
          : ['mysql', 'mariadb'];
    for (const name of names) {
      const { code, stdout } = await runTool(name, ['--version'], { PATH: process.env.PATH });
      if (code === 0) return { path: name, version: stdout.trim() };
    }
    throw new ConfigurationError(
      `None of ${names.join(', ')} is installed; install the mariadb-client or mysql-client package.`,
    );
  }

  async startDump(): Promise<DumpHandle> {
    const serverVersion = await this.serverVersion();
    const tool = await this.findTool('dump');
    // Counted just before the dump's own consistent snapshot; exact when nothing writes meanwhile.
    // A failure stops the backup here, before anything is dumped or uploaded.
    const rowCounts = Promise.resolve(await this.rowCounts(this.connection.database));
    const defaults = writeDefaultsFile(this.connection);
    const spawned = spawnTool(
      tool.path,
      [
        `--defaults-extra-file=${defaults.path}`,
        '--single-transaction',
        '--routines',
        '--triggers',
        '--events',
        '--hex-blob',
        '--default-character-set=utf8mb4',
        // The bare name, not --databases: no CREATE DATABASE/USE in the dump, so a restore
        // goes only where it is sent (a scratch database when verifying).
        this.connection.database,
      ],
      { env: { PATH: process.env.PATH, LANG: 'C.UTF-8' } },
    );
    const finished = spawned.exited.then((code) => {
      defaults.remove();
      if (code !== 0)
        throw new DumpFailedError(
          `${tool.path} exited with code ${code}: ${spawned.stderr.toString() || 'no message'}`,
        );
    });
    // Handled from the start: the tool can die while the upload is held, long before anyone awaits it.
    finished.catch(() => undefined);
    return {
      stream: spawned.child.stdout,
      finished,
      tool,
      serverVersion,
      format: 'SQL',
      rowCounts,
      abort: () => spawned.child.kill('SIGTERM'),
    };
  }

  async restore(database: string, input: Readable): Promise<ToolInfo> {
    const tool = await this.findTool('client');
    const defaults = writeDefaultsFile(this.connection);
    // The client stops at the first error (no --force).
    const spawned = spawnTool(
      tool.path,
      // No LOAD DATA LOCAL INFILE: a planted dump must not read the runner's files.
      [`--defaults-extra-file=${defaults.path}`, '--local-infile=0', '--binary-mode', '--database', database],
      {
        env: { PATH: process.env.PATH, LANG: 'C.UTF-8' },
        stdin: 'pipe',
      },
    );
    const stdin = spawned.child.stdin!;
    // A damaged backup found late is the real cause, not the client's view of its cut-off input.
    feedTool(input, stdin, () => spawned.child.kill('SIGTERM'));
    const code = await spawned.exited;
    defaults.remove();
    if (input.errored) throw input.errored;
    if (code !== 0)
      throw new RestoreFailedError(
        `${tool.path} exited with code ${code}: ${spawned.stderr.toString() || 'no message'}`,
      );
    return tool;
  }

  /** See replaceMySqlDatabase: one atomic RENAME TABLE, the other objects recreated, undone on failure. */
  async replaceDatabase(target: string, replacement: string, kept: string, options: ReplaceOptions): Promise<void> {
    await replaceMySqlDatabase(this.connection, target, replacement, kept, options);
  }

  rowCounts(database: string): Promise<Record<string, number>> {
    return this.withConnection(
      database,
      async (db) => {
        const [tables] = await db.query<mysql.RowDataPacket[]>(
          // MariaDB's system-versioned tables hold rows too (their current ones are counted).
          "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ? AND table_type IN ('BASE TABLE', 'SYSTEM VERSIONED') ORDER BY 1",
          [database],
        );
        const counts: Record<string, number> = {};
        for (const table of tables) {
          const [rows] = await db.query<mysql.RowDataPacket[]>(
            `SELECT COUNT(*) AS n FROM ${quoteMySqlIdent(String(table.name))}`,
          );
          counts[String(table.name)] = Number(rows[0]!.n);
        }
        return counts;
      },
      `Counting rows of ${database}`,
    );
  }

  tableCount(database: string): Promise<number> {
    return this.withConnection(undefined, async (db) => {
      const [rows] = await db.query<mysql.RowDataPacket[]>(
        'SELECT (SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ?) + (SELECT COUNT(*) FROM information_schema.routines WHERE routine_schema = ?) AS n',
        [database, database],
      );
      return Number(rows[0]!.n);
    });
  }

  databaseExists(database: string): Promise<boolean> {
    return this.withConnection(undefined, async (db) => {
      const [rows] = await db.query<mysql.RowDataPacket[]>(
        'SELECT 1 FROM information_schema.schemata WHERE schema_name = ?',
        [database],
      );
      return rows.length > 0;
    });
  }

  async createDatabase(database: string): Promise<void> {
    await this.withConnection(undefined, (db) =>
      db.query(`CREATE DATABASE ${quoteMySqlIdent(database)} CHARACTER SET utf8mb4`),
    );
  }

  async dropDatabase(database: string): Promise<void> {
    await this.withConnection(undefined, (db) => db.query(`DROP DATABASE IF EXISTS ${quoteMySqlIdent(database)}`));
  }
}
