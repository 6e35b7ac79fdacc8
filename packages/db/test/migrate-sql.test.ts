import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import {
  compareVersions,
  executionOf,
  lintMigration,
  normalizeSql,
  parseVersion,
  readMigrations,
  splitMysql,
  splitPostgres,
  versionKey,
  type MigrationFile,
} from '../src/migrate/index.ts';

const folderWith = (files: Record<string, string>): string => {
  const folder = mkdtempSync(join(tmpdir(), 'mig-'));
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(folder, name), sql);
  return folder;
};

const file = (sql: string, transaction = true): MigrationFile =>
  ({ fileName: 'V2__x.sql', sql, transaction, phase: undefined, kind: 'versioned' }) as unknown as MigrationFile;

describe('cosmetic changes respect quoting', () => {
  it.each([
    ['whitespace inside a string', "INSERT INTO t VALUES ('a  b');", "INSERT INTO t VALUES ('a b');"],
    ['-- inside a string', "INSERT INTO t VALUES ('x -- one');", "INSERT INTO t VALUES ('x -- two');"],
    ['/* inside a string', "SELECT '/* a */ b';", "SELECT ' b';"],
    [
      'a comment inside a function body',
      'CREATE FUNCTION f() RETURNS int AS $$ -- a\nSELECT 1 $$ LANGUAGE sql;',
      'CREATE FUNCTION f() RETURNS int AS $$ -- b\nSELECT 1 $$ LANGUAGE sql;',
    ],
    ['whitespace inside a quoted name', 'CREATE TABLE "a  b" (id int);', 'CREATE TABLE "a b" (id int);'],
    ['an escaped quote in E-strings', "SELECT E'it\\'s  -- x';", "SELECT E'it\\'s';"],
  ])('PostgreSQL: %s is a real change', (_label, before, after) => {
    expect(normalizeSql(before, 'postgres')).not.toBe(normalizeSql(after, 'postgres'));
  });

  it.each([
    ['whitespace inside a string', "INSERT INTO t VALUES ('a  b');", "INSERT INTO t VALUES ('a b');"],
    ['# inside a string', "INSERT INTO t VALUES ('a # b');", "INSERT INTO t VALUES ('a ');"],
    ['a backslash-escaped quote', "SELECT 'it\\' -- s';", "SELECT 'it\\'';"],
    ['an executable comment', 'SELECT 1 /*!50001 , 2 */;', 'SELECT 1;'],
  ])('MySQL: %s is a real change', (_label, before, after) => {
    expect(normalizeSql(before, 'mysql')).not.toBe(normalizeSql(after, 'mysql'));
  });

  it('still treats comments and whitespace outside literals as cosmetic', () => {
    const base = "CREATE TABLE t (id int, note text DEFAULT 'a  b');";
    expect(
      normalizeSql(`-- note\n/* a /* nested */ one */ CREATE  TABLE t (id int,\n  note text DEFAULT 'a  b'); -- end`),
    ).toBe(normalizeSql(base));
    expect(normalizeSql(`# note\nCREATE TABLE t (id int, -- x\n note text DEFAULT 'a  b');`, 'mysql')).toBe(
      normalizeSql(base, 'mysql'),
    );
  });
});

describe('versions are numbers', () => {
  it('gives 3, 3.0, 3.0.0 and 03 one key, and orders 1.10 after 1.9', () => {
    expect(new Set(['3', '3.0', '3.0.0', '03', '3_0'].map((v) => versionKey(v)))).toEqual(new Set(['3']));
    expect(versionKey('1.10')).not.toBe(versionKey('1.1'));
    expect(versionKey('0')).toBe('0');
    expect(compareVersions(parseVersion('1.10')!, parseVersion('1.9')!)).toBeGreaterThan(0);
  });

  it('refuses V3 and V3.0 in one folder: they are one version', async () => {
    await expect(readMigrations(folderWith({ 'V3__a.sql': 'SELECT 1;', 'V3.0__b.sql': 'SELECT 2;' }))).rejects.toThrow(
      /has two files for version 3: V3.0__b\.sql and V3__a\.sql/,
    );
  });

  it('reads repeatable files in description order, and refuses one with a phase', async () => {
    const files = await readMigrations(
      folderWith({ 'V1__a.sql': 'SELECT 1;', 'R__views.sql': 'SELECT 2;', 'R__functions.sql': 'SELECT 3;' }),
    );
    expect(files.repeatable.map((r) => [r.kind, r.description])).toEqual([
      ['repeatable', 'functions'],
      ['repeatable', 'views'],
    ]);
    await expect(readMigrations(folderWith({ 'R__v.sql': '-- migrate: phase=expand\nSELECT 1;' }))).rejects.toThrow(
      /gives the repeatable R__v\.sql a phase/,
    );
  });
});

