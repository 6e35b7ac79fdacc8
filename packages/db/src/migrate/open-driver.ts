import type { Connection } from '../connection.ts';
import type { DriverOptions, MigrationDriver } from './driver.ts';

/**
 * Opens one session for a command; each engine's driver loads only when used. Kept apart from
 * driver.ts (the contract the drivers import), so no module both defines and loads them.
 */
export async function openDriver(connection: Connection, options: DriverOptions = {}): Promise<MigrationDriver> {
  if (connection.engine === 'postgres')
    return (await import('./driver-postgres.ts')).PostgresDriver.open(connection, options);
  return (await import('./driver-mysql.ts')).MySqlDriver.open(connection);
}
