import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  commandLinesDuring,
  createPgDatabase,
  dropPgDatabase,
  pgQuery,
  startPasswordCluster,
  uniqueName,
} from '../../../test/helpers/databases.ts';
import { leakedSecrets } from '../../../test/helpers/run-action.ts';
import {
  ageKeyPair,
  backupAction,
  openSealed,
  decryptWithAgeTool,
  errorOf,
  manifestsIn,
  outputsOf,
  tempDir,
} from './helpers.ts';

const counts = async (database: string) =>
  (
    await pgQuery(
      database,
      `SELECT (SELECT count(*) FROM customers)::int AS c, (SELECT count(*) FROM orders)::int AS o, (SELECT count(*) FROM billing.invoices)::int AS i, order_count()::int AS f`,
    )
  ).rows[0];

let source: string;
let keys: { identity: string; recipient: string };
const store = tempDir('pgstore-');
const created: string[] = [];
const url = (database: string) => `postgres://postgres@127.0.0.1:5432/${database}`;

beforeAll(async () => {
  source = await createPgDatabase('bksrc');
  keys = await ageKeyPair();
});
afterAll(async () => {
  for (const name of [source, ...created]) await dropPgDatabase(name);
});

describe('db-backup on PostgreSQL, folder store', () => {
  let backupId: string;

  it('takes an encrypted backup whose manifest is written after the upload', async () => {
    const run = await backupAction({
      'database-url': url(source),
      store,
      recipients: keys.recipient,
      labels: 'pre-deploy',
    });
    expect(errorOf(run)).toBe('');
    expect(run.exitCode).toBe(0);
    const out = outputsOf(run);
    backupId = out.id;
    expect(out.id).toMatch(new RegExp(`^${source}-\\d{4}-\\d\\d-\\d\\dT\\d\\d-\\d\\d-\\d\\dZ-[0-9a-f]{6}$`));
    expect(out.location).toBe(`file://${store}/${source}/${out.id}.dump.zst.age`);
    const stored = readFileSync(out.location.slice('file://'.length));
    expect(stored.length).toBe(out.size);
    expect(createHash('sha256').update(stored).digest('hex')).toBe(out.sha256);
    expect(out.verified).toBe('false');
    const [manifest] = manifestsIn(store, source) as unknown as [Record<string, any>];
    expect(manifest).toMatchObject({
      id: out.id,
      engine: 'postgres',
      database: source,
      compression: { algorithm: 'zstd', level: 3 },
      encryption: { method: 'age-x25519', recipients: [expect.stringMatching(/^sha256:[0-9a-f]{16}$/)] },
      uploadCheck: 'sha256-read-back',
      labels: ['pre-deploy'],
      stored: { bytes: out.size, sha256: out.sha256 },
      deploySha: '0123456789abcdef0123456789abcdef01234567',
      runUrl: 'https://github.com/acme/service/actions/runs/4242',
      verified: null,
    });
    // Table names, row counts, plain hash and user@host are sealed to the backup's own recipients.
    expect(manifest.details).toBeUndefined();
    const raw = readFileSync(`${store}/${source}/${out.id}.manifest.json`, 'utf8');
    for (const clear of ['customers', 'invoices', 'postgres@127.0.0.1', 'rowCounts', 'pg_dump (PostgreSQL)'])
      expect(raw).not.toContain(clear);
    const details = JSON.parse(await openSealed(manifest.sealedDetails, keys.identity)) as Record<string, any>;
    expect(details).toMatchObject({
      source: 'postgres@127.0.0.1:5432',
      rowCounts: { 'public.customers': 500, 'public.orders': 1200, 'billing.invoices': 77 },
    });
    expect(details.serverVersion).toMatch(/^\d+\.\d+/);
    expect(details.toolVersion).toMatch(/pg_dump \(PostgreSQL\)/);
    expect(Date.parse(manifest.completedAt)).toBeGreaterThanOrEqual(Date.parse(manifest.startedAt));
    expect(run.summary).toContain(`Backup taken: ${out.id}`);
  });

  it('stores no plaintext, and the standard age tool opens it with the private key', () => {
    const object = `${store}/${source}/${backupId}.dump.zst.age`;
    const stored = readFileSync(object);
    expect(stored.subarray(0, 21).toString()).toBe('age-encryption.org/v1');
    expect(stored.includes('PGDMP')).toBe(false);
    expect(stored.includes('secret-row-text')).toBe(false);
    const dump = decryptWithAgeTool(object, keys.identity);
    expect(dump.subarray(0, 5).toString()).toBe('PGDMP');
    expect(dump.includes('secret-row-text-42')).toBe(true);
  });

  it('restores into a new database with every row, view and function', async () => {
    const target = uniqueName('bkcopy');
    created.push(target);
    const run = await backupAction({
      command: 'restore',
      'database-url': url(source),
      store,
      identity: keys.identity,
      'target-database': target,
    });
    expect(errorOf(run)).toBe('');
    expect(run.outputs['backup-id']).toBe(backupId);
    expect(await counts(target)).toEqual(await counts(source));
    expect(leakedSecrets(run, [keys.identity])).toEqual([]);
  });

  it('verifies by restoring into a scratch database, then marks the backup verified', async () => {
    const run = await backupAction({ command: 'verify', 'database-url': url(source), store, identity: keys.identity });
    expect(errorOf(run)).toBe('');
    expect(run.outputs.verified).toBe('true');
    const manifest = manifestsIn(store, source).find((m) => m.id === backupId)!;
    expect(manifest.verified).toMatchObject({ tables: 3 });
    const scratch = /scratch database (deploy_suite_scratch_verify_[0-9a-f]{16})/.exec(run.log)?.[1];
    expect(scratch).toBeDefined();
    const leftovers = await pgQuery('postgres', 'SELECT datname FROM pg_database WHERE datname = $1', [scratch]);
    expect(leftovers.rowCount).toBe(0);
  });

  it('refuses to restore over a database that is not empty unless confirm repeats its name', async () => {
    const target = await createPgDatabase('bkbusy');
    created.push(target);
    await pgQuery(target, 'DELETE FROM orders WHERE id > 10');
    const refused = await backupAction({
      command: 'restore',
      'database-url': url(source),
      store,
      identity: keys.identity,
      'target-database': target,
    });
    expect(refused.exitCode).toBe(1);
    expect(errorOf(refused)).toContain(
      `Refusing to restore over ${target}: it is not empty. Set confirm to "${target}"`,
    );
    expect((await counts(target))!.o).toBe(10);
  });

  it('replaces a non-empty database when confirm repeats its name', async () => {
    const target = await createPgDatabase('bkreplace');
    created.push(target);
    await pgQuery(target, 'DELETE FROM orders WHERE id > 10; CREATE TABLE extra (x int)');
    const run = await backupAction({
      command: 'restore',
      'database-url': url(source),
      store,
      identity: keys.identity,
      'target-database': target,
      confirm: target,
    });
    expect(errorOf(run)).toBe('');
    expect(await counts(target)).toEqual(await counts(source));
  });

  it('dumps in directory format with parallel jobs, and verifies and restores it', async () => {
    const folder = tempDir('pgdir-');
    const backup = await backupAction({
      'database-url': url(source),
      store: folder,
      recipients: keys.recipient,
      'pg-format': 'directory',
      jobs: '3',
      verify: 'true',
      identity: keys.identity,
    });
    expect(errorOf(backup)).toBe('');
    expect(backup.outputs.verified).toBe('true');
    expect(manifestsIn(folder, source)[0]).toMatchObject({ dumpFormat: 'pg_dump directory (tar)' });
    const target = uniqueName('bkdircopy');
    created.push(target);
    const restore = await backupAction({
      command: 'restore',
      'database-url': url(source),
      store: folder,
      identity: keys.identity,
      'target-database': target,
      jobs: '3',
    });
    expect(errorOf(restore)).toBe('');
    expect(await counts(target)).toEqual(await counts(source));
  });

  it('fails clearly on a wrong key, a flipped byte or a missing manifest, before the target exists', async () => {
    const other = await ageKeyPair();
    const target = uniqueName('bknever');
    const exists = async () =>
      (await pgQuery('postgres', 'SELECT 1 FROM pg_database WHERE datname = $1', [target])).rowCount;

    const wrongKey = await backupAction({
      command: 'restore',
      'database-url': url(source),
      store,
      identity: other.identity,
      'target-database': target,
    });
    expect(wrongKey.exitCode).toBe(1);
    expect(errorOf(wrongKey)).toMatch(/is not encrypted to the identity given/);
    expect(await exists()).toBe(0);

    const missing = await backupAction({
      command: 'restore',
      'database-url': url(source),
      store,
      identity: keys.identity,
      'target-database': target,
      'backup-id': `${source}-2020-01-01T00-00-00Z-000000`,
    });
    expect(errorOf(missing)).toContain('has no manifest');
    expect(await exists()).toBe(0);

    const object = `${store}/${source}/${backupId}.dump.zst.age`;
    const bytes = readFileSync(object);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
    writeFileSync(object, bytes);
    const flipped = await backupAction({
      command: 'restore',
      'database-url': url(source),
      store,
      identity: keys.identity,
      'target-database': target,
    });
    expect(flipped.exitCode).toBe(1);
    expect(errorOf(flipped)).toMatch(
      new RegExp(
        `Backup ${backupId} is damaged: the stored object has \\d+ bytes with SHA-256 [0-9a-f]{64}, the manifest records`,
      ),
    );
    expect(await exists()).toBe(0);
  });

  it('takes two backups of one database at once, with distinct ids', async () => {
    const concurrentStore = tempDir('pgconc-');
    const [a, b] = await Promise.all([
      backupAction({ 'database-url': url(source), store: concurrentStore, recipients: keys.recipient }),
      backupAction({ 'database-url': url(source), store: concurrentStore, recipients: keys.recipient }),
    ]);
    expect([a.exitCode, b.exitCode]).toEqual([0, 0]);
    expect(outputsOf(a).id).not.toBe(outputsOf(b).id);
    expect(
      manifestsIn(concurrentStore, source)
        .map((m) => m.id)
        .sort(),
    ).toEqual([outputsOf(a).id, outputsOf(b).id].sort());
  });

  it('lists and prunes by policy; dry-run deletes nothing', async () => {
    const listed = await backupAction({ command: 'list', 'database-url': url(source), store });
    expect(JSON.parse(listed.outputs.backups!)).toHaveLength(1);
    const dry = await backupAction({
      command: 'prune',
      'database-url': url(source),
      store,
      'keep-daily': '0',
      'keep-monthly': '0',
      'keep-pre-deploy-days': '0',
      'dry-run': 'true',
    });
    expect(JSON.parse(dry.outputs.deleted!)).toEqual([]);
    expect(JSON.parse(dry.outputs.backups!)[0].reasons).toEqual(expect.arrayContaining(['newest backup']));
  });
});