describe('statements that cannot run in a transaction', () => {
  const run = async (sql: string, options: { transaction?: boolean; major?: number } = {}) =>
    executionOf('postgres', file(sql, options.transaction), await splitPostgres(sql), options.major ?? 15).transaction;

  it.each([
    'CREATE INDEX CONCURRENTLY i ON t (a);',
    'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a);',
    'DROP INDEX CONCURRENTLY i;',
    'REINDEX TABLE CONCURRENTLY t;',
    'REINDEX (CONCURRENTLY) INDEX i;',
    'VACUUM t;',
    'CREATE DATABASE other;',
    'DROP DATABASE other;',
    "ALTER SYSTEM SET work_mem = '8MB';",
    "CREATE TABLESPACE s LOCATION '/tmp/s';",
    'DROP TABLESPACE s;',
    'ALTER TABLE p DETACH PARTITION c CONCURRENTLY;',
    "SET lock_timeout = '1s';\nCREATE INDEX CONCURRENTLY i ON t (a);\nCREATE INDEX CONCURRENTLY j ON t (b);",
  ])('runs %s outside a transaction', async (sql) => {
    expect(await run(sql)).toBe(false);
  });

  it('keeps ordinary statements (ANALYZE, CREATE INDEX, CLUSTER t) in a transaction', async () => {
    expect(await run('ANALYZE t; CREATE INDEX i ON t (a); CLUSTER t USING i;')).toBe(true);
  });

  it('runs ALTER TYPE … ADD VALUE outside a transaction only before PostgreSQL 12', async () => {
    expect(await run("ALTER TYPE mood ADD VALUE 'meh';", { major: 11 })).toBe(false);
    expect(await run("ALTER TYPE mood ADD VALUE 'meh';", { major: 15 })).toBe(true);
  });

  it('refuses a file mixing them with transactional statements, naming both lines, unless no-transaction says so', async () => {
    const sql = 'CREATE TABLE t (a int);\nCREATE INDEX CONCURRENTLY i ON t (a);';
    await expect(run(sql)).rejects.toThrow(
      /mixes, in V2__x\.sql, CREATE INDEX CONCURRENTLY \(line 2\), which cannot run in a transaction, with statements that can \(line 1\)/,
    );
    expect(await run(sql, { transaction: false })).toBe(false);
  });

  it.each([
    ['PostgreSQL', 'CREATE TABLE t (a int);\nCOMMIT;', 'COMMIT at line 2'],
    ['PostgreSQL', 'BEGIN;\nCREATE TABLE t (a int);', 'BEGIN at line 1'],
    ['PostgreSQL', 'START TRANSACTION;', 'START TRANSACTION at line 1'],
    ['PostgreSQL', 'CREATE TABLE t (a int);\nSAVEPOINT s;\nROLLBACK TO SAVEPOINT s;', 'SAVEPOINT at line 2'],
    ['PostgreSQL', 'CREATE TABLE t (a int);\n\nROLLBACK;', 'ROLLBACK at line 3'],
    ['MySQL', 'CREATE TABLE t (a int);\nCOMMIT;', 'COMMIT at line 2'],
    ['MySQL', 'START TRANSACTION;', 'START TRANSACTION at line 1'],
    ['MySQL', 'SET autocommit = 0;', 'SET AUTOCOMMIT at line 1'],
  ])('%s: refuses transaction control (%s), naming the file and line', async (engine, sql, named) => {
    const statements = engine === 'MySQL' ? splitMysql(sql) : await splitPostgres(sql);
    expect(() => executionOf(engine === 'MySQL' ? 'mysql' : 'postgres', file(sql), statements, 15)).toThrow(
      new RegExp(`has transaction control in V2__x\\.sql: ${named}`),
    );
  });

  it('leaves BEGIN … END inside MySQL routines alone', () => {
    const sql = 'DELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; COMMIT; END //\nDELIMITER ;\n';
    expect(executionOf('mysql', file(sql), splitMysql(sql), 0).transaction).toBe(true);
  });
});

