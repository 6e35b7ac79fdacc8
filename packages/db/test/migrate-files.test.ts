import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import {
  compareVersions,
  normalizeSql,
  parseVersion,
  planHash,
  readMigrations,
  splitMysql,
  splitPostgres,
} from '../src/migrate/index.ts';

const folderWith = (files: Record<string, string>): string => {
  const folder = mkdtempSync(join(tmpdir(), 'mig-'));
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(folder, name), sql);
  return folder;
};

describe('migration files', () => {
  it('orders versions numerically and reads _ as .', async () => {
    const { versioned, undo } = await readMigrations(
      folderWith({
        'V1.10__c.sql': '',
        'V1.9__b.sql': '',
        'V1_2__a.sql': '',
        'V2__d.sql': '',
        'U2__d.sql': '',
        'README.md': 'x',
      }),
    );
    expect(versioned.map((m) => m.version)).toEqual(['1.2', '1.9', '1.10', '2']);
    expect(versioned[0]!.description).toBe('a');
    expect([...undo.keys()]).toEqual(['2']);
    expect(compareVersions(parseVersion('1.10')!, parseVersion('1.9')!)).toBeGreaterThan(0);
    expect(compareVersions(parseVersion('2')!, parseVersion('2.0')!)).toBe(0);
  });

  it('reads directives from the leading comment only', async () => {
    const { versioned } = await readMigrations(
      folderWith({
        'V1__a.sql': '-- migrate: no-transaction, phase=expand\nCREATE INDEX CONCURRENTLY i ON t (a);',
        'V2__b.sql': 'SELECT 1;\n-- migrate: no-transaction\n',
      }),
    );
    expect(versioned.map((m) => [m.transaction, m.phase])).toEqual([
      [false, 'expand'],
      [true, undefined],
    ]);
  });

  it('tells a cosmetic edit from a real one', () => {
    expect(normalizeSql('-- note\nCREATE  TABLE t (id int); /* x */')).toBe(normalizeSql('CREATE TABLE t (id int);'));
    expect(normalizeSql('CREATE TABLE t (id bigint);')).not.toBe(normalizeSql('CREATE TABLE t (id int);'));
  });

  it('gives a plan hash that changes with any pending content', async () => {
    const a = (await readMigrations(folderWith({ 'V1__a.sql': 'SELECT 1;' }))).versioned;
    const b = (await readMigrations(folderWith({ 'V1__a.sql': 'SELECT 2;' }))).versioned;
    expect(planHash(a)).not.toBe(planHash(b));
    expect(planHash(a)).toBe(planHash((await readMigrations(folderWith({ 'V1__a.sql': 'SELECT 1;' }))).versioned));
  });

  it('refuses an undo file without its V file', async () => {
    await expect(readMigrations(folderWith({ 'U3__x.sql': 'SELECT 1;' }))).rejects.toThrow(
      /undo file with no matching V file: U3__x\.sql/,
    );
  });
});

describe('PostgreSQL splitting', () => {
  it('keeps dollar-quoted bodies, strings and comments whole, with start lines', async () => {
    const sql = [
      "INSERT INTO t VALUES ('a;b', E'c\\';d');",
      '-- a comment; with a semicolon',
      'CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $fn$',
      'BEGIN RETURN 1; END;',
      '$fn$;',
      '/* block; comment */ SELECT $$x;y$$;',
    ].join('\n');
    const statements = await splitPostgres(sql);
    expect(statements.map((s) => s.line)).toEqual([1, 3, 6]);
    expect(statements[1]!.sql).toContain('BEGIN RETURN 1; END;');
    expect(statements[2]!.sql).toContain('$$x;y$$');
  });

  it('names the line of a syntax error', async () => {
    await expect(splitPostgres('SELECT 1;\n\nSELEC 2;')).rejects.toThrow(/syntax error at or near "SELEC" at line 3/);
  });
});

describe('MySQL splitting', () => {
  it('honours DELIMITER, quotes, escapes and comments', () => {
    const sql = [
      "INSERT INTO t VALUES ('it''s;', 'a\\';b', \"c;d\", `we;ird`); # hash; comment",
      'DELIMITER $$',
      'CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.a = 1; END$$',
      'DELIMITER ;',
      '/*!40101 SET NAMES utf8mb4 */;',
      'SELECT 1',
    ].join('\n');
    const statements = splitMysql(sql);
    expect(statements.map((s) => s.sql)).toEqual([
      "INSERT INTO t VALUES ('it''s;', 'a\\';b', \"c;d\", `we;ird`)",
      'CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.a = 1; END',
      '/*!40101 SET NAMES utf8mb4 */',
      'SELECT 1',
    ]);
    expect(statements.map((s) => s.line)).toEqual([1, 3, 5, 6]);
  });
});
