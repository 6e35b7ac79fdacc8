import { ConfigurationError } from '@deploy-suite/kit';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { missingPasswordError, type Connection, type Engine } from '../connection.ts';
import type { MigrationFile, Phase } from './files.ts';
import type { Statement } from './split.ts';

export const HISTORY_TABLE = 'deploy_suite_schema_history';
export const LOCK_TABLE = 'deploy_suite_migration_lock';

export interface HistoryRow {
  version: string;
  description: string;
  checksum: string;
  normalizedChecksum: string;
  phase: Phase | null;
  appliedAt: string;
  executionMs: number;
  appliedBy: string;
  success: boolean;
}

export class LockTimeoutError extends ConfigurationError {
  override name = 'LockTimeoutError';
}

export class MigrationFailedError extends ConfigurationError {
  override name = 'MigrationFailedError';
}

export interface DriverOptions {
  /** PostgreSQL schema for the history table (default public); MySQL uses the database. */
  schema?: string;
  lockTimeout?: string;
  statementTimeout?: string;
}

/** What the migration commands need from a database, one session for the whole command. */
export interface MigrationDriver {
  readonly engine: Engine;
  readHistory(): Promise<HistoryRow[]>;
  ensureHistory(): Promise<void>;
  /** Takes the session-level lock, waiting up to waitMs; the lock dies with the connection. */
  lock(waitMs: number): Promise<void>;
  unlock(): Promise<void>;
  /** Tells lock waiters who holds the lock (run URL and actor). */
  recordHolder(holder: string): Promise<void>;
  /** Runs a migration and records it; see each engine for what a failure leaves. */
  apply(file: MigrationFile, statements: Statement[], appliedBy: string): Promise<number>;
  undo(file: MigrationFile, statements: Statement[], version: string): Promise<number>;
  updateChecksum(version: string, checksum: string, normalizedChecksum: string): Promise<void>;
  /** Removes the failed record of a version (repair). Returns how many rows went. */
  deleteFailed(version: string): Promise<number>;
  /** A canonical description of the schema's tables, columns and indexes (history excluded). */
  schemaSnapshot(): Promise<string>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

export async function openDriver(connection: Connection, options: DriverOptions = {}): Promise<MigrationDriver> {
  return connection.engine === 'postgres' ? PostgresDriver.open(connection, options) : MySqlDriver.open(connection);
}

class PostgresDriver implements MigrationDriver {
  readonly engine = 'postgres' as const;
  private readonly client: pg.Client;
  private readonly schema: string;
  private constructor(client: pg.Client, schema: string) {
    this.client = client;
    this.schema = schema;
  }

