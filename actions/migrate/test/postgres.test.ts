import { afterAll, beforeEach, describe, expect, it } from '@jest/globals';
import { namesOf63Bytes, pgQuery, uniqueName } from '../../../test/helpers/databases.ts';
import { FakeGitHub } from '../../../test/fakes/github.ts';
import { CONTRACT_MIGRATIONS_MARK } from '../../../packages/record/src/index.ts';
import { errorOf, json, migrate, migrationsFolder, writeMigration } from './helpers.ts';

const databases: string[] = [];
let database: string;
const url = (name = database) => `postgres://postgres@127.0.0.1:5432/${name}`;
const history = async (name = database) =>
  (
    await pgQuery(
      name,
      'SELECT version, success, phase, applied_by FROM deploy_suite_schema_history ORDER BY installed_rank',
    )
  ).rows as {
    version: string;
    success: boolean;
    phase: string | null;
    applied_by: string;
  }[];
const tableExists = async (table: string, name = database) =>
  (await pgQuery(name, 'SELECT to_regclass($1) AS t', [table])).rows[0].t !== null;

beforeEach(async () => {
  database = uniqueName('mig');
  databases.push(database);
  await pgQuery('postgres', `CREATE DATABASE ${database}`);
});
afterAll(async () => {
  for (const name of databases) await pgQuery('postgres', `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
});

const BASE = {
  'V1__create_orders.sql':
    'CREATE TABLE orders (id serial PRIMARY KEY, total numeric NOT NULL);\nCREATE INDEX orders_total ON orders (total);\n',
  'V1.9__add_note.sql': '-- migrate: phase=expand\nALTER TABLE orders ADD COLUMN note text;\n',
  'V1.10__add_function.sql': `CREATE FUNCTION order_total(i int) RETURNS numeric LANGUAGE plpgsql AS $body$
DECLARE t numeric; -- semicolons inside the body must not split it
BEGIN
  SELECT total INTO t FROM orders WHERE id = i; RETURN t;
END;
$body$;
INSERT INTO orders (total) VALUES (10), (20);
`,
};

describe('migrate on PostgreSQL', () => {
  it('plans without changing anything, in numeric version order, with a plan hash', async () => {
    const folder = migrationsFolder(BASE);
    const run = await migrate({ command: 'plan', folder, 'database-url': url() });
    expect(errorOf(run)).toBe('');
    expect(json<{ version: string }[]>(run, 'pending').map((p) => p.version)).toEqual(['1', '1.9', '1.10']);
    expect(run.outputs['plan-hash']).toMatch(/^[0-9a-f]{64}$/);
    expect(json(run, 'lint-findings')).toEqual([]);
    expect(await tableExists('deploy_suite_schema_history')).toBe(false);
    expect(run.summary).toContain('Pending');
  });

  it('applies each migration once, records who and how long, and splits dollar-quoted bodies correctly', async () => {
    const folder = migrationsFolder(BASE);
    const run = await migrate(
      { command: 'apply', folder, 'database-url': url() },
      { GITHUB_RUN_ID: '777', GITHUB_ACTOR: 'alice' },
    );
    expect(errorOf(run)).toBe('');
    expect(run.outputs['current-version']).toBe('1.10');
    expect(json<{ version: string; executionMs: number }[]>(run, 'applied').map((a) => a.version)).toEqual([
      '1',
      '1.9',
      '1.10',
    ]);
    const rows = await history();
    expect(rows.map((r) => [r.version, r.success, r.phase])).toEqual([
      ['1', true, null],
      ['1.9', true, 'expand'],
      ['1.10', true, null],
    ]);
    expect(rows[0]!.applied_by).toBe('https://github.com/acme/service/actions/runs/777 by alice');
    expect((await pgQuery(database, 'SELECT order_total(2) AS t')).rows[0].t).toBe('20');
    const again = await migrate({ command: 'apply', folder, 'database-url': url() });
    expect(json(again, 'applied')).toEqual([]);
    expect(json(again, 'pending')).toEqual([]);
    expect(await history()).toHaveLength(3);
  });

  it('refuses to apply when the pending set changed since the approved plan', async () => {
    const folder = migrationsFolder(BASE);
    const planned = await migrate({ command: 'plan', folder, 'database-url': url() });
    writeMigration(folder, 'V2__more.sql', 'CREATE TABLE more (id int);');
    const refused = await migrate({
      command: 'apply',
      folder,
      'database-url': url(),
      'expected-plan-hash': planned.outputs['plan-hash']!,
    });
    expect(refused.exitCode).toBe(1);
    expect(errorOf(refused)).toMatch(/pending migrations changed since the plan was approved/);
    expect(await tableExists('orders')).toBe(false);
    const replanned = await migrate({ command: 'plan', folder, 'database-url': url() });
    const applied = await migrate({
      command: 'apply',
      folder,
      'database-url': url(),
      'expected-plan-hash': replanned.outputs['plan-hash']!,
    });
    expect(errorOf(applied)).toBe('');
    expect(applied.outputs['current-version']).toBe('2');
  });

  it('applies the expand phase first and the contract phase later', async () => {
    const folder = migrationsFolder({
      'V1__base.sql': 'CREATE TABLE customers (id int PRIMARY KEY, full_name text);',
      'V2__add_display_name.sql': '-- migrate: phase=expand\nALTER TABLE customers ADD COLUMN display_name text;',
      'V3__drop_full_name.sql': '-- migrate: phase=contract\nALTER TABLE customers DROP COLUMN full_name;',
    });
    await migrate({ command: 'apply', folder, 'database-url': url(), 'target-version': '1' });
    const expand = await migrate({ command: 'apply', folder, 'database-url': url(), phase: 'expand' });
    expect(json<{ version: string }[]>(expand, 'applied').map((a) => a.version)).toEqual(['2']);
    expect(json<{ version: string }[]>(expand, 'pending').map((a) => a.version)).toEqual(['3']);
    // One approved plan covers both phases of a deployment.
    const approved = expand.outputs['plan-hash']!;
    // The switch's deployment record is marked once the contract phase ran: a rollback past it is refused.
    const github = await FakeGitHub.start();
    try {
      github.seed('acme', 'service', 'production', 1);
      const deploymentId = String(github.deployments[0]!.id);
      const contract = await migrate(
        {
          command: 'apply',
          folder,
          'database-url': url(),
          phase: 'contract',
          'expected-plan-hash': approved,
          'deployment-id': deploymentId,
          'github-token': github.token,
        },
        { GITHUB_API_URL: github.url },
      );
      expect(errorOf(contract)).toBe('');
      expect(json<{ version: string }[]>(contract, 'applied').map((a) => a.version)).toEqual(['3']);
      expect(json<{ rule: string }[]>(contract, 'lint-findings').map((f) => f.rule)).toEqual(['drop-column']);
      expect(github.statuses.get(Number(deploymentId))).toEqual([
        expect.objectContaining({ state: 'success', description: CONTRACT_MIGRATIONS_MARK }),
      ]);
    } finally {
      await github.close();
    }
  });

  it('stops a destructive change in an expand-phase migration: the old colour still reads the schema', async () => {
    const folder = migrationsFolder({
      'V1__base.sql': 'CREATE TABLE customers (id int PRIMARY KEY, full_name text);',
      'V2__rename.sql': '-- migrate: phase=expand\nALTER TABLE customers RENAME COLUMN full_name TO name;',
    });
    const plan = await migrate({ command: 'plan', folder, 'database-url': url() });
    expect(plan.exitCode).toBe(1);
    const findings = json<{ id: string; severity: string; file: string; line: number; why: string }[]>(
      plan,
      'lint-findings',
    );
    expect(findings).toEqual([
      expect.objectContaining({ id: 'DS004', severity: 'error', file: 'V2__rename.sql', line: 2 }),
    ]);
    expect(plan.annotations).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          level: 'error',
          properties: expect.objectContaining({ file: 'V2__rename.sql', line: '2' }),
        }),
      ]),
    );
    expect(plan.summary).toContain('The old colour still uses the old name');
    const apply = await migrate({ command: 'apply', folder, 'database-url': url() });
    expect(apply.exitCode).toBe(1);
    expect(errorOf(apply)).toContain('Lint errors stop the apply');
    expect(await tableExists('customers')).toBe(false);
  });

  it('lints what blocks or loses data, with rule ids', async () => {
    const folder = migrationsFolder({
      'V1__base.sql': 'CREATE TABLE t (id int PRIMARY KEY, a int, b text); CREATE INDEX t_a_fresh ON t (a);',
      'V2__risky.sql': [
        'CREATE INDEX t_b ON t (b);',
        'ALTER TABLE t ADD COLUMN c int NOT NULL;',
        'ALTER TABLE t ADD CONSTRAINT t_a_positive CHECK (a > 0);',
        'ALTER TABLE t ADD CONSTRAINT t_a_ok CHECK (a < 100) NOT VALID;',
        'ALTER TABLE t ALTER COLUMN a TYPE smallint;',
        'DELETE FROM t;',
        'UPDATE t SET a = 1 WHERE id = 2;',
        'TRUNCATE t;',
        'DROP TABLE t;',
      ].join('\n'),
    });
    const plan = await migrate({ command: 'plan', folder, 'database-url': url() });
    expect(plan.exitCode).toBe(0);
    const findings = json<{ id: string; line: number; severity: string }[]>(plan, 'lint-findings');
    expect(findings.map((f) => [f.id, f.line, f.severity])).toEqual([
      ['DS007', 1, 'warning'],
      ['DS006', 2, 'warning'],
      ['DS008', 3, 'warning'],
      ['DS005', 5, 'warning'],
      ['DS010', 6, 'warning'],
      ['DS009', 8, 'warning'],
      ['DS001', 9, 'warning'],
    ]);
    const strict = await migrate({ command: 'plan', folder, 'database-url': url(), 'fail-on-lint': 'warning' });
    expect(strict.exitCode).toBe(1);
  });

  it('runs a file of CREATE INDEX CONCURRENTLY outside a transaction without being told, then the repeatable files', async () => {
    const folder = migrationsFolder({
      'V1__base.sql': 'CREATE TABLE t (id int PRIMARY KEY, a int);',
      'V2__index.sql': 'CREATE INDEX CONCURRENTLY t_a ON t (a);',
      'R__view.sql': 'CREATE OR REPLACE VIEW t_a_view AS SELECT a FROM t;',
    });
    const run = await migrate({ command: 'apply', folder, 'database-url': url() });
    expect(errorOf(run)).toBe('');
    expect(json(run, 'lint-findings')).toEqual([]);
    expect(
      json<{ version: string | null; description: string }[]>(run, 'applied').map((a) => [a.version, a.description]),
    ).toEqual([
      ['1', 'base'],
      ['2', 'index'],
      [null, 'view'],
    ]);
    expect(run.log).toContain('Applying V2__index.sql (outside a transaction)');
    expect((await pgQuery(database, "SELECT indexname FROM pg_indexes WHERE indexname = 't_a'")).rowCount).toBe(1);
    expect((await history()).map((r) => [r.version, r.success])).toEqual([
      ['1', true],
      ['2', true],
      [null, true],
    ]);
  });

  it('leaves schema and history as they were when a migration fails halfway, and releases the lock', async () => {
    const folder = migrationsFolder({
      'V1__base.sql': 'CREATE TABLE t (id int PRIMARY KEY);',
      'V2__breaks.sql': 'CREATE TABLE half (id int);\nINSERT INTO missing_table VALUES (1);\n',
    });
    const run = await migrate({ command: 'apply', folder, 'database-url': url() });
    expect(run.exitCode).toBe(1);
    expect(errorOf(run)).toMatch(
      /V2__breaks\.sql failed \(statement at line 2\): relation "missing_table" does not exist\. It was rolled back/,
    );
    expect(await tableExists('half')).toBe(false);
    expect((await history()).map((r) => r.version)).toEqual(['1']);
    expect(
      (
        await pgQuery(
          'postgres',
          "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND classid = 872374",
        )
      ).rows[0].n,
    ).toBe(0);
    writeMigration(folder, 'V2__breaks.sql', 'CREATE TABLE half (id int);\n');
    const fixed = await migrate({ command: 'apply', folder, 'database-url': url(), 'lock-wait-timeout': '0s' });
    expect(errorOf(fixed)).toBe('');
    expect(await tableExists('half')).toBe(true);
  });

  it('validates checksums: an edited applied file fails before anything runs; a cosmetic edit is named and can be accepted', async () => {
    const folder = migrationsFolder({ 'V1__base.sql': 'CREATE TABLE t (id int PRIMARY KEY);\n' });
    await migrate({ command: 'apply', folder, 'database-url': url() });
    writeMigration(folder, 'V2__next.sql', 'CREATE TABLE next_one (id int);');

    writeMigration(folder, 'V1__base.sql', '-- a comment\nCREATE TABLE t   (id int PRIMARY KEY);\n');
    const cosmetic = await migrate({ command: 'validate', folder, 'database-url': url() });
    expect(errorOf(cosmetic)).toMatch(/V1__base\.sql was edited after it was applied, in comments or whitespace only/);
    const checksum = async () =>
      (await pgQuery(database, "SELECT checksum FROM deploy_suite_schema_history WHERE version = '1'")).rows[0]
        .checksum as string;
    const before = await checksum();
    const accepted = await migrate({
      command: 'validate',
      folder,
      'database-url': url(),
      'accept-cosmetic-changes': 'true',
    });
    expect(errorOf(accepted)).toBe('');
    const planned = await migrate({ command: 'plan', folder, 'database-url': url() });
    expect(errorOf(planned)).toBe('');
    expect(await checksum()).toBe(before); // validate and plan change nothing
    const applied = await migrate({
      command: 'apply',
      folder,
      'database-url': url(),
      'accept-cosmetic-changes': 'true',
    });
    expect(errorOf(applied)).toBe('');
    expect(await checksum()).not.toBe(before); // apply records the accepted edit, so it stops warning
    expect(errorOf(await migrate({ command: 'validate', folder, 'database-url': url() }))).toBe('');
    writeMigration(folder, 'V3__later.sql', 'CREATE TABLE later_one (id int);');

    writeMigration(folder, 'V1__base.sql', 'CREATE TABLE t (id bigint PRIMARY KEY);\n');
    for (const command of ['validate', 'apply']) {
      const run = await migrate({ command, folder, 'database-url': url() });
      expect(run.exitCode).toBe(1);
      expect(errorOf(run)).toMatch(
        /V1__base\.sql was changed after it was applied .* Applied migrations are immutable/,
      );
    }
    expect(await tableExists('later_one')).toBe(false);
  });

  it('undoes down to a target version with U files', async () => {
    const folder = migrationsFolder({
      'V1__base.sql': 'CREATE TABLE t (id int PRIMARY KEY);',
      'V2__add.sql': 'ALTER TABLE t ADD COLUMN a int;',
      'U2__add.sql': 'ALTER TABLE t DROP COLUMN a;',
      'V3__more.sql': 'CREATE TABLE u (id int);',
      'U3__more.sql': 'DROP TABLE u;',
    });
    await migrate({ command: 'apply', folder, 'database-url': url() });
    const run = await migrate({ command: 'undo', folder, 'database-url': url(), 'target-version': '1' });
    expect(errorOf(run)).toBe('');
    expect(json<{ version: string }[]>(run, 'applied').map((a) => a.version)).toEqual(['3', '2']);
    expect(run.outputs['current-version']).toBe('1');
    expect(await tableExists('u')).toBe(false);
    expect((await history()).map((r) => r.version)).toEqual(['1']);
    const missing = await migrate({ command: 'undo', folder, 'database-url': url(), 'target-version': '0' });
    expect(errorOf(missing)).toMatch(/No undo file for U1__…sql; nothing was undone/);
  });

  it('tests the migrations on a scratch database: apply, undo, apply, same schema', async () => {
    const folder = migrationsFolder({
      'V1__base.sql': 'CREATE TABLE t (id int PRIMARY KEY);',
      'U1__base.sql': 'DROP TABLE t;',
      'V2__add.sql': 'ALTER TABLE t ADD COLUMN a int; CREATE INDEX t_a ON t (a);',
      'U2__add.sql': 'DROP INDEX t_a; ALTER TABLE t DROP COLUMN a;',
    });
    const run = await migrate({ command: 'test', folder, 'database-url': url() });
    expect(errorOf(run)).toBe('');
    const evidence = json<{
      folderHash: string;
      schemaMatches: boolean;
      passed: boolean;
      appliedTwice: boolean;
      database: string;
    }>(run, 'test-result');
    expect(evidence).toMatchObject({
      schemaMatches: true,
      passed: true,
      appliedTwice: true,
      folderHash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(
      (await pgQuery('postgres', 'SELECT 1 FROM pg_database WHERE datname = $1', [evidence.database])).rowCount,
    ).toBe(0);
    expect(await tableExists('t')).toBe(false);

    // An undo file that alters instead of dropping leaves a different schema: the test says so.
    writeMigration(folder, 'V3__extra.sql', 'CREATE TABLE IF NOT EXISTS extra (id int);');
    writeMigration(folder, 'U3__extra.sql', 'ALTER TABLE extra ADD COLUMN leftover int;');
    const broken = await migrate({ command: 'test', folder, 'database-url': url() });
    expect(broken.exitCode).toBe(1);
    expect(json(broken, 'test-result')).toMatchObject({ schemaMatches: false, passed: false });
    expect(errorOf(broken)).toContain('the schema after undo and re-apply differs');
  });

  it.each([
    ['a 63-byte ASCII name', 'ascii'],
    ['a 63-byte UTF-8 name', 'utf8'],
  ] as const)(
    'test keeps every row of a source database with %s: its scratch database is never the source',
    async (_label, kind) => {
      const source = namesOf63Bytes()[kind];
      expect(Buffer.byteLength(source)).toBe(63);
      databases.push(source);
      await pgQuery('postgres', `CREATE DATABASE "${source}"`);
      await pgQuery(source, 'CREATE TABLE keep (id int); INSERT INTO keep SELECT generate_series(1, 50);');
      const folder = migrationsFolder({ 'V1__t.sql': 'CREATE TABLE t (id int);', 'U1__t.sql': 'DROP TABLE t;' });
      const run = await migrate({ command: 'test', folder, 'database-url': url(encodeURIComponent(source)) });
      expect(errorOf(run)).toBe('');
      const evidence = json<{ database: string; passed: boolean }>(run, 'test-result');
      expect(evidence.passed).toBe(true);
      expect(evidence.database).toMatch(/^deploy_suite_scratch_migtest_[0-9a-f]{16}$/);
      expect((await pgQuery(source, 'SELECT count(*)::int AS n FROM keep')).rows[0].n).toBe(50);
      expect(
        (await pgQuery('postgres', 'SELECT 1 FROM pg_database WHERE datname = $1', [evidence.database])).rowCount,
      ).toBe(0);
    },
  );

  it('adopts an existing database with baseline, then applies only what is newer', async () => {
    await pgQuery(database, 'CREATE TABLE legacy (id int PRIMARY KEY)');
    const folder = migrationsFolder({
      'V1__legacy.sql': 'CREATE TABLE legacy (id int PRIMARY KEY);',
      'V2__column.sql': 'ALTER TABLE legacy ADD COLUMN name text;',
    });
    const adopted = await migrate({ command: 'baseline', folder, 'database-url': url(), 'target-version': '1' });
    expect(errorOf(adopted)).toBe('');
    expect((await history()).map((r) => [r.version, r.applied_by.startsWith('baseline')])).toEqual([['1', true]]);
    const applied = await migrate({ command: 'apply', folder, 'database-url': url() });
    expect(json<{ version: string }[]>(applied, 'applied').map((a) => a.version)).toEqual(['2']);
    const again = await migrate({ command: 'baseline', folder, 'database-url': url(), 'target-version': '2' });
    expect(errorOf(again)).toContain('baseline is only for a database that has none');
  });

  it('refuses an out-of-order migration unless asked', async () => {
    const folder = migrationsFolder({
      'V1__a.sql': 'CREATE TABLE a (id int);',
      'V3__c.sql': 'CREATE TABLE c (id int);',
    });
    await migrate({ command: 'apply', folder, 'database-url': url() });
    writeMigration(folder, 'V2__b.sql', 'CREATE TABLE b (id int);');
    const refused = await migrate({ command: 'apply', folder, 'database-url': url() });
    expect(errorOf(refused)).toMatch(
      /V2__b\.sql is older than the newest applied version 3; .* set allow-out-of-order: true/,
    );
    expect(await tableExists('b')).toBe(false);
    const allowed = await migrate({ command: 'apply', folder, 'database-url': url(), 'allow-out-of-order': 'true' });
    expect(json<{ version: string }[]>(allowed, 'applied').map((a) => a.version)).toEqual(['2']);
  });

  it('applies each migration exactly once when two runs start together', async () => {
    const folder = migrationsFolder({
      'V1__slow.sql': 'CREATE TABLE t (id int PRIMARY KEY); SELECT pg_sleep(1);',
      'V2__next.sql': 'INSERT INTO t VALUES (1);',
    });
    const [a, b] = await Promise.all([
      migrate({ command: 'apply', folder, 'database-url': url() }, { GITHUB_RUN_ID: '1001' }),
      migrate({ command: 'apply', folder, 'database-url': url() }, { GITHUB_RUN_ID: '1002' }),
    ]);
    expect([a.exitCode, b.exitCode]).toEqual([0, 0]);
    const applied = [...json<unknown[]>(a, 'applied'), ...json<unknown[]>(b, 'applied')];
    expect(applied).toHaveLength(2);
    expect((await history()).map((r) => r.version)).toEqual(['1', '2']);
    expect((await pgQuery(database, 'SELECT count(*)::int AS n FROM t')).rows[0].n).toBe(1);
  });

  it('times out clearly while another run holds the lock, naming that run', async () => {
    const folder = migrationsFolder({ 'V1__slow.sql': 'SELECT pg_sleep(3);' });
    const holder = migrate({ command: 'apply', folder, 'database-url': url() }, { GITHUB_RUN_ID: '2001' });
    // Polls until the holder has the advisory lock and has said who it is, instead of guessing a delay.
    const held = async (): Promise<boolean> =>
      (
        await pgQuery(
          database,
          `SELECT 1 FROM pg_locks l JOIN pg_database d ON d.oid = l.database
           WHERE l.locktype = 'advisory' AND l.classid = 872374 AND l.granted AND d.datname = current_database()
             AND to_regclass('deploy_suite_migration_lock') IS NOT NULL`,
        )
      ).rowCount === 1 &&
      ((await pgQuery(database, 'SELECT holder FROM deploy_suite_migration_lock')).rows[0]?.holder ?? '').includes(
        '2001',
      );
    const deadline = Date.now() + 20_000;
    while (!(await held())) {
      if (Date.now() > deadline) throw new Error('the first run never took the lock');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const waiter = await migrate(
      { command: 'apply', folder, 'database-url': url(), 'lock-wait-timeout': '1s' },
      { GITHUB_RUN_ID: '2002' },
    );
    expect(waiter.exitCode).toBe(1);
    expect(errorOf(waiter)).toMatch(
      /Timed out after 1 s waiting for the migration lock held by https:\/\/github\.com\/acme\/service\/actions\/runs\/2001/,
    );
    expect((await holder).exitCode).toBe(0);
  });

  it('resumes correctly after the connection is killed during apply: no stuck lock', async () => {
    const folder = migrationsFolder({
      'V1__base.sql': 'CREATE TABLE t (id int);',
      'V2__slow.sql': 'CREATE TABLE slow (id int); SELECT pg_sleep(30);',
    });
    const running = migrate({ command: 'apply', folder, 'database-url': url() });
    let killed = 0;
    for (let i = 0; i < 100 && killed === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      killed =
        (
          await pgQuery(
            'postgres',
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()",
            [database],
          )
        ).rowCount ?? 0;
    }
    expect(killed).toBe(1);
    expect((await running).exitCode).toBe(1);
    expect((await history()).map((r) => r.version)).toEqual(['1']);
    writeMigration(folder, 'V2__slow.sql', 'CREATE TABLE slow (id int);');
    const resumed = await migrate({ command: 'apply', folder, 'database-url': url(), 'lock-wait-timeout': '0s' });
    expect(errorOf(resumed)).toBe('');
    expect(json<{ version: string }[]>(resumed, 'applied').map((a) => a.version)).toEqual(['2']);
  });
});
