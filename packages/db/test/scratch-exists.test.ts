import { randomBytes as realRandomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { afterAll, describe, expect, it, jest } from '@jest/globals';
import { ConfigurationError } from '@deploy-suite/kit';
import { LOCAL_MARIADB, LOCAL_PG, mariaQuery, pgQuery } from '../../../test/helpers/databases.ts';

/**
 * A scratch name that is already taken is never adopted: CREATE DATABASE is refused, no drop is
 * handed out, and the database that was there keeps every row. The random part is pinned here
 * (node:crypto's randomBytes for the 8 bytes of a scratch name) so the clash is certain.
 */
let pinned: Buffer | undefined;
jest.unstable_mockModule('node:crypto', () => {
  // The real module, through require: importing it here would meet this very mock.
  const actual = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
  return {
    ...actual,
    default: actual,
    randomBytes: ((size: number, ...rest: unknown[]) =>
      size === 8 && pinned !== undefined
        ? Buffer.from(pinned)
        : (actual.randomBytes as (...args: unknown[]) => Buffer)(size, ...rest)) as typeof actual.randomBytes,
  };
});
const { createScratchDatabase } = await import('../src/scratch.ts');

const engines = [
  {
    engine: 'PostgreSQL',
    connection: { engine: 'postgres' as const, ...LOCAL_PG, password: undefined, database: 'postgres' },
    create: async (db: string) => {
      await pgQuery('postgres', `CREATE DATABASE ${db}`);
      await pgQuery(db, 'CREATE TABLE keep (id int PRIMARY KEY); INSERT INTO keep SELECT generate_series(1, 123)');
    },
    rows: async (db: string) => Number((await pgQuery(db, 'SELECT count(*) AS n FROM keep')).rows[0].n),
    drop: (db: string) => pgQuery('postgres', `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`),
  },
  {
    engine: 'MariaDB',
    connection: { engine: 'mysql' as const, ...LOCAL_MARIADB, password: undefined, database: 'mysql' },
    create: async (db: string) => {
      await mariaQuery(`CREATE DATABASE ${db}`);
      await mariaQuery('CREATE TABLE keep (id int PRIMARY KEY); INSERT INTO keep SELECT seq FROM seq_1_to_123', [], db);
    },
    rows: async (db: string) =>
      Number(((await mariaQuery('SELECT count(*) AS n FROM keep', [], db)) as { n: string | number }[])[0]!.n),
    drop: (db: string) => mariaQuery(`DROP DATABASE IF EXISTS ${db}`),
  },
];

describe.each(engines)('$engine: a scratch name that already exists', ({ connection, create, rows, drop }) => {
  const made: string[] = [];
  afterAll(async () => {
    pinned = undefined;
    for (const name of made) await drop(name);
  });

  it('is refused with a clear error, and the database already there keeps every row', async () => {
    pinned = realRandomBytes(8);
    const clash = `deploy_suite_scratch_verify_${pinned.toString('hex')}`;
    made.push(clash);
    await create(clash);

    const attempt = createScratchDatabase(connection, 'verify');
    await expect(attempt).rejects.toBeInstanceOf(ConfigurationError);
    await expect(attempt).rejects.toThrow(
      new RegExp(`The scratch database ${clash} already exists .*this run did not make it, so it is left as it is`),
    );
    expect(await rows(clash)).toBe(123);

    // The same pinned name, made fresh once free, is the run's own and its drop removes it alone.
    pinned = realRandomBytes(8);
    const own = await createScratchDatabase(connection, 'verify');
    made.push(own.name);
    expect(own.name).toBe(`deploy_suite_scratch_verify_${pinned.toString('hex')}`);
    await own.drop();
    expect(await rows(clash)).toBe(123);
  });
});
