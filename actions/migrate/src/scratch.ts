import type { Connection } from '@deploy-suite/db';
import { openEngine } from '@deploy-suite/db';

/** Creates and drops the scratch database that `test` runs on, with the engine's own client. */
export const createDatabaseFor = (connection: Connection) => async (name: string) =>
  (await openEngine(connection)).createDatabase(name);
export const dropDatabaseFor = (connection: Connection) => async (name: string) =>
  (await openEngine(connection)).dropDatabase(name);
