import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from '@jest/globals';
import { InputError } from '@deploy-suite/kit';
import { dropPgDatabase, pgQuery, uniqueName } from '../../../test/helpers/databases.ts';
import { apply, plan, repair, testMigrations, validate, type MigrateOptions } from '../src/migrate/index.ts';

const databases: string[] = [];
let database: string;
let folder: string;

const options = (extra: Partial<MigrateOptions> = {}): MigrateOptions => ({
  connection: { engine: 'postgres', host: '127.0.0.1', port: 5432, user: 'postgres', password: undefined, database },
  folder,
  lockWaitMs: 0,
  appliedBy: 'test',
  ...extra,
});
const write = (files: Record<string, string>): void => {
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(folder, name), sql);
};
const history = async () =>
  (
    await pgQuery(
      database,
      'SELECT version, description, success FROM deploy_suite_schema_history ORDER BY installed_rank',
    )
  ).rows as { version: string | null; description: string; success: boolean }[];
const rejection = async (work: Promise<unknown>): Promise<Error> => {
  try {
    await work;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
};

beforeEach(async () => {
  database = uniqueName('migdb');
  databases.push(database);
  folder = mkdtempSync(join(tmpdir(), 'migrations-'));
  await pgQuery('postgres', `CREATE DATABASE ${database}`);
});
afterAll(async () => {
  for (const name of databases) await dropPgDatabase(name);
});

describe('statements that cannot run in a transaction, on PostgreSQL', () => {
  it('plans and applies a file holding only CREATE INDEX CONCURRENTLY, outside a transaction, and records it', async () => {
    write({
      'V1__table.sql':
        'CREATE TABLE t (id int PRIMARY KEY, a int);\nINSERT INTO t SELECT g, g % 10 FROM generate_series(1, 100) g;',
      'V2__index.sql': 'CREATE INDEX CONCURRENTLY t_a ON t (a);\n',
    });
    const planned = await plan(options());
    expect(planned.pending.map((p) => p.version)).toEqual(['1', '2']);
    expect(planned.lint).toEqual([]);
    const applied = await apply(options());
    expect(applied.applied.map((a) => a.version)).toEqual(['1', '2']);
    const index = await pgQuery(
      database,
      "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 't_a'",
    );
    expect(index.rows).toEqual([{ indisvalid: true }]);
    expect((await history()).map((r) => [r.version, r.success])).toEqual([
      ['1', true],
      ['2', true],
    ]);
  });

  it('records a failed CONCURRENTLY migration as failed, and nothing more runs until repair', async () => {
    write({
      'V1__table.sql': 'CREATE TABLE t (id int, a int);\nINSERT INTO t VALUES (1, 1), (2, 1);',
      'V2__unique.sql': 'CREATE UNIQUE INDEX CONCURRENTLY t_a ON t (a);',
      'V3__later.sql': 'CREATE TABLE later (id int);',
    });
    const failed = await rejection(apply(options()));
    expect(failed.message).toMatch(
      /V2__unique\.sql \(run outside a transaction\) failed \(statement at line 1\): could not create unique index "t_a".* recorded as failed: fix what it left, then run repair with repair-version: 2/,
    );
    expect((await history()).map((r) => [r.version, r.success])).toEqual([
      ['1', true],
      ['2', false],
    ]);
    expect((await rejection(plan(options()))).message).toMatch(/Migration 2 \(unique\) failed at .* repair-version: 2/);
    await pgQuery(database, 'DROP INDEX t_a; DELETE FROM t WHERE id = 2');
    expect(await repair({ ...options(), repairVersion: '2.0' })).toBe(1);
    expect((await apply(options())).applied.map((a) => a.version)).toEqual(['2', '3']);
  });

  it('refuses in plan, naming the file, a mixed file and one with transaction control; nothing runs', async () => {
    write({
      'V1__table.sql': 'CREATE TABLE t (id int);',
      'V2__mixed.sql': 'CREATE TABLE u (id int);\nCREATE INDEX CONCURRENTLY u_id ON u (id);',
    });
    for (const command of [plan, apply]) {
      const error = await rejection(command(options()));
      expect(error).toBeInstanceOf(InputError);
      expect(error.message).toMatch(/^Input 'folder' mixes, in V2__mixed\.sql, CREATE INDEX CONCURRENTLY \(line 2\)/);
    }
    write({ 'V2__mixed.sql': 'CREATE TABLE u (id int);\nCOMMIT;\nCREATE TABLE v (id int);\nSELECT 1/0;' });
    for (const command of [plan, apply]) {
      const error = await rejection(command(options()));
      expect(error.message).toMatch(/^Input 'folder' has transaction control in V2__mixed\.sql: COMMIT at line 2/);
    }
    expect((await pgQuery(database, "SELECT to_regclass('t') AS t, to_regclass('u') AS u")).rows).toEqual([
      { t: null, u: null },
    ]);
  });
});

describe('"the same" understands SQL', () => {
  it('matches versions as numbers: an applied V3 re-spelled V3.0 does not run again', async () => {
    write({ 'V3__count.sql': 'CREATE TABLE runs (id serial); INSERT INTO runs DEFAULT VALUES;' });
    await apply(options());
    renameSync(join(folder, 'V3__count.sql'), join(folder, 'V3.0__count.sql'));
    write({ 'V3.0.1__next.sql': 'INSERT INTO runs DEFAULT VALUES;' });
    const planned = await plan(options());
    expect(planned.pending.map((p) => p.version)).toEqual(['3.0.1']);
    expect(planned.currentVersion).toBe('3');
    await apply(options());
    expect((await pgQuery(database, 'SELECT count(*)::int AS n FROM runs')).rows[0].n).toBe(2);
    expect((await validate(options())).validation).toEqual([]);
  });

  it('does not take an edit inside a string literal for a cosmetic one', async () => {
    write({ 'V1__seed.sql': "CREATE TABLE notes (t text);\nINSERT INTO notes VALUES ('a  b -- c');\n" });
    await apply(options());
    write({ 'V1__seed.sql': "CREATE TABLE notes (t text);\nINSERT INTO notes VALUES ('a b');\n" });
    const error = await rejection(validate(options({ acceptCosmeticChanges: true })));
    expect(error.message).toMatch(/V1__seed\.sql was changed after it was applied .* Applied migrations are immutable/);
    // A real comment edit outside the literal is still cosmetic.
    write({ 'V1__seed.sql': "-- seed\nCREATE TABLE notes (t text);\nINSERT INTO notes VALUES ('a  b -- c'); -- x\n" });
    expect((await validate(options({ acceptCosmeticChanges: true }))).validation).toEqual([
      'V1__seed.sql: comment or whitespace change accepted.',
    ]);
  });
});

describe('repeatable migrations', () => {
  it('runs R files after the versioned ones, again only when they change, and records them', async () => {
    write({
      'V1__table.sql': 'CREATE TABLE t (id int, a int);',
      'R__view.sql': 'CREATE OR REPLACE VIEW t_view AS SELECT id FROM t;',
      'V2__column.sql': 'ALTER TABLE t ADD COLUMN b int;',
    });
    const planned = await plan(options());
    expect(planned.pending).toEqual([
      { version: '1', description: 'table', phase: null },
      { version: '2', description: 'column', phase: null },
      { version: null, description: 'view', phase: null, repeatable: true },
    ]);
    const first = await apply(options());
    expect(first.applied.map((a) => a.version ?? a.description)).toEqual(['1', '2', 'view']);
    expect(first.pending).toEqual([]);

    const again = await apply(options());
    expect(again.applied).toEqual([]);

    write({ 'R__view.sql': 'CREATE OR REPLACE VIEW t_view AS SELECT id, a FROM t;' });
    const replanned = await plan(options());
    expect(replanned.planHash).not.toBe(planned.planHash);
    expect(replanned.pending).toEqual([{ version: null, description: 'view', phase: null, repeatable: true }]);
    expect((await apply(options({ expectedPlanHash: replanned.planHash }))).applied.map((a) => a.description)).toEqual([
      'view',
    ]);
    expect(
      (await pgQuery(database, "SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 't_view'"))
        .rows[0].n,
    ).toBe(2);
    expect((await history()).map((r) => [r.version, r.description, r.success])).toEqual([
      ['1', 'table', true],
      ['2', 'column', true],
      [null, 'view', true],
      [null, 'view', true],
    ]);
  });
});

describe('test with repeatable files', () => {
  it('runs them again after undoing everything, so both applies give one schema', async () => {
    write({
      'V1__t.sql': 'CREATE TABLE t (id int);',
      'U1__t.sql': 'DROP VIEW IF EXISTS v;\nDROP TABLE t;',
      'R__view.sql': 'CREATE OR REPLACE VIEW v AS SELECT id FROM t;',
    });
    expect(await testMigrations(options())).toMatchObject({ appliedTwice: true, schemaMatches: true, passed: true });
  });
});

describe('a history made before repeatable files existed', () => {
  it('takes a repeatable run all the same', async () => {
    await pgQuery(
      database,
      'CREATE TABLE deploy_suite_schema_history (installed_rank serial PRIMARY KEY, version text NOT NULL, description text NOT NULL, checksum text NOT NULL, normalized_checksum text NOT NULL, phase text, applied_at timestamptz NOT NULL DEFAULT now(), execution_ms integer NOT NULL, applied_by text NOT NULL, success boolean NOT NULL)',
    );
    write({ 'V1__t.sql': 'CREATE TABLE t (id int);', 'R__view.sql': 'CREATE OR REPLACE VIEW v AS SELECT id FROM t;' });
    await apply(options());
    expect((await history()).map((r) => r.version)).toEqual(['1', null]);
  });
});

describe('session settings', () => {
  it('reports a lock-timeout the server refuses as that input, not as a connection failure', async () => {
    write({ 'V1__a.sql': 'SELECT 1;' });
    const error = await rejection(plan(options({ lockTimeoutMs: 3_000_000_000 })));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toMatch(
      /^Input 'lock-timeout' was refused by PostgreSQL as lock_timeout = 3000000000 ms: .*lock_timeout/,
    );
  });
});