describe('lint without false positives', () => {
  const lint = async (sql: string, earlier = '') => {
    const { ColumnTypes } = await import('../src/migrate/lint.ts');
    const types = new ColumnTypes();
    types.learn(await splitPostgres(earlier));
    return lintMigration('postgres', { fileName: 'V2__x.sql', phase: undefined }, await splitPostgres(sql), types).map(
      (f) => f.id,
    );
  };
  const base = 'CREATE TABLE t (id int, name varchar(20), code varchar, n int);';

  it('does not flag widening a varchar (longer, unbounded, or to text)', async () => {
    expect(await lint('ALTER TABLE t ALTER COLUMN name TYPE varchar(50);', base)).toEqual([]);
    expect(await lint('ALTER TABLE t ALTER COLUMN name TYPE character varying(20);', base)).toEqual([]);
    expect(await lint('ALTER TABLE t ALTER COLUMN name TYPE text;', base)).toEqual([]);
    expect(await lint('ALTER TABLE t ALTER COLUMN name TYPE varchar;', base)).toEqual([]);
    expect(await lint('ALTER TABLE t ALTER COLUMN code TYPE text;', base)).toEqual([]);
    // The type learned from an earlier statement of the same file counts too.
    expect(
      await lint('ALTER TABLE t ADD COLUMN x varchar(5);\nALTER TABLE t ALTER COLUMN x TYPE varchar(9);', base),
    ).toEqual([]);
  });

  it('still flags narrowing, other types, a USING rewrite and a column of unknown type', async () => {
    expect(await lint('ALTER TABLE t ALTER COLUMN name TYPE varchar(10);', base)).toEqual(['DS005']);
    expect(await lint('ALTER TABLE t ALTER COLUMN n TYPE bigint;', base)).toEqual(['DS005']);
    expect(await lint('ALTER TABLE t ALTER COLUMN name TYPE text USING upper(name);', base)).toEqual(['DS005']);
    expect(await lint('ALTER TABLE t ALTER COLUMN name TYPE int USING 0;', base)).toEqual(['DS005']);
    expect(await lint('ALTER TABLE other ALTER COLUMN name TYPE text;', base)).toEqual(['DS005']);
  });

  it('does not flag an index on a relation the same file created, however it was created', async () => {
    expect(await lint('CREATE TABLE s AS SELECT 1 AS id;\nCREATE INDEX s_id ON s (id);')).toEqual([]);
    expect(await lint('CREATE MATERIALIZED VIEW mv AS SELECT 1 AS id;\nCREATE UNIQUE INDEX mv_id ON mv (id);')).toEqual(
      [],
    );
    expect(await lint('CREATE TABLE app.s (id int);\nCREATE INDEX s_id ON s (id);')).toEqual([]);
    expect(await lint('CREATE TABLE app.s (id int);\nCREATE INDEX s_id ON other.s (id);')).toEqual(['DS007']);
    expect(await lint('CREATE INDEX t_id ON t (id);', base)).toEqual(['DS007']);
  });
});

describe('big files', () => {
  // How the splitters grow with the file is measured in `pnpm bench migrate` (split_growth_4x_*);
  // here, that a large file splits whole, with the right line numbers.
  const statements = (n: number): string =>
    Array.from({ length: n }, (_, i) => `INSERT INTO t VALUES (${i}, 'row ${i} -- not a comment; x');`).join('\n');

  it('splits a large PostgreSQL file whole, with the right lines', async () => {
    const split = await splitPostgres(statements(12000));
    expect(split).toHaveLength(12000);
    expect(split.at(-1)!.line).toBe(12000);
  });

  it('splits a large MySQL file whole, with the right lines', () => {
    const split = splitMysql(statements(20000));
    expect(split).toHaveLength(20000);
    expect(split.at(-1)!.line).toBe(20000);
  });
});
