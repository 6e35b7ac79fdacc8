import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { LOCAL_MARIADB, mariaQuery, namesOf63Bytes, pgQuery, uniqueName } from '../../../test/helpers/databases.ts';
import { runBuiltAction } from '../../../test/helpers/run-action.ts';
import { ageKeyPair, backupAction, errorOf, manifestsIn, tempDir, TEST_KEYS } from './helpers.ts';

const pgIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;
const myIdent = (name: string) => `\`${name.replace(/`/g, '``')}\``;

let keys: { identity: string; recipient: string };
beforeAll(async () => {
  keys = await ageKeyPair();
});

const engines = [
  {
    engine: 'PostgreSQL',
    url: (db: string) => `postgres://postgres@127.0.0.1:5432/${encodeURIComponent(db)}`,
    create: async (db: string) => {
      await pgQuery('postgres', `DROP DATABASE IF EXISTS ${pgIdent(db)} WITH (FORCE)`);
      await pgQuery('postgres', `CREATE DATABASE ${pgIdent(db)}`);
      await pgQuery(db, 'CREATE TABLE keep (id int PRIMARY KEY); INSERT INTO keep SELECT generate_series(1, 321)');
    },
    rows: async (db: string) => Number((await pgQuery(db, 'SELECT count(*) AS n FROM keep')).rows[0].n),
    drop: (db: string) => pgQuery('postgres', `DROP DATABASE IF EXISTS ${pgIdent(db)} WITH (FORCE)`),
  },
  {
    engine: 'MariaDB',
    url: (db: string) => `mysql://root@${LOCAL_MARIADB.host}:3306/${encodeURIComponent(db)}`,
    create: async (db: string) => {
      await mariaQuery(`DROP DATABASE IF EXISTS ${myIdent(db)}`);
      await mariaQuery(`CREATE DATABASE ${myIdent(db)} CHARACTER SET utf8mb4`);
      await mariaQuery('CREATE TABLE keep (id int PRIMARY KEY); INSERT INTO keep SELECT seq FROM seq_1_to_321', [], db);
    },
    rows: async (db: string) =>
      Number(((await mariaQuery('SELECT count(*) AS n FROM keep', [], db)) as { n: string | number }[])[0]!.n),
    drop: (db: string) => mariaQuery(`DROP DATABASE IF EXISTS ${myIdent(db)}`),
  },
];

describe.each(engines)('$engine: verify never touches the real database', ({ url, create, rows, drop }) => {
  const names = Object.values(namesOf63Bytes());
  afterAll(async () => {
    for (const name of names) await drop(name);
  });

  it.each(names.map((name) => ({ name, bytes: Buffer.byteLength(name) })))(
    'a $bytes-byte name keeps every row through backup, verify and two verifies at once',
    async ({ name }) => {
      await create(name);
      const store = tempDir('long-');
      const backup = await backupAction({ 'database-url': url(name), store, recipients: keys.recipient });
      expect(errorOf(backup)).toBe('');
      const verifies = await Promise.all(
        [1, 2].map(() =>
          backupAction({ command: 'verify', 'database-url': url(name), store, identity: keys.identity }),
        ),
      );
      for (const run of verifies) expect(errorOf(run)).toBe('');
      const scratch = verifies.map(
        (run) => /scratch database (deploy_suite_scratch_verify_[0-9a-f]{16})/.exec(run.log)?.[1],
      );
      expect(new Set(scratch).size).toBe(2);
      expect(await rows(name)).toBe(321);
    },
  );
});

