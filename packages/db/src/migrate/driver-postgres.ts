import type pg from 'pg';
import { errorMessage, InputError, systemClock } from '@deploy-suite/kit';
import type { Connection } from '../connection.ts';
import { connectPostgres, quoteIdent } from '../pg-client.ts';
import type { MigrationFile } from './files.ts';
import {
  HISTORY_COLUMNS,
  HISTORY_TABLE,
  historyValues,
  toHistoryRow,
  LOCK_TABLE,
  LockTimeoutError,
  MigrationFailedError,
  type DriverOptions,
  type Execution,
  type HistoryRow,
  type MigrationDriver,
} from './driver.ts';

export class PostgresDriver implements MigrationDriver {
  readonly engine = 'postgres' as const;
  private readonly client: pg.Client;
  private readonly schema: string;
  private major: Promise<number> | undefined;
  private constructor(client: pg.Client, schema: string) {
    this.client = client;
    this.schema = schema;
  }

  static async open(connection: Connection, options: DriverOptions): Promise<PostgresDriver> {
    // A migration waits seconds, not hours, behind a long transaction.
    const lockTimeoutMs = options.lockTimeoutMs ?? 10_000;
    const statementTimeoutMs = options.statementTimeoutMs ?? 0;
    try {
      const client = await connectPostgres(connection, {
        database: connection.database,
        applicationName: 'deploy-suite migrate',
        lockTimeoutMs,
        statementTimeoutMs,
      });
      return new PostgresDriver(client, options.schema ?? 'public');
    } catch (error) {
      throw refusedSetting(error, lockTimeoutMs, statementTimeoutMs) ?? error;
    }
  }

  private get history(): string {
    return `${quoteIdent(this.schema)}.${HISTORY_TABLE}`;
  }

  private get lockInfo(): string {
    return `${quoteIdent(this.schema)}.${LOCK_TABLE}`;
  }

  async readHistory(): Promise<HistoryRow[]> {
    let rows: Record<string, unknown>[];
    try {
      ({ rows } = await this.client.query(
        `SELECT version, description, checksum, normalized_checksum, phase, applied_at::text AS applied_at, execution_ms, applied_by, success FROM ${this.history} ORDER BY installed_rank`,
      ));
    } catch (error) {
      if ((error as { code?: string }).code === '42P01') return []; // no history table yet
      throw error;
    }
    return rows.map((r) => toHistoryRow(r));
  }

