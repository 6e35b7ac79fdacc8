import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { dropPgDatabase, mariaQuery, pgQuery, uniqueName } from '../../../test/helpers/databases.ts';
import { apply, plan, testMigrations, undo, validate, type MigrateOptions } from '../src/migrate/index.ts';

/*
 * actions/migrate/README.md promises that, besides what the migrations create, migrate creates
 * only the objects its table "What migrate creates in your database" lists. Every command is run
 * on a fresh database, the catalog compared before and after, and each new object must be named
 * (in backticks) in that table.
 */

const README = readFileSync(new URL('../../../actions/migrate/README.md', import.meta.url), 'utf8');
const section = /## What migrate creates in your database\n([\s\S]*?)\n## /.exec(README)?.[1] ?? '';
const named = new Set([...section.matchAll(/`([^`]+)`/g)].map((m) => m[1]!));

/** Objects the migrations below create themselves: not migrate's. */
const OURS = /(^|\.)app_/;

const folderWith = (files: Record<string, string>): string => {
  const folder = mkdtempSync(join(tmpdir(), 'migrations-'));
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(folder, name), sql);
  return folder;
};

/** Runs every command that writes, as a deployment would over time. */
async function everyCommand(options: MigrateOptions): Promise<string> {
  await plan(options);
  await apply(options);
  await validate(options);
  await undo({ ...options, target: '1' });
  await apply(options);
  const evidence = await testMigrations(options);
  expect(evidence.passed).toBe(true);
  return evidence.database;
}

const migrations = {
  'V1__things.sql': 'CREATE TABLE app_things (id int PRIMARY KEY, name varchar(50));',
  'U1__things.sql': 'DROP TABLE app_things;',
  'V2__more.sql': 'CREATE TABLE app_more (id int PRIMARY KEY);',
  'U2__more.sql': 'DROP TABLE app_more;',
  'R__view.sql': 'CREATE OR REPLACE VIEW app_view AS SELECT 1 AS one;',
};

const created = (before: string[], after: string[]): string[] => {
  const had = new Set(before);
  return after.filter((o) => !had.has(o) && !OURS.test(o.split(' ').at(-1)!));
};

/** The README names an object when it names it, or (an index) the relation it belongs to. */
const unnamed = (objects: string[], schemaInput?: string): string[] =>
  objects.filter((object) => {
    const [kind, name, , owner] = object.split(' ');
    const bare = (text: string) => text.split('.').at(-1)!;
    if (kind === 'schema' && name === schemaInput) return !section.includes('schema named by `schema`');
    if (kind === 'index') return !named.has(`table ${bare(owner!)}`) && !named.has(bare(owner!));
    return !named.has(bare(name!));
  });

describe('migrate creates only what its README names', () => {
  const pgDatabases: string[] = [];
  const mariaDatabases: string[] = [];
  afterAll(async () => {
    for (const name of pgDatabases) await dropPgDatabase(name);
    for (const name of mariaDatabases) await mariaQuery(`DROP DATABASE IF EXISTS ${name}`);
  });

  // Sanity: the table was found, so an empty list cannot pass by accident.
  it('reads the README table', () => {
    expect(named.size).toBeGreaterThanOrEqual(4);
  });

  it.each([undefined, 'migrate_meta'])('PostgreSQL, history schema %s', async (schema) => {
    const database = uniqueName('migreadme');
    pgDatabases.push(database);
    await pgQuery('postgres', `CREATE DATABASE ${database}`);
    const catalog = async (): Promise<string[]> => {
      const { rows } = await pgQuery(
        database,
        `SELECT 'schema ' || nspname AS o FROM pg_namespace
         UNION ALL
         SELECT CASE WHEN c.relkind IN ('i', 'I') THEN 'index ' ELSE 'relation(' || c.relkind::text || ') ' END
                || n.nspname || '.' || c.relname
                || CASE WHEN c.relkind IN ('i', 'I') THEN ' on ' || t.relname ELSE '' END
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           LEFT JOIN pg_index x ON x.indexrelid = c.oid LEFT JOIN pg_class t ON t.oid = x.indrelid
          -- A table's TOAST storage is part of that table.
          WHERE n.nspname <> 'pg_toast'
         UNION ALL
         SELECT 'function ' || n.nspname || '.' || p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         UNION ALL
         SELECT 'type ' || n.nspname || '.' || y.typname FROM pg_type y JOIN pg_namespace n ON n.oid = y.typnamespace
          WHERE y.typrelid = 0 AND NOT EXISTS (SELECT 1 FROM pg_type e WHERE e.oid = y.typelem AND e.typrelid <> 0)
         UNION ALL
         SELECT 'trigger ' || tgname FROM pg_trigger
         UNION ALL
         SELECT 'extension ' || extname FROM pg_extension`,
      );
      return (rows as { o: string }[]).map((r) => r.o).sort();
    };
    const before = await catalog();
    const scratch = await everyCommand({
      connection: {
        engine: 'postgres',
        host: '127.0.0.1',
        port: 5432,
        user: 'postgres',
        password: undefined,
        database,
      },
      folder: folderWith(migrations),
      lockWaitMs: 0,
      appliedBy: 'test',
      ...(schema === undefined ? {} : { schema }),
    });
    const made = created(before, await catalog());
    // Guards the comparison itself: migrate's history must show up as created.
    expect(made).toEqual(expect.arrayContaining([expect.stringContaining('deploy_suite_schema_history')]));
    expect(unnamed(made, schema)).toEqual([]);
    expect(scratch).toMatch(/^deploy_suite_scratch_migtest_[0-9a-f]{16}$/);
    expect(section).toContain('`deploy_suite_scratch_migtest_<16 hex>`');
    // The scratch database is gone again (others' databases come and go meanwhile: not compared).
    const left = await pgQuery('postgres', 'SELECT 1 FROM pg_database WHERE datname = $1', [scratch]);
    expect(left.rowCount).toBe(0);
  });

  it('MariaDB', async () => {
    const database = uniqueName('migreadme');
    mariaDatabases.push(database);
    await mariaQuery(`CREATE DATABASE ${database}`);
    const catalog = async (): Promise<string[]> => {
      const rows = (await mariaQuery(
        `SELECT CONCAT('relation ', table_name) AS o FROM information_schema.tables WHERE table_schema = ?
         UNION ALL SELECT CONCAT('routine ', routine_name) FROM information_schema.routines WHERE routine_schema = ?
         UNION ALL SELECT CONCAT('trigger ', trigger_name) FROM information_schema.triggers WHERE trigger_schema = ?
         UNION ALL SELECT CONCAT('event ', event_name) FROM information_schema.events WHERE event_schema = ?
         UNION ALL SELECT CONCAT('sequence ', table_name) FROM information_schema.tables WHERE table_type = 'SEQUENCE' AND table_schema = ?`,
        [database, database, database, database, database],
      )) as { o: string }[];
      return rows.map((r) => r.o).sort();
    };
    const before = await catalog();
    const scratch = await everyCommand({
      connection: { engine: 'mysql', host: '127.0.0.1', port: 3306, user: 'root', password: undefined, database },
      folder: folderWith(migrations),
      lockWaitMs: 0,
      appliedBy: 'test',
    });
    const after = await catalog();
    const made = created(before, after);
    expect(made).toEqual(expect.arrayContaining([expect.stringContaining('deploy_suite_schema_history')]));
    expect(unnamed(made)).toEqual([]);
    expect(scratch).toMatch(/^deploy_suite_scratch_migtest_[0-9a-f]{16}$/);
    // The scratch database is gone again.
    const left = (await mariaQuery('SELECT 1 FROM information_schema.schemata WHERE schema_name = ?', [
      scratch,
    ])) as unknown[];
    expect(left).toEqual([]);
  });
});
