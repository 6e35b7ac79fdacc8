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

export interface DatabaseEngine {
  readonly connection: Connection;
  serverVersion(): Promise<string>;
  startDump(): Promise<DumpHandle>;
  /** Restores a dump read from `input` into `database`; rejects on the first error. */
  restore(database: string, input: Readable): Promise<ToolInfo>;
  rowCounts(database: string): Promise<Record<string, number>>;
  /** Tables in the database's user schemas; 0 means empty. */
  tableCount(database: string): Promise<number>;
  databaseExists(database: string): Promise<boolean>;
  createDatabase(database: string): Promise<void>;
  dropDatabase(database: string): Promise<void>;
}

export class DumpFailedError extends Error {
  override name = 'DumpFailedError';
}

export class RestoreFailedError extends Error {
  override name = 'RestoreFailedError';
}
