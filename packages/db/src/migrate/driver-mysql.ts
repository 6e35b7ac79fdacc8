import type mysql from 'mysql2/promise';
import { errorMessage, systemClock } from '@deploy-suite/kit';
import type { Connection } from '../connection.ts';
import { connectMySql } from '../mysql-client.ts';
import type { MigrationFile } from './files.ts';
import {
  HISTORY_COLUMNS,
  HISTORY_TABLE,
  historyValues,
  toHistoryRow,
  LOCK_TABLE,
  LockTimeoutError,
  MigrationFailedError,
  type Execution,
  type HistoryRow,
  type MigrationDriver,
} from './driver.ts';

export class MySqlDriver implements MigrationDriver {
  readonly engine = 'mysql' as const;
  private readonly db: mysql.Connection;
  private readonly database: string;
  private constructor(db: mysql.Connection, database: string) {
    this.db = db;
    this.database = database;
  }

  static async open(connection: Connection): Promise<MySqlDriver> {
    return new MySqlDriver(await connectMySql(connection, connection.database), connection.database);
  }

  async readHistory(): Promise<HistoryRow[]> {
    // One query, as on PostgreSQL: a missing table means no history yet.
    let rows: mysql.RowDataPacket[];
    try {
      [rows] = await this.db.query<mysql.RowDataPacket[]>(
        `SELECT version, description, checksum, normalized_checksum, phase, applied_at, execution_ms, applied_by, success FROM ${HISTORY_TABLE} ORDER BY installed_rank`,
      );
    } catch (error) {
      if ((error as { code?: string }).code === 'ER_NO_SUCH_TABLE') return [];
      throw error;
    }
    return rows.map((r) => toHistoryRow(r));
  }

  async ensureHistory(): Promise<void> {
    await this.db.query(
      `CREATE TABLE IF NOT EXISTS ${HISTORY_TABLE} (installed_rank INT AUTO_INCREMENT PRIMARY KEY, version VARCHAR(100), description VARCHAR(500) NOT NULL, checksum CHAR(64) NOT NULL, normalized_checksum CHAR(64) NOT NULL, phase VARCHAR(16), applied_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), execution_ms INT NOT NULL, applied_by VARCHAR(500) NOT NULL, success BOOLEAN NOT NULL)`,
    );
    await this.db.query(
      `CREATE TABLE IF NOT EXISTS ${LOCK_TABLE} (id INT PRIMARY KEY, holder VARCHAR(500) NOT NULL, acquired_at TIMESTAMP(3) NOT NULL)`,
    );
    // version is null for repeatable migrations; a table made before they existed is relaxed once.
    const [columns] = await this.db.query<mysql.RowDataPacket[]>(
      `SELECT is_nullable AS n FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? AND column_name = 'version'`,
      [HISTORY_TABLE],
    );
    if (columns[0]?.n === 'NO') await this.db.query(`ALTER TABLE ${HISTORY_TABLE} MODIFY version VARCHAR(100) NULL`);
  }

  serverMajor(): Promise<number> {
    return Promise.resolve(0);
  }

  async forgetRepeatables(): Promise<void> {
    await this.db.query(`DELETE FROM ${HISTORY_TABLE} WHERE version IS NULL`);
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
      await systemClock.sleep(Math.min(500, Math.max(50, deadline - Date.now())));
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

  async record(file: MigrationFile, executionMs: number, appliedBy: string, success = true): Promise<void> {
    await this.db.query(
      `INSERT INTO ${HISTORY_TABLE} (${HISTORY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      historyValues(file, executionMs, appliedBy, success),
    );
  }

  /** MySQL commits each DDL statement, so a failure cannot roll back: it is recorded as failed and blocks later applies until repair. */
  async apply(file: MigrationFile, { statements }: Execution, appliedBy: string): Promise<number> {
    const started = performance.now();
    let current: Execution['statements'][number] | undefined;
    try {
      for (current of statements) await this.db.query(current.sql);
    } catch (error) {
      await this.record(file, Math.round(performance.now() - started), appliedBy, false).catch(() => undefined);
      throw new MigrationFailedError(
        `${file.fileName} failed (statement at line ${current?.line ?? '?'}): ${errorMessage(error)}. MySQL cannot roll back DDL: the statements before it stay applied. It is recorded as failed; ${file.kind === 'repeatable' ? 'it runs again on the next apply.' : `fix the schema, then run repair with repair-version: ${file.version}.`}`,
      );
    }
    const elapsed = Math.round(performance.now() - started);
    await this.record(file, elapsed, appliedBy, true);
    return elapsed;
  }

  async undo(file: MigrationFile, { statements }: Execution, version: string): Promise<number> {
    const started = performance.now();
    try {
      for (const statement of statements) await this.db.query(statement.sql);
    } catch (error) {
      throw new MigrationFailedError(
        `${file.fileName} failed: ${errorMessage(error)}. Statements before it stay applied (MySQL cannot roll back DDL).`,
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
