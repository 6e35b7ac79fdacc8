import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import {
  LocalStore,
  newBackupId,
  objectKey,
  openDetails,
  parseSigningKey,
  readManifest,
  sealDetails,
  writeManifest,
} from '@deploy-suite/storage';
import { LOCAL_PG, mariaQuery, pgQuery, uniqueName } from '../../../test/helpers/databases.ts';
import type { ActionRun } from '../../../test/helpers/run-action.ts';
import { ageKeyPair, backupAction, errorOf, outputsOf, tempDir, TEST_KEYS } from './helpers.ts';
import { filesUnder } from '../../../test/helpers/files.ts';

/*
 * The runner's way (dist/index.js spawned): a connection killed from outside mid-run ends in one
 * clear error annotation — no crash, no stack, no "bug" — and nothing half-written in the store.
 */

let keys: { identity: string; recipient: string };
beforeAll(async () => {
  keys = await ageKeyPair();
});

/** Polls (never a blind sleep) until `probe` finds something. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Failed with exactly one error, printed the way an expected failure is: no crash, no stack. */
function expectOneClearError(run: ActionRun, message: RegExp): void {
  expect(run.exitCode).toBe(1);
  expect(errorOf(run)).toMatch(message);
  expect(run.annotations.filter((a) => a.level === 'error')).toHaveLength(1);
  expect(run.log).not.toMatch(/a bug in this action|\n\s+at .+:\d+:\d+\)?\n|Node\.js v\d+/);
}

describe('PostgreSQL, the runner’s way', () => {
  const source = uniqueName('bkrunfault');
  const store = tempDir('runfault-');
  const url = `postgres://postgres@127.0.0.1:5432/${source}`;
  let before: string[];
  let goodId: string;

  beforeAll(async () => {
    await pgQuery('postgres', `CREATE DATABASE ${source}`);
    await pgQuery(
      source,
      'CREATE TABLE gate (id int PRIMARY KEY); INSERT INTO gate SELECT generate_series(1, 5); CREATE TABLE bulk AS SELECT g AS id, md5(g::text) AS payload FROM generate_series(1, 100000) g',
    );
    const run = await backupAction({ 'database-url': url, store, recipients: keys.recipient });
    expect(errorOf(run)).toBe('');
    goodId = outputsOf(run).id;
    before = filesUnder(store);
  }, 60_000);
  afterAll(() => pgQuery('postgres', `DROP DATABASE IF EXISTS ${source} WITH (FORCE)`));

  it('backup: the row-count session killed while it counts ends in one clear error, nothing stored', async () => {
    // The counts wait behind our lock on gate, as does pg_dump once it has imported the snapshot.
    const blocker = new pg.Client({ ...LOCAL_PG, database: source });
    await blocker.connect();
    await blocker.query('BEGIN; LOCK TABLE gate IN ACCESS EXCLUSIVE MODE');
    let run: Promise<ActionRun>;
    try {
      run = backupAction({ 'database-url': url, store, recipients: keys.recipient });
      const waiting = (query: string) =>
        until(query, async () => {
          const { rows } = await pgQuery(
            'postgres',
            `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND query LIKE $2 AND wait_event_type = 'Lock'`,
            [source, query],
          );
          return (rows[0] as { pid: number } | undefined)?.pid;
        });
      await waiting('LOCK TABLE %');
      const counting = await waiting('SELECT count(*)%gate%');
      await pgQuery('postgres', 'SELECT pg_terminate_backend($1)', [counting]);
    } finally {
      await blocker.query('ROLLBACK');
      await blocker.end();
    }
    expectOneClearError(await run, /Counting rows in the dump's snapshot failed: .*terminat/);
    expect(filesUnder(store)).toEqual(before);
  }, 60_000);

  it('restore: a backup whose plain SHA-256 fails at the end is an IntegrityError, and the new target is dropped', async () => {
    // A signed manifest whose stored hash matches the object but whose sealed plain hash does not.
    // Large enough that the mismatch comes while pg_restore reads: a dump that fits in the stream
    // buffers fails before the restore listens, and the restore then waits on stdin for ever.
    const signer = parseSigningKey('signing-key', TEST_KEYS.signing);
    const local = new LocalStore(store);
    const good = await readManifest(local, source, goodId, signer.verifier);
    const details = await openDetails(good, { identities: [keys.identity] });
    const id = newBackupId(source, new Date(good.startedAt), randomBytes(3).toString('hex'));
    const object = objectKey(source, id, 'zstd', true);
    const bytes = readFileSync(`${store}/${good.object}`);
    writeFileSync(`${store}/${object}`, bytes);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(good.stored.sha256);
    const sealed = await sealDetails(
      { ...details, plain: { ...details.plain, sha256: 'f'.repeat(64) } },
      { kind: 'age-recipients', recipients: [keys.recipient] },
    );
    await writeManifest(local, { ...good, ...sealed, id, object }, signer);

    const target = uniqueName('bkrunfault_target');
    const run = await backupAction({
      command: 'restore',
      'database-url': url,
      store,
      identity: keys.identity,
      'backup-id': id,
      'target-database': target,
    });
    expectOneClearError(run, new RegExp(`Backup ${id}: the decrypted dump does not match the SHA-256`));
    const { rowCount } = await pgQuery('postgres', 'SELECT 1 FROM pg_database WHERE datname = $1', [target]);
    expect(rowCount).toBe(0);
  }, 60_000);
});

describe('MariaDB, the runner’s way', () => {
  const source = uniqueName('bkrunfault');
  const store = tempDir('runfault-');
  const url = `mysql://root@127.0.0.1:3306/${source}`;
  let before: string[];

  beforeAll(async () => {
    await mariaQuery(`CREATE DATABASE ${source}`);
    await mariaQuery(
      'CREATE TABLE bulk AS SELECT seq AS id, CONCAT(MD5(seq), MD5(seq * 7)) AS payload FROM seq_1_to_300000',
      [],
      source,
    );
    const run = await backupAction({ 'database-url': url, store, recipients: keys.recipient, compression: 'none' });
    expect(errorOf(run)).toBe('');
    before = filesUnder(store);
  }, 60_000);
  afterAll(() => mariaQuery(`DROP DATABASE IF EXISTS ${source}`));

  // It crashed the process in most rounds (an unhandled rejection): a flaky crash is a crash.
  it.each([1, 2, 3, 4, 5])(
    "backup: mariadb-dump's connection killed mid-dump ends in one clear error, nothing stored (round %i)",
    async () => {
      const run = backupAction({ 'database-url': url, store, recipients: keys.recipient, compression: 'none' });
      const killed = await until('mariadb-dump reading bulk', async () => {
        const rows = (await mariaQuery(
          "SELECT id FROM information_schema.processlist WHERE db = ? AND info LIKE 'SELECT %FROM `bulk`%' AND info NOT LIKE 'SELECT COUNT(*)%'",
          [source],
        )) as { id: number }[];
        if (rows.length === 0) return undefined;
        await mariaQuery(`KILL ${rows[0]!.id}`);
        return rows[0]!.id;
      });
      expect(killed).toBeGreaterThan(0);
      expectOneClearError(
        await run,
        /(mariadb-dump|mysqldump) exited with code \d+: .*(Lost connection|gone away|Error)/s,
      );
      expect(filesUnder(store)).toEqual(before);
    },
    60_000,
  );
});
