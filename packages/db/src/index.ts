export * from './connection.ts';
export * from './engine.ts';
export * from './process.ts';
export * from './postgres.ts';
export * from './mysql.ts';

import type { Connection } from './connection.ts';
import type { DatabaseEngine } from './engine.ts';
import { MySqlEngine } from './mysql.ts';
import { PostgresEngine } from './postgres.ts';

export function openEngine(connection: Connection, options: { pgBinDir?: string } = {}): DatabaseEngine {
  return connection.engine === 'postgres'
    ? new PostgresEngine(connection, options.pgBinDir === undefined ? {} : { binDir: options.pgBinDir })
    : new MySqlEngine(connection);
}
