import { connect, isIP, type Socket } from 'node:net';
import mysql from 'mysql2/promise';
import { connectionFailure, tlsOf, type Connection } from './connection.ts';

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
      ...mySqlTlsOptions(connection),
    });
  } catch (error) {
    throw connectionFailure(connection, database, error);
  }
  // A killed connection also emits 'error'; the pending query rejects with it anyway.
  db.on('error', () => undefined);
  return db;
}

/**
 * mysql2 TLS options for the connection's ssl-mode. With ssl set, mysql2 refuses a server that
 * does not offer TLS, so an encrypted mode never falls back to plaintext (and never hands the
 * password to a server's RSA key).
 */
export function mySqlTlsOptions(connection: Connection): { ssl?: mysql.SslOptions; stream?: () => Socket } {
  const tls = tlsOf(connection);
  if (tls.mode === 'disable' || tls.mode === 'prefer') return {};
  return {
    ...(tls.mode === 'verify-full' && isIP(connection.host) !== 0 ? { stream: () => dial(connection) } : {}),
    ssl: {
      ...(tls.ca === undefined ? {} : { ca: tls.ca }),
      ...(tls.cert === undefined ? {} : { cert: tls.cert }),
      ...(tls.key === undefined ? {} : { key: tls.key }),
      // require: encrypted, nothing verified.
      rejectUnauthorized: tls.mode !== 'require',
      // mysql2 checks the name only with verifyIdentity; otherwise its checkServerIdentity accepts any (verify-ca).
      verifyIdentity: tls.mode === 'verify-full',
    },
  };
}

/**
 * The socket mysql2 would open, named for the address dialled. mysql2 sets no TLS servername for
 * an IP host, and Node then checks the certificate against the socket's _host, which net sets only
 * for names, else "localhost": without this, verify-full to 10.0.0.5 accepts a localhost certificate.
 */
function dial(connection: Connection): Socket {
  const socket = connect(connection.port, connection.host);
  socket.setNoDelay(true);
  Object.assign(socket, { _host: connection.host });
  return socket;
}
