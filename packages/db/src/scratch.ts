import { randomBytes } from 'node:crypto';
import { ConfigurationError, errorMessage } from '@deploy-suite/kit';
import type { Connection } from './connection.ts';
import { isDatabaseError } from './process.ts';

/**
 * Every scratch database the suite makes starts with this. With the random part after it, a
 * scratch name can never be a user's database, and it stays far below the 63-byte (PostgreSQL)
 * and 64-character (MySQL) identifier limits, so nothing is ever cut off.
 */
export const SCRATCH_PREFIX = 'deploy_suite_scratch_';

const PURPOSE = /^[a-z]{1,12}$/;

/** `deploy_suite_scratch_<purpose>_<16 hex>`: ASCII, at most 50 bytes, 64 bits of randomness. */
export function scratchDatabaseName(purpose: string): string {
  if (!PURPOSE.test(purpose)) throw new Error(`scratch purpose must be 1-12 lowercase letters, got ${purpose}`);
  return `${SCRATCH_PREFIX}${purpose}_${randomBytes(8).toString('hex')}`;
}

/**
 * A database this run created; `drop` removes it, and only it. With `like`, a PostgreSQL scratch
 * database gets that database's encoding and locale (a copy meant to replace it must sort and
 * compare text as it did).
 */
export interface ScratchDatabase {
  readonly name: string;
  /** The connection with the scratch database as its database. */
  readonly connection: Connection;
  drop(): Promise<void>;
}

/**
 * Creates a scratch database with a fresh name. CREATE DATABASE fails when the name exists, so a
 * database this run did not make is never adopted; only a successful create hands out `drop`,
 * and only `drop` runs DROP … WITH (FORCE) — on that name alone.
 */
export async function createScratchDatabase(
  connection: Connection,
  purpose: string,
  options: { like?: string } = {},
): Promise<ScratchDatabase> {
  const name = scratchDatabaseName(purpose);
  const admin = await adminSession(connection);
  try {
    await admin.run(
      connection.engine === 'postgres'
        ? `CREATE DATABASE ${admin.quote(name)}${options.like === undefined ? '' : await admin.sameAs(options.like)}`
        : `CREATE DATABASE ${admin.quote(name)} CHARACTER SET utf8mb4`,
    );
  } catch (error) {
    if (!isDatabaseError(error)) throw error;
    if (alreadyExists(error)) {
      throw new ConfigurationError(
        `The scratch database ${name} already exists on ${connection.host}:${connection.port}; this run did not make it, so it is left as it is and nothing was restored. Run again for a new name, and find out who made this one.`,
      );
    }
    throw new ConfigurationError(
      `Could not create the scratch database ${name} on ${connection.host}:${connection.port}: ${errorMessage(error)}. The user needs the right to create databases (CREATEDB on PostgreSQL, CREATE on MySQL).`,
    );
  } finally {
    await admin.close();
  }
  let dropped = false;
  return {
    name,
    connection: { ...connection, database: name },
    async drop() {
      if (dropped) return;
      const session = await adminSession(connection);
      try {
        await session.run(
          connection.engine === 'postgres'
            ? `DROP DATABASE IF EXISTS ${session.quote(name)} WITH (FORCE)`
            : `DROP DATABASE IF EXISTS ${session.quote(name)}`,
        );
        dropped = true;
      } finally {
        await session.close();
      }
    },
  };
}

/** CREATE DATABASE refused because the name is taken: PostgreSQL 42P04, MySQL error 1007. */
function alreadyExists(error: unknown): boolean {
  const e = error as { code?: unknown; errno?: unknown };
  return e.code === '42P04' || e.errno === 1007 || e.code === 'ER_DB_CREATE_EXISTS';
}

interface AdminSession {
  run(sql: string): Promise<void>;
  /** The CREATE DATABASE options that give a new database another one's encoding and locale. */
  sameAs(database: string): Promise<string>;
  quote(name: string): string;
  close(): Promise<void>;
}

/** A session outside any user database: PostgreSQL's maintenance database, or none on MySQL. */
async function adminSession(connection: Connection): Promise<AdminSession> {
  if (connection.engine === 'postgres') {
    const { APPLICATION_NAME, connectPostgres, quoteIdent } = await import('./pg-client.ts');
    const client = await connectPostgres(connection, { database: 'postgres', applicationName: APPLICATION_NAME });
    return {
      run: async (sql) => {
        await client.query(sql);
      },
      quote: quoteIdent,
      sameAs: async (database) => {
        const { rows } = await client.query<{ encoding: string; collate: string; ctype: string }>(
          'SELECT pg_encoding_to_char(encoding) AS encoding, datcollate AS collate, datctype AS ctype FROM pg_database WHERE datname = $1',
          [database],
        );
        const like = rows[0];
        if (like === undefined) return '';
        const literal = (text: string): string => client.escapeLiteral(text);
        return ` TEMPLATE template0 ENCODING ${literal(like.encoding)} LC_COLLATE ${literal(like.collate)} LC_CTYPE ${literal(like.ctype)}`;
      },
      close: () => client.end().catch(() => undefined),
    };
  }
  const { connectMySql, quoteMySqlIdent } = await import('./mysql-client.ts');
  const db = await connectMySql(connection, undefined);
  return {
    run: async (sql) => {
      await db.query(sql);
    },
    quote: quoteMySqlIdent,
    sameAs: () => Promise.resolve(''),
    close: () => db.end().catch(() => undefined),
  };
}
