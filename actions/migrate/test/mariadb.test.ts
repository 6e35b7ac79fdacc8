import { afterAll, beforeEach, describe, expect, it } from '@jest/globals';
import { mariaQuery, namesOf63Bytes, uniqueName } from '../../../test/helpers/databases.ts';
import { errorOf, json, migrate, migrationsFolder, writeMigration } from './helpers.ts';

const databases: string[] = [];
let database: string;
const url = () => `mysql://root@127.0.0.1:3306/${database}`;
const history = async () =>
  (await mariaQuery(
    'SELECT version, success FROM deploy_suite_schema_history ORDER BY installed_rank',
    [],
    database,
  )) as { version: string; success: number }[];
const tables = async () =>
  (
    (await mariaQuery(
      "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ? AND table_name NOT LIKE 'deploy_suite%' ORDER BY 1",
      [database],
    )) as { t: string }[]
  ).map((r) => r.t);

beforeEach(async () => {
  database = uniqueName('mig');
  databases.push(database);
  await mariaQuery(`CREATE DATABASE ${database}`);
});
afterAll(async () => {
  for (const name of databases) await mariaQuery(`DROP DATABASE IF EXISTS \`${name}\``);
});

describe('migrate on MariaDB', () => {
  it('applies migrations with DELIMITER blocks, quotes and comments intact', async () => {
    const folder = migrationsFolder({
      'V1__create.sql':
        "CREATE TABLE orders (id INT PRIMARY KEY, note VARCHAR(50) DEFAULT 'a;b'); -- trailing; comment\nINSERT INTO orders VALUES (1, 'it''s; fine'), (2, \"x;y\");\n",
      'V2__procedure.sql': `DELIMITER //
CREATE PROCEDURE order_count()
BEGIN
  SELECT COUNT(*) FROM orders; /* inner; statement */
END //
DELIMITER ;
CREATE TABLE audit (id INT);
`,
    });
    const run = await migrate({ command: 'apply', folder, 'database-url': url() });
    expect(errorOf(run)).toBe('');
    expect(run.outputs['current-version']).toBe('2');
    expect(await tables()).toEqual(['audit', 'orders']);
    expect(await mariaQuery('SELECT note FROM orders ORDER BY id', [], database)).toEqual([
      { note: "it's; fine" },
      { note: 'x;y' },
    ]);
    expect(
      await mariaQuery('SELECT COUNT(*) AS n FROM information_schema.routines WHERE routine_schema = ?', [database]),
    ).toEqual([{ n: 1 }]);
  });

  it('records a migration that fails halfway, blocks later applies until repair, and releases the lock', async () => {
    const folder = migrationsFolder({
      'V1__base.sql': 'CREATE TABLE t (id INT PRIMARY KEY);',
      'V2__breaks.sql': 'CREATE TABLE half (id INT);\nINSERT INTO missing_table VALUES (1);\n',
      'V3__later.sql': 'CREATE TABLE later (id INT);',
    });
    const failed = await migrate({ command: 'apply', folder, 'database-url': url() });
    expect(failed.exitCode).toBe(1);
    expect(errorOf(failed)).toMatch(
      /V2__breaks\.sql failed \(statement at line 2\): .*missing_table.* MySQL cannot roll back DDL: the statements before it stay applied\. It is recorded as failed; fix the schema, then run repair with repair-version: 2/,
    );
    expect((await history()).map((r) => [r.version, Boolean(r.success)])).toEqual([
      ['1', true],
      ['2', false],
    ]);
    expect(await tables()).toEqual(['half', 't']);
    expect(await mariaQuery('SELECT IS_FREE_LOCK(?) AS free', [`deploy_suite_migrate.${database}`])).toEqual([
      { free: 1 },
    ]);

    const blocked = await migrate({ command: 'apply', folder, 'database-url': url(), 'lock-wait-timeout': '0s' });
    expect(errorOf(blocked)).toMatch(/Migration 2 \(breaks\) failed at .* Nothing more runs until it is repaired/);
    expect(await tables()).toEqual(['half', 't']);

    // The operator fixes the schema and the file, then repairs.
    await mariaQuery('DROP TABLE half', [], database);
    writeMigration(folder, 'V2__breaks.sql', 'CREATE TABLE half (id INT);\n');
    const wrongRepair = await migrate({ command: 'repair', folder, 'database-url': url(), 'repair-version': '3' });
    expect(errorOf(wrongRepair)).toMatch(/^Input 'repair-version' names version 3, which has no failed record/);
    const repaired = await migrate({ command: 'repair', folder, 'database-url': url(), 'repair-version': '2' });
    expect(errorOf(repaired)).toBe('');
    const resumed = await migrate({ command: 'apply', folder, 'database-url': url() });
    expect(errorOf(resumed)).toBe('');
    expect(json<{ version: string }[]>(resumed, 'applied').map((a) => a.version)).toEqual(['2', '3']);
    expect(await tables()).toEqual(['half', 'later', 't']);
  });

  it('applies each migration exactly once when two runs start together', async () => {
    const folder = migrationsFolder({
      'V1__slow.sql': 'CREATE TABLE t (id INT PRIMARY KEY); DO SLEEP(1);',
      'V2__next.sql': 'INSERT INTO t VALUES (1);',
    });
    const [a, b] = await Promise.all([
      migrate({ command: 'apply', folder, 'database-url': url() }, { GITHUB_RUN_ID: '3001' }),
      migrate({ command: 'apply', folder, 'database-url': url() }, { GITHUB_RUN_ID: '3002' }),
    ]);
    expect([errorOf(a), errorOf(b)]).toEqual(['', '']);
    expect([...json<unknown[]>(a, 'applied'), ...json<unknown[]>(b, 'applied')]).toHaveLength(2);
    expect(await mariaQuery('SELECT COUNT(*) AS n FROM t', [], database)).toEqual([{ n: 1 }]);
  });

  it('resumes after the connection is killed during apply: the lock dies with it', async () => {
    const folder = migrationsFolder({ 'V1__base.sql': 'CREATE TABLE t (id INT);', 'V2__slow.sql': 'DO SLEEP(30);' });
    const running = migrate({ command: 'apply', folder, 'database-url': url() });
    let killed = 0;
    for (let i = 0; i < 100 && killed === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const rows = (await mariaQuery(
        "SELECT id FROM information_schema.processlist WHERE info LIKE 'DO SLEEP(30)%'",
      )) as { id: number }[];
      for (const { id } of rows) await mariaQuery(`KILL ${id}`);
      killed = rows.length;
    }
    expect(killed).toBe(1);
    expect((await running).exitCode).toBe(1);
    writeMigration(folder, 'V2__slow.sql', 'CREATE TABLE after_kill (id INT);');
    // The killed run could not record its failure (its connection was gone): nothing blocks.
    const resumed = await migrate({ command: 'apply', folder, 'database-url': url(), 'lock-wait-timeout': '0s' });
    expect(errorOf(resumed)).toBe('');
    expect(await tables()).toEqual(['after_kill', 't']);
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
      await mariaQuery(`CREATE DATABASE \`${source}\``);
      await mariaQuery('CREATE TABLE keep (id INT); INSERT INTO keep SELECT seq FROM seq_1_to_50;', [], source);
      const folder = migrationsFolder({ 'V1__t.sql': 'CREATE TABLE t (id INT);', 'U1__t.sql': 'DROP TABLE t;' });
      const run = await migrate({
        command: 'test',
        folder,
        'database-url': `mysql://root@127.0.0.1:3306/${encodeURIComponent(source)}`,
      });
      expect(errorOf(run)).toBe('');
      const evidence = json<{ database: string; passed: boolean }>(run, 'test-result');
      expect(evidence).toMatchObject({
        passed: true,
        database: expect.stringMatching(/^deploy_suite_scratch_migtest_[0-9a-f]{16}$/),
      });
      expect(await mariaQuery('SELECT COUNT(*) AS n FROM keep', [], source)).toEqual([{ n: 50 }]);
      expect(
        await mariaQuery('SELECT COUNT(*) AS n FROM information_schema.schemata WHERE schema_name = ?', [
          evidence.database,
        ]),
      ).toEqual([{ n: 0 }]);
    },
  );

  it('lints MySQL statements too, and undoes and tests', async () => {
    const folder = migrationsFolder({
      'V1__base.sql': 'CREATE TABLE t (id INT PRIMARY KEY, a INT);',
      'U1__base.sql': 'DROP TABLE t;',
      'V2__risky.sql': '-- migrate: phase=expand\nALTER TABLE t DROP COLUMN a;',
      'U2__risky.sql': 'ALTER TABLE t ADD COLUMN a INT;',
    });
    const plan = await migrate({ command: 'plan', folder, 'database-url': url() });
    expect(plan.exitCode).toBe(1);
    expect(json<{ id: string; severity: string }[]>(plan, 'lint-findings')).toEqual([
      expect.objectContaining({ id: 'DS002', severity: 'error' }),
    ]);
    writeMigration(folder, 'V2__risky.sql', '-- migrate: phase=contract\nALTER TABLE t DROP COLUMN a;');
    const tested = await migrate({ command: 'test', folder, 'database-url': url() });
    expect(errorOf(tested)).toBe('');
    expect(json(tested, 'test-result')).toMatchObject({ passed: true, appliedTwice: true });
    await migrate({ command: 'apply', folder, 'database-url': url() });
    const undone = await migrate({ command: 'undo', folder, 'database-url': url(), 'target-version': '0' });
    expect(errorOf(undone)).toBe('');
    expect(await tables()).toEqual([]);
  });
});
