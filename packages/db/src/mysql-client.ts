import mysql from 'mysql2/promise';
import { connectionFailure, type Connection } from './connection.ts';

export const quoteMySqlIdent = (name: string): string => `\`${name.replace(/`/g, '``')}\``;

/** One session to MySQL/MariaDB, for the backup engine and the migration driver alike. */
export async function connectMySql(connection: Connection, database: string | undefined): Promise<mysql.Connection> {
  let db: mysql.Connection;
  try {
    db = await mysql.createConnection({
      host: connection.host,
      port: connection.port,
      user: connection.user,
      password: connection.password,
      ...(database === undefined ? {} : { database }),
      connectTimeout: 15_000,
      multipleStatements: false,
    });
  } catch (error) {
    throw connectionFailure(connection, database, error);
  }
  // A killed connection also emits 'error'; the pending query rejects with it anyway.
  db.on('error', () => undefined);
  return db;
}