  static async open(connection: Connection, options: DriverOptions): Promise<PostgresDriver> {
    const client = new pg.Client({
      host: connection.host,
      port: connection.port,
      user: connection.user,
      password: connection.password ?? '',
      database: connection.database,
      application_name: 'deploy-suite migrate',
      connectionTimeoutMillis: 15_000,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (error) {
      void client.end().catch(() => undefined);
      throw (
        missingPasswordError(connection, errorText(error)) ??
        new ConfigurationError(
          `Could not connect to PostgreSQL at ${connection.host}:${connection.port} (database ${connection.database}): ${errorText(error)}`,
        )
      );
    }
    // A migration waits seconds, not hours, behind a long transaction.
    await client.query(`SET lock_timeout = '${(options.lockTimeout ?? '10s').replace(/'/g, '')}'`);
    await client.query(`SET statement_timeout = '${(options.statementTimeout ?? '0').replace(/'/g, '')}'`);
    return new PostgresDriver(client, options.schema ?? 'public');
  }

  private get history(): string {
    return `"${this.schema.replace(/"/g, '""')}".${HISTORY_TABLE}`;
  }

  private get lockInfo(): string {
    return `"${this.schema.replace(/"/g, '""')}".${LOCK_TABLE}`;
  }

  async readHistory(): Promise<HistoryRow[]> {
    const exists = await this.client.query('SELECT to_regclass($1) AS t', [this.history]);
    if ((exists.rows[0] as { t: string | null }).t === null) return [];
    const { rows } = await this.client.query(
      `SELECT version, description, checksum, normalized_checksum, phase, applied_at, execution_ms, applied_by, success FROM ${this.history} ORDER BY installed_rank`,
    );
    return rows.map((r: Record<string, unknown>) => ({
      version: String(r.version),
      description: String(r.description),
      checksum: String(r.checksum),
      normalizedChecksum: String(r.normalized_checksum),
      phase: (r.phase as Phase | null) ?? null,
      appliedAt: new Date(r.applied_at as string).toISOString(),
      executionMs: Number(r.execution_ms),
      appliedBy: String(r.applied_by),
      success: Boolean(r.success),
    }));
  }

  async ensureHistory(): Promise<void> {
    await this.client.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema.replace(/"/g, '""')}"`);
    await this.client.query(
      `CREATE TABLE IF NOT EXISTS ${this.history} (installed_rank serial PRIMARY KEY, version text NOT NULL, description text NOT NULL, checksum text NOT NULL, normalized_checksum text NOT NULL, phase text, applied_at timestamptz NOT NULL DEFAULT now(), execution_ms integer NOT NULL, applied_by text NOT NULL, success boolean NOT NULL)`,
    );
    await this.client.query(
      `CREATE TABLE IF NOT EXISTS ${this.lockInfo} (id int PRIMARY KEY, holder text NOT NULL, acquired_at timestamptz NOT NULL)`,
    );
  }

  private lockKey(): Promise<string> {
    return this.client
      .query('SELECT hashtext($1) AS k', [`${this.schema}.${HISTORY_TABLE}`])
      .then((r) => String((r.rows[0] as { k: number }).k));
  }

  async lock(waitMs: number): Promise<void> {
    const key = await this.lockKey();
    const deadline = Date.now() + waitMs;
    for (;;) {
      const { rows } = await this.client.query('SELECT pg_try_advisory_lock(872374, $1::int) AS ok', [key]);
      if ((rows[0] as { ok: boolean }).ok) break;
      if (Date.now() >= deadline) {
        const info = await this.client
          .query(`SELECT holder, acquired_at FROM ${this.lockInfo} WHERE id = 1`)
          .catch(() => ({ rows: [] }));
        const who = (info.rows[0] as { holder?: string } | undefined)?.holder ?? 'another session';
        throw new LockTimeoutError(
          `Timed out after ${Math.round(waitMs / 1000)} s waiting for the migration lock held by ${who}. Raise lock-wait-timeout or wait for that run to finish.`,
        );
      }
      await sleep(Math.min(500, Math.max(50, deadline - Date.now())));
    }
  }

  async recordHolder(holder: string): Promise<void> {
    await this.client.query(
      `INSERT INTO ${this.lockInfo} (id, holder, acquired_at) VALUES (1, $1, now()) ON CONFLICT (id) DO UPDATE SET holder = EXCLUDED.holder, acquired_at = EXCLUDED.acquired_at`,
      [holder],
    );
  }

  async unlock(): Promise<void> {
    const key = await this.lockKey();
    await this.client.query('SELECT pg_advisory_unlock(872374, $1::int)', [key]);
  }

  private async record(file: MigrationFile, executionMs: number, appliedBy: string, success: boolean): Promise<void> {
    await this.client.query(
      `INSERT INTO ${this.history} (version, description, checksum, normalized_checksum, phase, execution_ms, applied_by, success) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        file.version,
        file.description,
        file.checksum,
        file.normalizedChecksum,
        file.phase ?? null,
        executionMs,
        appliedBy,
        success,
      ],
    );
  }

  /**
   * In a transaction (the default), a failure rolls back the schema and the history alike. A
   * no-transaction migration that fails is recorded as failed, which blocks applies until repair.
   */
  async apply(file: MigrationFile, statements: Statement[], appliedBy: string): Promise<number> {
    const started = performance.now();
    if (file.transaction) await this.client.query('BEGIN');
    let current: Statement | undefined;
    try {
      for (current of statements) await this.client.query(current.sql);
      const elapsed = Math.round(performance.now() - started);
      await this.record(file, elapsed, appliedBy, true);
      if (file.transaction) await this.client.query('COMMIT');
      return elapsed;
    } catch (error) {
      const where = current ? ` (statement at line ${current.line})` : '';
      if (file.transaction) {
        await this.client.query('ROLLBACK').catch(() => undefined);
        throw new MigrationFailedError(
          `${file.fileName} failed${where}: ${errorText(error)}. It was rolled back: schema and history are as they were.`,
        );
      }
      await this.record(file, Math.round(performance.now() - started), appliedBy, false).catch(() => undefined);
      throw new MigrationFailedError(
        `${file.fileName} (no-transaction) failed${where}: ${errorText(error)}. It is recorded as failed; fix what it left, then run repair with repair-version: ${file.version}.`,
      );
    }
  }

  async undo(file: MigrationFile, statements: Statement[], version: string): Promise<number> {
    const started = performance.now();
    await this.client.query('BEGIN');
    try {
      for (const statement of statements) await this.client.query(statement.sql);
      await this.client.query(`DELETE FROM ${this.history} WHERE version = $1`, [version]);
      await this.client.query('COMMIT');
      return Math.round(performance.now() - started);
    } catch (error) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw new MigrationFailedError(`${file.fileName} failed: ${errorText(error)}. It was rolled back.`);
    }
  }

