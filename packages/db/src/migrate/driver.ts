import { ConfigurationError } from '@deploy-suite/kit';
import type { Engine } from '../connection.ts';
import type { MigrationFile, Phase } from './files.ts';
import type { Statement } from './split.ts';

export const HISTORY_TABLE = 'deploy_suite_schema_history';
export const LOCK_TABLE = 'deploy_suite_migration_lock';

export interface HistoryRow {
  /** Null for a repeatable (R) migration, which has only its description. */
  version: string | null;
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
    file.kind === 'repeatable' ? null : file.version,
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
    version: typeof r.version === 'string' ? r.version : null,
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

/** How a migration runs: its statements, and whether in one transaction with its history row. */
export interface Execution {
  statements: Statement[];
  /**
   * True: one transaction (where the engine allows), history row included. False: statement by
   * statement (CREATE INDEX CONCURRENTLY and the like cannot run in a transaction); a failure is
   * recorded as failed and blocks applies until repair.
   */
  transaction: boolean;
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
  /** PostgreSQL's major version (e.g. 15); MySQL drivers answer 0. */
  serverMajor(): Promise<number>;
  /** Runs a migration and records it; see each engine for what a failure leaves. */
  apply(file: MigrationFile, execution: Execution, appliedBy: string): Promise<number>;
  /** Runs an undo file and deletes the history rows of `version` (as recorded). */
  undo(file: MigrationFile, execution: Execution, version: string): Promise<number>;
  /** Records a migration as applied without running it (baseline). */
  record(file: MigrationFile, executionMs: number, appliedBy: string): Promise<void>;
  /** Updates the successful row of `version`, as recorded (its spelling may differ from the file's). */
  updateChecksum(version: string, checksum: string, normalizedChecksum: string): Promise<void>;
  /** Removes the failed records of a version, as recorded (repair). Returns how many rows went. */
  deleteFailed(version: string): Promise<number>;
  /** Removes the rows of repeatable migrations, so the next apply runs them again (undo to 0). */
  forgetRepeatables(): Promise<void>;
  /** A canonical description of the schema's tables, columns and indexes (history excluded). */
  schemaSnapshot(): Promise<string>;
  close(): Promise<void>;
}
