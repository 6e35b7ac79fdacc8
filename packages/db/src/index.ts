export * from './connection.ts';
export * from './engine.ts';
export * from './process.ts';
export * from './scratch.ts';
export { toolMajor } from './postgres.ts';
export { APPLICATION_NAME } from './pg-client.ts';

import type { Connection } from './connection.ts';
import type { DatabaseEngine } from './engine.ts';

/** Opens the engine for a connection; each driver loads only when its engine is used. */
export async function openEngine(connection: Connection, options: { pgBinDir?: string } = {}): Promise<DatabaseEngine> {
  if (connection.engine === 'postgres') {
    const { PostgresEngine } = await import('./postgres.ts');
    return new PostgresEngine(connection, options.pgBinDir === undefined ? {} : { binDir: options.pgBinDir });
  }
  const { MySqlEngine } = await import('./mysql.ts');
  return new MySqlEngine(connection);
}
export * from './inputs.ts';