describe('PostgreSQL tool versions', () => {
  it('refuses a pg_dump older than the server, saying which is needed and where it looked', async () => {
    const bin = tempDir('oldpg-');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'pg_dump'), '#!/bin/sh\necho "pg_dump (PostgreSQL) 11.22"\n');
    chmodSync(join(bin, 'pg_dump'), 0o755);
    const run = await backupAction({
      'database-url': url(source),
      store: tempDir(),
      recipients: keys.recipient,
      'pg-bin-dir': bin,
    });
    expect(run.exitCode).toBe(1);
    expect(errorOf(run)).toMatch(
      new RegExp(
        `pg_dump \\d+ or newer is needed for PostgreSQL \\d+, found only: ${bin}/pg_dump \\(pg_dump \\(PostgreSQL\\) 11\\.22\\)\\. Install postgresql-client-\\d+ or set pg-bin-dir`,
      ),
    );
  });
});

describe('passwords against a server that checks them', () => {
  const password = `p@ss:w/rd#%'" x`;
  let cluster: Awaited<ReturnType<typeof startPasswordCluster>>;
  let database: string;
  beforeAll(async () => {
    cluster = await startPasswordCluster(password);
    database = await createPgDatabase('bkpw', { host: '127.0.0.1', port: cluster.port, user: cluster.user, password });
  }, 60_000);
  afterAll(() => cluster?.stop());

  it('works from a percent-encoded URL and from discrete inputs, and never shows the password', async () => {
    const folder = tempDir('pwstore-');
    const viaUrl = await backupAction({
      'database-url': `postgres://${cluster.user}:${encodeURIComponent(password)}@127.0.0.1:${cluster.port}/${database}`,
      store: folder,
      recipients: keys.recipient,
      verify: 'true',
      identity: keys.identity,
    });
    expect(errorOf(viaUrl)).toBe('');
    expect(viaUrl.outputs.verified).toBe('true');
    const viaInputs = await backupAction({
      engine: 'postgres',
      host: '127.0.0.1',
      port: String(cluster.port),
      user: cluster.user,
      password,
      database,
      store: folder,
      recipients: keys.recipient,
    });
    expect(errorOf(viaInputs)).toBe('');
    for (const run of [viaUrl, viaInputs]) {
      expect(
        leakedSecrets(run, [password, encodeURIComponent(password), Buffer.from(password).toString('base64')]),
      ).toEqual([]);
      expect(run.masks).toContain(password);
    }
  });

  it('never puts the password on a command line', async () => {
    const server = { host: '127.0.0.1', port: cluster.port, user: cluster.user, password };
    await pgQuery(
      database,
      'CREATE TABLE IF NOT EXISTS bulk AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 300000) g',
      [],
      server,
    );
    let run: Awaited<ReturnType<typeof backupAction>> | undefined;
    const lines = await commandLinesDuring('pg_dump', async () => {
      run = await backupAction({
        'database-url': `postgres://${cluster.user}:${encodeURIComponent(password)}@127.0.0.1:${cluster.port}/${database}`,
        store: tempDir(),
        recipients: keys.recipient,
        compression: 'none',
      });
    });
    expect(errorOf(run!)).toBe('');
    expect(lines.some((line) => line.includes('--snapshot='))).toBe(true);
    expect(lines.filter((line) => line.includes(password) || line.includes(encodeURIComponent(password)))).toEqual([]);
  });

  it('names the password input when the server asks for one and none was given', async () => {
    const run = await backupAction({
      'database-url': `postgres://${cluster.user}@127.0.0.1:${cluster.port}/${database}`,
      store: tempDir(),
      recipients: keys.recipient,
    });
    expect(run.exitCode).toBe(1);
    expect(errorOf(run)).toMatch(
      /^Input 'password' is needed: postgres at 127\.0\.0\.1:\d+ asked for a password for user admin/,
    );
  });

  it('fails on a wrong password without echoing it', async () => {
    const run = await backupAction({
      'database-url': `postgres://${cluster.user}:${encodeURIComponent('wrong-Pa55word')}@127.0.0.1:${cluster.port}/${database}`,
      store: tempDir(),
      recipients: keys.recipient,
    });
    expect(run.exitCode).toBe(1);
    expect(errorOf(run)).toContain('password authentication failed');
    expect(leakedSecrets(run, ['wrong-Pa55word'])).toEqual([]);
  });
});
