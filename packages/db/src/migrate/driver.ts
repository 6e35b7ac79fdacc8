import { ConfigurationError } from '@deploy-suite/kit';
import type { Connection, Engine } from '../connection.ts';
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

/** The values of a history row, in the column order both engines insert. */
export const HISTORY_COLUMNS =
  'version, description, checksum, normalized_checksum, phase, execution_ms, applied_by, success';

export function historyValues(
  file: MigrationFile,
  executionMs: number,
  appliedBy: string,
  success: boolean,
): (string | number | boolean | null)[] {
  return [
    file.version,
    file.description,
    file.checksum,
    file.normalizedChecksum,
    file.phase ?? null,
    executionMs,
    appliedBy,
    success,
  ];
}

/** A history row as either driver returns it. */
export function toHistoryRow(r: Record<string, unknown>): HistoryRow {
  return {
    version: String(r.version),
    description: String(r.description),
    checksum: String(r.checksum),
    normalizedChecksum: String(r.normalized_checksum),
    phase: (r.phase as Phase | null) ?? null,
    // Text as the database wrote it (PostgreSQL sends it as text: parsing 2,000 dates is not free).
    appliedAt: r.applied_at instanceof Date ? r.applied_at.toISOString() : String(r.applied_at),
    executionMs: Number(r.execution_ms),
    appliedBy: String(r.applied_by),
    success: Boolean(r.success),
  };
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
  /** PostgreSQL lock_timeout and statement_timeout, in ms (0: none). */
  lockTimeoutMs?: number;
  statementTimeoutMs?: number;
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
  /** Records a migration as applied without running it (baseline). */
  record(file: MigrationFile, executionMs: number, appliedBy: string): Promise<void>;
  updateChecksum(version: string, checksum: string, normalizedChecksum: string): Promise<void>;
  /** Removes the failed record of a version (repair). Returns how many rows went. */
  deleteFailed(version: string): Promise<number>;
  /** A canonical description of the schema's tables, columns and indexes (history excluded). */
  schemaSnapshot(): Promise<string>;
  close(): Promise<void>;
}

/** Opens one session for a command; each engine's driver loads only when used. */
export async function openDriver(connection: Connection, options: DriverOptions = {}): Promise<MigrationDriver> {
  if (connection.engine === 'postgres')
    return (await import('./driver-postgres.ts')).PostgresDriver.open(connection, options);
  return (await import('./driver-mysql.ts')).MySqlDriver.open(connection);
}
