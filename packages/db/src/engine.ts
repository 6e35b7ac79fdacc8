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
  /** The target holds objects that the restore replaces (confirmed by the user). */
  replace: boolean;
}

export interface DatabaseEngine {
  readonly connection: Connection;
  serverVersion(): Promise<string>;
  startDump(options?: DumpOptions): Promise<DumpHandle>;
  /** Restores a dump read from `input` into `database`; rejects on the first error. */
  restore(database: string, input: Readable, options: RestoreOptions): Promise<ToolInfo>;
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
