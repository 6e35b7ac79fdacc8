import { RemoteError } from '@deploy-suite/kit';
import type { Readable } from 'node:stream';
import type { Connection } from './connection.ts';

export interface ToolInfo {
  path: string;
  /** As the tool prints it, e.g. "pg_dump (PostgreSQL) 15.19". */
  version: string;
}

/** A dump in progress: read `stream`; `finished` rejects if the tool fails. */
export interface DumpHandle {
  stream: Readable;
  finished: Promise<void>;
  tool: ToolInfo;
  serverVersion: string;
  format: string;
  /** Rows per table, counted in the dump's snapshot where the engine allows it. */
  rowCounts: Promise<Record<string, number>>;
  /** Stops the dump (on a failure elsewhere in the pipeline). */
  abort(): void;
}

export interface DumpOptions {
  /** PostgreSQL only: custom (one stream, default) or directory (parallel jobs, sent as a tar stream). */
  format?: 'custom' | 'directory';
  jobs?: number;
}

export interface RestoreOptions {
  /** The dump's format as the manifest records it (DumpHandle.format). */
  format: string;
  jobs?: number;
  /**
   * Restore ownership and GRANTs as dumped (default). Without them an application role can no
   * longer read its tables after a rollback; false drops them (a restore as a user that may not
   * create the dumped roles' objects).
   */
  privileges?: boolean;
}

export interface ReplaceOptions {
  /**
   * End the target's other sessions so it can be renamed (its connections are refused meanwhile).
   * Without it, a target in use is left as it was and the replacement fails.
   */
  terminateSessions: boolean;
}

export interface DatabaseEngine {
  readonly connection: Connection;
  serverVersion(): Promise<string>;
  startDump(options?: DumpOptions): Promise<DumpHandle>;
  /** Restores a dump read from `input` into the empty `database`; rejects on the first error. */
  restore(database: string, input: Readable, options: RestoreOptions): Promise<ToolInfo>;
  /**
   * Puts `replacement` (a database this run restored and verified) in the place of `target`, and
   * keeps the old `target` under the new name `kept`. Either both happen or neither: on any
   * failure `target` is left as it was.
   */
  replaceDatabase(target: string, replacement: string, kept: string, options: ReplaceOptions): Promise<void>;
  rowCounts(database: string): Promise<Record<string, number>>;
  /** Tables in the database's user schemas; 0 means empty. */
  tableCount(database: string): Promise<number>;
  databaseExists(database: string): Promise<boolean>;
  createDatabase(database: string): Promise<void>;
  dropDatabase(database: string): Promise<void>;
}

/** The dump tool failed (it exited non-zero, or its connection died): the database's doing, not a bug. */
export class DumpFailedError extends RemoteError {
  override name = 'DumpFailedError';
}

/** The restore tool stopped at an error in the target database. */
export class RestoreFailedError extends RemoteError {
  override name = 'RestoreFailedError';
}
