import type { ConnectionOptions } from 'node:tls';
import pg from 'pg';
import { connectionFailure, tlsOf, type Connection } from './connection.ts';

/** How our sessions show in pg_stat_activity, and how tests find them. */
export const APPLICATION_NAME = 'deploy-suite';

export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/**
 * One session to PostgreSQL, for the backup engine and the migration driver alike. A failed
 * connection names the missing password or the remote and the reason.
 */
export async function connectPostgres(
  connection: Connection,
  options: { database: string; applicationName: string; lockTimeoutMs?: number; statementTimeoutMs?: number },
): Promise<pg.Client> {
  const client = new pg.Client({
    host: connection.host,
    port: connection.port,
    user: connection.user,
    // An empty string, not undefined: pg hangs on a SCRAM challenge when it has no password at all.
    password: connection.password ?? '',
    database: options.database,
    application_name: options.applicationName,
    // Always explicit, so PGSSLMODE in the environment can never weaken it.
    ssl: pgTlsOptions(connection),
    connectionTimeoutMillis: 15_000,
    // Set at connect, so they cost no extra round trip.
    ...(options.lockTimeoutMs === undefined ? {} : { lock_timeout: options.lockTimeoutMs }),
    ...(options.statementTimeoutMs === undefined ? {} : { statement_timeout: options.statementTimeoutMs }),
  });
  // A terminated backend also emits 'error' on the client; the pending query rejects with it anyway.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    // A failed handshake can leave the socket open and the process alive; close it.
    void client.end().catch(() => undefined);
    throw connectionFailure(connection, options.database, error);
  }
  return client;
}

/**
 * node-postgres TLS options for the connection's ssl-mode. pg refuses a server that answers the
 * TLS request with "no", so an encrypted mode never falls back to plaintext.
 */
export function pgTlsOptions(connection: Connection): false | ConnectionOptions {
  const tls = tlsOf(connection);
  if (tls.mode === 'disable' || tls.mode === 'prefer') return false;
  return {
    ...(tls.ca === undefined ? {} : { ca: tls.ca }),
    ...(tls.cert === undefined ? {} : { cert: tls.cert }),
    ...(tls.key === undefined ? {} : { key: tls.key }),
    // require: encrypted, nothing verified.
    rejectUnauthorized: tls.mode !== 'require',
    // verify-ca: the chain is checked, the name is not.
    ...(tls.mode === 'verify-full' ? {} : { checkServerIdentity: () => undefined }),
  };
}