  async ensureHistory(): Promise<void> {
    await this.client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(this.schema)}`);
    // version is null for repeatable migrations; a table made before they existed is relaxed once.
    await this.client.query(
      `CREATE TABLE IF NOT EXISTS ${this.history} (installed_rank serial PRIMARY KEY, version text, description text NOT NULL, checksum text NOT NULL, normalized_checksum text NOT NULL, phase text, applied_at timestamptz NOT NULL DEFAULT now(), execution_ms integer NOT NULL, applied_by text NOT NULL, success boolean NOT NULL);
       CREATE TABLE IF NOT EXISTS ${this.lockInfo} (id int PRIMARY KEY, holder text NOT NULL, acquired_at timestamptz NOT NULL);
       DO $relax$ BEGIN
         IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = ${this.client.escapeLiteral(this.history)}::regclass AND attname = 'version' AND attnotnull) THEN
           ALTER TABLE ${this.history} ALTER COLUMN version DROP NOT NULL;
         END IF;
       END $relax$`,
    );
  }

  serverMajor(): Promise<number> {
    this.major ??= this.client
      .query('SHOW server_version_num')
      .then((r) => Math.floor(Number((r.rows[0] as { server_version_num: string }).server_version_num) / 10000));
    return this.major;
  }

  async forgetRepeatables(): Promise<void> {
    await this.client.query(`DELETE FROM ${this.history} WHERE version IS NULL`);
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
      await systemClock.sleep(Math.min(500, Math.max(50, deadline - Date.now())));
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

  async record(file: MigrationFile, executionMs: number, appliedBy: string, success = true): Promise<void> {
    await this.client.query(
      `INSERT INTO ${this.history} (${HISTORY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      historyValues(file, executionMs, appliedBy, success),
    );
  }

  /**
   * In a transaction (the default), a failure rolls back the schema and the history alike. A
   * no-transaction migration that fails is recorded as failed, which blocks applies until repair.
   */
  async apply(file: MigrationFile, { statements, transaction }: Execution, appliedBy: string): Promise<number> {
    const started = performance.now();
    let current: Execution['statements'][number] | undefined;
    try {
      // Round trips dominate small migrations: BEGIN travels with the first statement, and the
      // history row with COMMIT (simple protocol, literals escaped by the driver). Outside a
      // transaction each statement goes alone: PostgreSQL runs a multi-statement query in one.
      let first = transaction;
      for (current of statements) {
        await this.client.query(first ? `BEGIN;\n${current.sql}` : current.sql);
        first = false;
      }
      if (first) await this.client.query('BEGIN');
      current = undefined;
      const elapsed = Math.round(performance.now() - started);
      const values = historyValues(file, elapsed, appliedBy, true)
        .map((value) =>
          value === null ? 'NULL' : typeof value === 'string' ? this.client.escapeLiteral(value) : String(value),
        )
        .join(', ');
      await this.client.query(
        `INSERT INTO ${this.history} (${HISTORY_COLUMNS}) VALUES (${values})${transaction ? ';\nCOMMIT' : ''}`,
      );
      return elapsed;
    } catch (error) {
      const where = current ? ` (statement at line ${current.line})` : '';
      if (transaction) {
        await this.client.query('ROLLBACK').catch(() => undefined);
        throw new MigrationFailedError(
          `${file.fileName} failed${where}: ${errorMessage(error)}. It was rolled back: schema and history are as they were.`,
        );
      }
      await this.record(file, Math.round(performance.now() - started), appliedBy, false).catch(() => undefined);
      throw new MigrationFailedError(
        file.kind === 'repeatable'
          ? `${file.fileName} (run outside a transaction) failed${where}: ${errorMessage(error)}. The statements before it stay applied; it is recorded as failed and runs again on the next apply.`
          : `${file.fileName} (run outside a transaction) failed${where}: ${errorMessage(error)}. The statements before it stay applied; it is recorded as failed: fix what it left, then run repair with repair-version: ${file.version}.`,
      );
    }
  }

  async undo(file: MigrationFile, { statements, transaction }: Execution, version: string): Promise<number> {
    const started = performance.now();
    if (transaction) await this.client.query('BEGIN');
    try {
      for (const statement of statements) await this.client.query(statement.sql);
      await this.client.query(`DELETE FROM ${this.history} WHERE version = $1`, [version]);
      if (transaction) await this.client.query('COMMIT');
      return Math.round(performance.now() - started);
    } catch (error) {
      if (!transaction)
        throw new MigrationFailedError(
          `${file.fileName} (run outside a transaction) failed: ${errorMessage(error)}. The statements before it stay applied, and version ${version} stays recorded as applied.`,
        );
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw new MigrationFailedError(`${file.fileName} failed: ${errorMessage(error)}. It was rolled back.`);
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

/**
 * The server refuses a session setting at connect (out of range, or a pooler that forwards no
 * such startup parameter): that is the input's fault, not the connection's.
 */
function refusedSetting(error: unknown, lockTimeoutMs: number, statementTimeoutMs: number): InputError | undefined {
  const message = errorMessage(error);
  for (const [parameter, input, ms] of [
    ['lock_timeout', 'lock-timeout', lockTimeoutMs],
    ['statement_timeout', 'statement-timeout', statementTimeoutMs],
  ] as const) {
    if (message.includes(parameter)) {
      // The server's own words, without the "Could not connect … (database x): " prefix.
      const reason = message.slice(message.indexOf('): ') + 3);
      return new InputError(
        input,
        `was refused by PostgreSQL as ${parameter} = ${ms} ms: ${reason}`,
        `${input}: ${input === 'lock-timeout' ? '10s' : '30m'}`,
      );
    }
  }
  return undefined;
}