  async updateChecksum(version: string, checksum: string, normalizedChecksum: string): Promise<void> {
    await this.client.query(
      `UPDATE ${this.history} SET checksum = $2, normalized_checksum = $3 WHERE version = $1 AND success`,
      [version, checksum, normalizedChecksum],
    );
  }

  async deleteFailed(version: string): Promise<number> {
    const result = await this.client.query(`DELETE FROM ${this.history} WHERE version = $1 AND NOT success`, [version]);
    return result.rowCount ?? 0;
  }

  async schemaSnapshot(): Promise<string> {
    const columns = await this.client.query(
      `SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns WHERE table_schema = $1 AND table_name NOT IN ($2, $3) ORDER BY 1, 2`,
      [this.schema, HISTORY_TABLE, LOCK_TABLE],
    );
    const indexes = await this.client.query(
      `SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename NOT IN ($2, $3) ORDER BY 1, 2`,
      [this.schema, HISTORY_TABLE, LOCK_TABLE],
    );
    const constraints = await this.client.query(
      `SELECT conrelid::regclass::text AS t, conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE connamespace = $1::regnamespace AND conrelid::regclass::text NOT LIKE '%deploy_suite_%' ORDER BY 1, 2`,
      [this.schema],
    );
    return JSON.stringify({ columns: columns.rows, indexes: indexes.rows, constraints: constraints.rows });
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}

class MySqlDriver implements MigrationDriver {
  readonly engine = 'mysql' as const;
  private readonly db: mysql.Connection;
  private readonly database: string;
  private constructor(db: mysql.Connection, database: string) {
    this.db = db;
    this.database = database;
  }

  static async open(connection: Connection): Promise<MySqlDriver> {
    try {
      const db = await mysql.createConnection({
        host: connection.host,
        port: connection.port,
        user: connection.user,
        password: connection.password,
        database: connection.database,
        connectTimeout: 15_000,
      });
      db.on('error', () => undefined);
      return new MySqlDriver(db, connection.database);
    } catch (error) {
      throw (
        missingPasswordError(connection, errorText(error)) ??
        new ConfigurationError(
          `Could not connect to MySQL at ${connection.host}:${connection.port} (database ${connection.database}): ${errorText(error)}`,
        )
      );
    }
  }

  async readHistory(): Promise<HistoryRow[]> {
    const [tables] = await this.db.query<mysql.RowDataPacket[]>(
      'SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?',
      [HISTORY_TABLE],
    );
    if (tables.length === 0) return [];
    const [rows] = await this.db.query<mysql.RowDataPacket[]>(
      `SELECT version, description, checksum, normalized_checksum, phase, applied_at, execution_ms, applied_by, success FROM ${HISTORY_TABLE} ORDER BY installed_rank`,
    );
    return rows.map((r) => ({
      version: String(r.version),
      description: String(r.description),
      checksum: String(r.checksum),
      normalizedChecksum: String(r.normalized_checksum),
      phase: (r.phase as Phase | null) ?? null,
      appliedAt: new Date(r.applied_at as string).toISOString(),
      executionMs: Number(r.execution_ms),
      appliedBy: String(r.applied_by),
      success: Boolean(r.success),
    }));
  }

  async ensureHistory(): Promise<void> {
    await this.db.query(
      `CREATE TABLE IF NOT EXISTS ${HISTORY_TABLE} (installed_rank INT AUTO_INCREMENT PRIMARY KEY, version VARCHAR(100) NOT NULL, description VARCHAR(500) NOT NULL, checksum CHAR(64) NOT NULL, normalized_checksum CHAR(64) NOT NULL, phase VARCHAR(16), applied_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), execution_ms INT NOT NULL, applied_by VARCHAR(500) NOT NULL, success BOOLEAN NOT NULL)`,
    );
    await this.db.query(
      `CREATE TABLE IF NOT EXISTS ${LOCK_TABLE} (id INT PRIMARY KEY, holder VARCHAR(500) NOT NULL, acquired_at TIMESTAMP(3) NOT NULL)`,
    );
  }

  private get lockName(): string {
    return `deploy_suite_migrate.${this.database}`.slice(0, 64);
  }

