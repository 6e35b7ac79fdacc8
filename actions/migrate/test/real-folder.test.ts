import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { dropPgDatabase, LOCAL_PG, pgQuery, uniqueName } from '../../../test/helpers/databases.ts';
import { repoRoot } from '../../../test/helpers/run-action.ts';
import { compareVersions, parseVersion } from '@deploy-suite/db/migrate';
import { errorOf, json, migrate } from './helpers.ts';

// Conductor's PostgreSQL migrations, unchanged (see the folder's README and LICENSE).
const folder = join(repoRoot, 'test/fixtures/conductor-migrations');
const databases: string[] = [];
const env = {
  PATH: process.env.PATH ?? '',
  PGHOST: LOCAL_PG.host,
  PGPORT: String(LOCAL_PG.port),
  PGUSER: LOCAL_PG.user,
};

const tool = (command: string, args: string[]): string => {
  const result = spawnSync(command, args, { env, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
};

/** The schema as pg_dump prints it, without migrate's own tables, comments and session settings. */
const schemaOf = (database: string): string =>
  tool('pg_dump', ['--schema-only', '--no-owner', '--no-privileges', '-T', 'deploy_suite_*', database])
    .split('\n')
    .filter((line) => line.trim() !== '' && !/^(--|SET |SELECT pg_catalog\.set_config|\\(un)?restrict )/.test(line))
    .join('\n');

const fresh = async (): Promise<string> => {
  const name = uniqueName('realmig');
  databases.push(name);
  await pgQuery('postgres', `CREATE DATABASE ${name}`);
  return name;
};

afterAll(async () => {
  for (const name of databases) await dropPgDatabase(name);
});

describe('a real migrations folder', () => {
  it('gives the same schema applied by migrate as by psql file by file in version order', async () => {
    const [byMigrate, byPsql] = await Promise.all([fresh(), fresh()]);
    const files = readdirSync(folder)
      .filter((name) => /^V[\d.]+__.*\.sql$/.test(name))
      .map((name) => ({ name, parts: parseVersion(/^V([\d.]+)__/.exec(name)![1]!)! }))
      .sort((a, b) => compareVersions(a.parts, b.parts));
    expect(files.length).toBeGreaterThan(10);
    for (const file of files)
      tool('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', byPsql, '-f', join(folder, file.name)]);

    const run = await migrate({
      command: 'apply',
      folder,
      'database-url': `postgres://postgres@127.0.0.1:5432/${byMigrate}`,
    });
    expect(errorOf(run)).toBe('');
    expect(json<unknown[]>(run, 'applied')).toHaveLength(files.length);
    // V9 holds only DROP/CREATE INDEX CONCURRENTLY: run outside a transaction, as Flyway does.
    expect(run.log).toContain('Applying V9__indexing_index_fix.sql (outside a transaction)');
    const schema = schemaOf(byMigrate);
    expect(schema).toContain('CREATE INDEX task_index_json_data_gin_idx');
    expect(schema).toBe(schemaOf(byPsql));
  });
});
