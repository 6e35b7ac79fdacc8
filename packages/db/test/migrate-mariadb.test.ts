import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from '@jest/globals';
import { mariaQuery, uniqueName } from '../../../test/helpers/databases.ts';
import { apply, plan, type MigrateOptions } from '../src/migrate/index.ts';

const databases: string[] = [];
let database: string;
let folder: string;

const options = (): MigrateOptions => ({
  connection: { engine: 'mysql', host: '127.0.0.1', port: 3306, user: 'root', password: undefined, database },
  folder,
  lockWaitMs: 0,
  appliedBy: 'test',
});
const write = (files: Record<string, string>): void => {
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(folder, name), sql);
};

beforeEach(async () => {
  database = uniqueName('migdb');
  databases.push(database);
  folder = mkdtempSync(join(tmpdir(), 'migrations-'));
  await mariaQuery(`CREATE DATABASE ${database}`);
});
afterAll(async () => {
  for (const name of databases) await mariaQuery(`DROP DATABASE IF EXISTS ${name}`);
});

describe('migrate on MariaDB', () => {
  it('runs repeatable files after the versioned ones, in a history made before they existed', async () => {
    // The history table as earlier releases made it: version NOT NULL.
    await mariaQuery(
      'CREATE TABLE deploy_suite_schema_history (installed_rank INT AUTO_INCREMENT PRIMARY KEY, version VARCHAR(100) NOT NULL, description VARCHAR(500) NOT NULL, checksum CHAR(64) NOT NULL, normalized_checksum CHAR(64) NOT NULL, phase VARCHAR(16), applied_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), execution_ms INT NOT NULL, applied_by VARCHAR(500) NOT NULL, success BOOLEAN NOT NULL)',
      [],
      database,
    );
    write({
      'V1__t.sql': 'CREATE TABLE t (id INT, a INT);',
      'R__view.sql': 'CREATE OR REPLACE VIEW v AS SELECT id FROM t;',
    });
    expect((await apply(options())).applied.map((a) => a.version ?? a.description)).toEqual(['1', 'view']);
    expect((await apply(options())).applied).toEqual([]);
    write({ 'R__view.sql': 'CREATE OR REPLACE VIEW v AS SELECT id, a FROM t;' });
    expect((await plan(options())).pending).toEqual([
      { version: null, description: 'view', phase: null, repeatable: true },
    ]);
    await apply(options());
    expect(
      await mariaQuery(
        'SELECT version, description, success FROM deploy_suite_schema_history ORDER BY installed_rank',
        [],
        database,
      ),
    ).toEqual([
      { version: '1', description: 't', success: 1 },
      { version: null, description: 'view', success: 1 },
      { version: null, description: 'view', success: 1 },
    ]);
  });

  it('refuses transaction control in plan, naming the file', async () => {
    write({ 'V1__t.sql': 'CREATE TABLE t (id INT);\nSTART TRANSACTION;\nINSERT INTO t VALUES (1);\nCOMMIT;' });
    await expect(plan(options())).rejects.toThrow(
      /^Input 'folder' has transaction control in V1__t\.sql: START TRANSACTION at line 2/,
    );
  });
});