  async lock(waitMs: number): Promise<void> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const [rows] = await this.db.query<mysql.RowDataPacket[]>('SELECT GET_LOCK(?, 0) AS ok', [this.lockName]);
      if (Number(rows[0]!.ok) === 1) break;
      if (Date.now() >= deadline) {
        const [info] = await this.db
          .query<mysql.RowDataPacket[]>(`SELECT holder FROM ${LOCK_TABLE} WHERE id = 1`)
          .catch(() => [[]] as unknown as [mysql.RowDataPacket[]]);
        const who = (info[0]?.holder as string | undefined) ?? 'another session';
        throw new LockTimeoutError(
          `Timed out after ${Math.round(waitMs / 1000)} s waiting for the migration lock held by ${who}. Raise lock-wait-timeout or wait for that run to finish.`,
        );
      }
      await sleep(Math.min(500, Math.max(50, deadline - Date.now())));
    }
  }

  async recordHolder(holder: string): Promise<void> {
    await this.db.query(`REPLACE INTO ${LOCK_TABLE} (id, holder, acquired_at) VALUES (1, ?, CURRENT_TIMESTAMP(3))`, [
      holder,
    ]);
  }

  async unlock(): Promise<void> {
    await this.db.query('SELECT RELEASE_LOCK(?)', [this.lockName]);
  }

  private async record(file: MigrationFile, executionMs: number, appliedBy: string, success: boolean): Promise<void> {
    await this.db.query(
      `INSERT INTO ${HISTORY_TABLE} (version, description, checksum, normalized_checksum, phase, execution_ms, applied_by, success) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        file.version,
        file.description,
        file.checksum,
        file.normalizedChecksum,
        file.phase ?? null,
        executionMs,
        appliedBy,
        success,
      ],
    );
  }

  /** MySQL commits each DDL statement, so a failure cannot roll back: it is recorded as failed and blocks later applies until repair. */
  async apply(file: MigrationFile, statements: Statement[], appliedBy: string): Promise<number> {
    const started = performance.now();
    let current: Statement | undefined;
    try {
      for (current of statements) await this.db.query(current.sql);
    } catch (error) {
      await this.record(file, Math.round(performance.now() - started), appliedBy, false).catch(() => undefined);
      throw new MigrationFailedError(
        `${file.fileName} failed (statement at line ${current?.line ?? '?'}): ${errorText(error)}. MySQL cannot roll back DDL: the statements before it stay applied. It is recorded as failed; fix the schema, then run repair with repair-version: ${file.version}.`,
      );
    }
    const elapsed = Math.round(performance.now() - started);
    await this.record(file, elapsed, appliedBy, true);
    return elapsed;
  }

  async undo(file: MigrationFile, statements: Statement[], version: string): Promise<number> {
    const started = performance.now();
    try {
      for (const statement of statements) await this.db.query(statement.sql);
    } catch (error) {
      throw new MigrationFailedError(
        `${file.fileName} failed: ${errorText(error)}. Statements before it stay applied (MySQL cannot roll back DDL).`,
      );
    }
    await this.db.query(`DELETE FROM ${HISTORY_TABLE} WHERE version = ?`, [version]);
    return Math.round(performance.now() - started);
  }

  async updateChecksum(version: string, checksum: string, normalizedChecksum: string): Promise<void> {
    await this.db.query(
      `UPDATE ${HISTORY_TABLE} SET checksum = ?, normalized_checksum = ? WHERE version = ? AND success`,
      [checksum, normalizedChecksum, version],
    );
  }

  async deleteFailed(version: string): Promise<number> {
    const [result] = await this.db.query<mysql.ResultSetHeader>(
      `DELETE FROM ${HISTORY_TABLE} WHERE version = ? AND NOT success`,
      [version],
    );
    return result.affectedRows;
  }

  async schemaSnapshot(): Promise<string> {
    const [columns] = await this.db.query(
      `SELECT table_name, column_name, column_type, is_nullable, column_default FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name NOT IN (?, ?) ORDER BY 1, 2`,
      [HISTORY_TABLE, LOCK_TABLE],
    );
    const [indexes] = await this.db.query(
      `SELECT table_name, index_name, seq_in_index, column_name, non_unique FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name NOT IN (?, ?) ORDER BY 1, 2, 3`,
      [HISTORY_TABLE, LOCK_TABLE],
    );
    return JSON.stringify({ columns, indexes });
  }

  async close(): Promise<void> {
    await this.db.end().catch(() => undefined);
  }
}