describe('PostgreSQL: the store is not trusted', () => {
  const source = uniqueName('bktrust');
  const store = tempDir('trust-');
  let realId: string;
  beforeAll(async () => {
    await engines[0]!.create(source);
    const run = await backupAction({ 'database-url': engines[0]!.url(source), store, recipients: keys.recipient });
    expect(errorOf(run)).toBe('');
    realId = run.outputs['backup-id']!;
  });
  afterAll(() => engines[0]!.drop(source));

  it('ignores a planted newer backup with an unsigned manifest: restore and verify use the signed one', async () => {
    // What a writer without the signing key can do: a plaintext dump and a manifest naming it.
    const id = `${source}-2099-01-01T00-00-00Z-abcdef`;
    writeFileSync(join(store, source, `${id}.dump`), 'CREATE ROLE planted SUPERUSER;');
    const real = manifestsIn(store, source)[0]!;
    writeFileSync(
      join(store, source, `${id}.manifest.json`),
      JSON.stringify({ ...real, id, object: `${source}/${id}.dump`, encryption: { method: 'none', recipients: [] } }),
    );
    const verify = await backupAction({
      command: 'verify',
      'database-url': engines[0]!.url(source),
      store,
      identity: keys.identity,
    });
    expect(errorOf(verify)).toBe('');
    expect(verify.outputs['backup-id']).toBe(realId);
    expect(
      verify.annotations
        .filter((a) => a.level === 'warning')
        .map((a) => a.message)
        .join('\n'),
    ).toContain('is not a signed manifest');
    const listed = await backupAction({
      command: 'list',
      'database-url': engines[0]!.url(source),
      store,
      'verify-key': TEST_KEYS.verify,
    });
    expect(JSON.parse(listed.outputs.backups!).map((b: { id: string }) => b.id)).toEqual([realId]);
    expect((await pgQuery('postgres', "SELECT 1 FROM pg_roles WHERE rolname = 'planted'")).rowCount).toBe(0);
  });

  it('restore needs the verify key and refuses a signed but unencrypted backup unless allow-unencrypted', async () => {
    const plainStore = tempDir('plain-');
    const plain = await backupAction({
      'database-url': engines[0]!.url(source),
      store: plainStore,
      'allow-unencrypted': 'true',
    });
    expect(errorOf(plain)).toBe('');
    const target = uniqueName('bkplain');
    const noKey = await backupAction({
      command: 'restore',
      'database-url': engines[0]!.url(source),
      store: plainStore,
      'target-database': target,
      'verify-key': '',
      'signing-key': '',
    });
    expect(errorOf(noKey)).toMatch(/Input 'verify-key' is required for restore/);
    const refused = await backupAction({
      command: 'restore',
      'database-url': engines[0]!.url(source),
      store: plainStore,
      'target-database': target,
      'verify-key': TEST_KEYS.verify,
    });
    expect(errorOf(refused)).toMatch(/is not encrypted; refusing to use it. Set allow-unencrypted: true/);
    const allowed = await backupAction({
      command: 'restore',
      'database-url': engines[0]!.url(source),
      store: plainStore,
      'target-database': target,
      'verify-key': TEST_KEYS.verify,
      'allow-unencrypted': 'true',
    });
    expect(errorOf(allowed)).toBe('');
    expect(await engines[0]!.rows(target)).toBe(321);
    await engines[0]!.drop(target);
  });

  it('verifies on a separate scratch server when asked, and refuses a connection string as a target', async () => {
    const verify = await backupAction({
      command: 'verify',
      'database-url': engines[0]!.url(source),
      store,
      identity: keys.identity,
      'scratch-server-url': 'postgres://postgres@localhost:5432/postgres',
    });
    expect(errorOf(verify)).toBe('');
    expect(verify.log).toMatch(/scratch database deploy_suite_scratch_verify_[0-9a-f]{16} on localhost:5432/);
    const hostile = await backupAction({
      command: 'restore',
      'database-url': engines[0]!.url(source),
      store,
      identity: keys.identity,
      'target-database': 'host=203.0.113.9 dbname=shop',
    });
    expect(errorOf(hostile)).toMatch(/Input 'target-database' must be a database name, not a connection string/);
  });

  it('a store that cannot be reached is a clear remote error naming it, not a bug', async () => {
    const { freePort } = await import('../../../test/helpers/ports.ts');
    const port = await freePort();
    const run = await backupAction({
      'database-url': engines[0]!.url(source),
      store: 's3://backups/shop',
      's3-endpoint': `http://127.0.0.1:${port}`,
      'aws-access-key-id': 'AKIAEXAMPLEKEY000',
      'aws-secret-access-key': 'not-a-real-secret-0123456789',
      recipients: keys.recipient,
    });
    expect(run.exitCode).toBe(1);
    expect(errorOf(run)).toMatch(/failed; nothing was recorded: s3:\/\/backups\/shop failed: .*ECONNREFUSED/);
    expect(run.log).not.toMatch(/a bug in this action|\n\s+at /);
  });

  it('a cancelled backup leaves no dump, extraction or password file behind in RUNNER_TEMP', async () => {
    await pgQuery(
      source,
      'CREATE TABLE IF NOT EXISTS bulk AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 400000) g',
    );
    const runnerTemp = tempDir('runner-temp-');
    let cancelledWith: string[] = [];
    const run = await runBuiltAction(
      'db-backup',
      {
        'signing-key': TEST_KEYS.signing,
        'database-url': engines[0]!.url(source),
        store: tempDir('cancel-'),
        recipients: keys.recipient,
        'pg-format': 'directory',
      },
      {
        env: { RUNNER_TEMP: runnerTemp },
        timeoutMs: 60_000,
        onStart: (child) => {
          // Cancel as the runner does (SIGTERM) once the private dump folder holds data.
          const poll = setInterval(() => {
            const entries = existsSync(runnerTemp) ? readdirSync(runnerTemp) : [];
            const dump = entries.find((e) => e.startsWith('pg-dump-'));
            if (dump !== undefined && existsSync(join(runnerTemp, dump, 'dump', 'toc.dat'))) {
              cancelledWith = entries;
              clearInterval(poll);
              child.kill('SIGTERM');
            }
          }, 5);
          child.on('close', () => clearInterval(poll));
        },
      },
    );
    expect(cancelledWith).toEqual(expect.arrayContaining([expect.stringMatching(/^pg-dump-/)]));
    expect(run.exitCode).not.toBe(0);
    expect(readdirSync(runnerTemp)).toEqual([]);
  });
});
