import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { ConfigurationError } from '@deploy-suite/kit';
import { DumpFailedError, RestoreFailedError, type DatabaseEngine } from '@deploy-suite/db';
import { MySqlEngine } from '@deploy-suite/db/mysql';
import { PostgresEngine } from '@deploy-suite/db/postgres';
import {
  IntegrityError,
  listBackups,
  LocalStore,
  manifestKey,
  newBackupId,
  objectKey,
  openDetails,
  parseSigningKey,
  sealDetails,
  writeManifest,
  type BackupManifest,
} from '@deploy-suite/storage';
import { LOCAL_MARIADB, LOCAL_PG, mariaQuery, pgQuery, uniqueName } from '../../../test/helpers/databases.ts';
import { ageKeyPair, tempDir, TEST_KEYS } from '../../../actions/db-backup/test/helpers.ts';
import { keptName, restoreBackup, takeBackup, verifyBackup } from '../src/index.ts';
import { filesUnder } from '../../../test/helpers/files.ts';
import { HoldProxy } from './hold-proxy.ts';

/*
 * Every connection a backup, restore or verify opens is killed from outside while it works
 * (pg_terminate_backend / KILL, found by what it runs), and each death must end in one clear
 * error (a ConfigurationError, so printed without a stack), no unhandled rejection (which would
 * crash the action), and nothing half-written: no object without its manifest, no partial file,
 * no scratch or target database left behind.
 */

const signer = parseSigningKey('signing-key', TEST_KEYS.signing);
const provenance = { sha: 'abc', runUrl: '' };
let keys: { identity: string; recipient: string };

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
beforeAll(async () => {
  jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  process.on('unhandledRejection', onUnhandled);
  keys = await ageKeyPair();
});
afterAll(() => void process.off('unhandledRejection', onUnhandled));
afterEach(() => {
  // A rejection nobody handled would have killed the action's process.
  expect(unhandled.splice(0)).toEqual([]);
});

/** Polls (never a blind sleep) until `probe` finds something, for at most `ms`. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A clear error: expected (no stack printed), and not a bug dressed up. */
function expectClear(error: unknown, kind: new (...args: never[]) => Error, message: RegExp): void {
  // One object compared, so a failure shows the error that came instead.
  expect({
    kind: error instanceof kind,
    clear: error instanceof ConfigurationError,
    message: String((error as Error | undefined)?.message ?? error),
  }).toEqual({ kind: true, clear: true, message: expect.stringMatching(message) });
}

const backupOf = (engine: DatabaseEngine, store: LocalStore) =>
  takeBackup({
    engine,
    store,
    compression: 'zstd',
    level: 1,
    encryption: { kind: 'age-recipients', recipients: [keys.recipient] },
    labels: [],
    signer,
    provenance,
  });

/**
 * Copies a good backup under a new id whose signed manifest is consistent for the stored bytes
 * but whose plain bytes fail at the very end: either the sealed plain SHA-256 is wrong, or a
 * byte inside the last age chunk is flipped (its MAC fails) and the stored hash recorded anew.
 */
async function damagedLate(store: LocalStore, folder: string, good: BackupManifest, how: 'plain-hash' | 'mac') {
  const database = good.database;
  const id = newBackupId(database, new Date(good.startedAt), randomBytes(3).toString('hex'));
  const object = objectKey(database, id, 'zstd', true);
  const bytes = readFileSync(`${folder}/${good.object}`);
  const details = await openDetails(good, { identities: [keys.identity] });
  let stored = good.stored;
  if (how === 'mac') {
    bytes[bytes.length - 20]! ^= 0x01;
    const { createHash } = await import('node:crypto');
    stored = { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  } else {
    details.plain = { ...details.plain, sha256: '0'.repeat(64) };
  }
  writeFileSync(`${folder}/${object}`, bytes);
  const sealed = await sealDetails(details, { kind: 'age-recipients', recipients: [keys.recipient] });
  const manifest: BackupManifest = { ...good, ...sealed, id, object, stored };
  await writeManifest(store, manifest, signer);
  return manifest;
}

interface Engine {
  name: string;
  open: (database: string, port?: number) => DatabaseEngine;
  create: () => Promise<string>;
  drop: (database: string) => Promise<void>;
  exists: (database: string) => Promise<boolean>;
  /** Kills the session of another client found by `where`, once; returns what it was running. */
  killWhen: (where: string, params: unknown[]) => Promise<{ database: string; query: string }>;
  port: number;
  /** The restore tool's statement that starts loading the largest table. */
  restoreBulk: RegExp;
  restoreFailure: RegExp;
  /** The session whose client port (on loopback) is `$1` / `?`. */
  onPort: string;
  /** Statements the tests hold on their way to the server. */
  createScratch: RegExp;
  countBulk: RegExp;
  swap: (target: string) => RegExp;
  /** The database's tables and their row counts, read directly (not through the relay). */
  contents: (database: string) => Promise<Record<string, number>>;
  /** Databases whose name starts with `prefix`. */
  databasesLike: (prefix: string) => Promise<string[]>;
}

const pgEngine: Engine = {
  name: 'PostgreSQL',
  open: (database, port) =>
    new PostgresEngine({
      engine: 'postgres',
      ...LOCAL_PG,
      password: undefined,
      database,
      // Through the relay in plain text, so it can see which statement goes by.
      ...(port === undefined ? {} : { port, tls: { mode: 'disable' as const } }),
    }),
  create: async () => {
    const name = uniqueName('bkconn');
    await pgQuery('postgres', `CREATE DATABASE ${name}`);
    await pgQuery(
      name,
      `CREATE TABLE gate (id int PRIMARY KEY); INSERT INTO gate SELECT generate_series(1, 5);
       CREATE TABLE bulk AS SELECT g AS id, md5(g::text) AS payload FROM generate_series(1, 150000) g;`,
    );
    return name;
  },
  drop: async (database) => {
    await pgQuery('postgres', `DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  },
  exists: async (database) =>
    ((await pgQuery('postgres', 'SELECT 1 FROM pg_database WHERE datname = $1', [database])).rowCount ?? 0) > 0,
  killWhen: (where, params) =>
    until(where, async () => {
      const { rows } = await pgQuery(
        'postgres',
        `SELECT pg_terminate_backend(pid) AS killed, datname, query FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND ${where} LIMIT 1`,
        params,
      );
      const row = rows[0] as { killed: boolean; datname: string; query: string } | undefined;
      return row?.killed ? { database: row.datname, query: row.query } : undefined;
    }),
  port: LOCAL_PG.port,
  restoreBulk: /COPY public\.bulk /,
  restoreFailure: /pg_restore (\([a-z-]+\) )?exited with code 1: .*terminat/s,
  onPort: "client_addr = '127.0.0.1' AND client_port = $1",
  createScratch: /CREATE DATABASE "deploy_suite_scratch_restore_[0-9a-f]{16}"/,
  countBulk: /SELECT count\(\*\) AS n FROM "public"\."bulk"/,
  // The second rename, inside the swap's transaction: the first one (live → kept) already ran.
  swap: (target) => new RegExp(`ALTER DATABASE "deploy_suite_scratch_restore_[0-9a-f]{16}" RENAME TO "${target}"\\0`),
  contents: (database) => pgEngine.open(database).rowCounts(database),
  databasesLike: async (prefix) =>
    (
      (await pgQuery('postgres', 'SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY 1', [prefix]))
        .rows as { datname: string }[]
    ).map((r) => r.datname),
};

const mariaEngine: Engine = {
  name: 'MariaDB',
  open: (database, port) =>
    new MySqlEngine({
      engine: 'mysql',
      ...LOCAL_MARIADB,
      password: undefined,
      database,
      ...(port === undefined ? {} : { port, tls: { mode: 'disable' as const } }),
    }),
  create: async () => {
    const name = uniqueName('bkconn');
    await mariaQuery(`CREATE DATABASE ${name}`);
    await mariaQuery(
      `CREATE TABLE gate (id INT PRIMARY KEY); INSERT INTO gate SELECT seq FROM seq_1_to_5;
       CREATE TABLE bulk AS SELECT seq AS id, MD5(seq) AS payload FROM seq_1_to_150000;`,
      [],
      name,
    );
    return name;
  },
  drop: async (database) => {
    await mariaQuery(`DROP DATABASE IF EXISTS \`${database}\``);
  },
  exists: async (database) =>
    ((await mariaQuery('SELECT 1 FROM information_schema.schemata WHERE schema_name = ?', [database])) as unknown[])
      .length > 0,
  killWhen: (where, params) =>
    until(where, async () => {
      const rows = (await mariaQuery(
        `SELECT id, db, info FROM information_schema.processlist WHERE id <> CONNECTION_ID() AND ${where} LIMIT 1`,
        params,
      )) as { id: number; db: string; info: string }[];
      if (rows.length === 0) return undefined;
      await mariaQuery(`KILL ${rows[0]!.id}`).catch(() => undefined);
      return { database: rows[0]!.db, query: rows[0]!.info };
    }),
  port: LOCAL_MARIADB.port,
  restoreBulk: /INSERT INTO `bulk` VALUES/,
  restoreFailure: /(mariadb|mysql) exited with code 1: .*(Lost connection|server has gone away|killed)/is,
  onPort: "SUBSTRING_INDEX(host, ':', -1) = ?",
  createScratch: /CREATE DATABASE `deploy_suite_scratch_restore_[0-9a-f]{16}`/,
  countBulk: /SELECT COUNT\(\*\) AS n FROM `bulk`/,
  swap: () => /RENAME TABLE /,
  contents: (database) => mariaEngine.open(database).rowCounts(database),
  databasesLike: async (prefix) =>
    (
      (await mariaQuery(
        'SELECT schema_name AS name FROM information_schema.schemata WHERE LEFT(schema_name, ?) = ? ORDER BY 1',
        [prefix.length, prefix],
      )) as { name: string }[]
    ).map((r) => r.name),
};

describe.each([pgEngine, mariaEngine])('$name: a connection that dies', (engine) => {
  let source: string;
  let folder: string;
  let store: LocalStore;
  let good: BackupManifest;
  /** A database in use, restored over (confirm) by the rollback tests: it must never change. */
  let live: string;
  let liveContents: Record<string, number>;
  let proxy: HoldProxy;
  const made: string[] = [];

  beforeAll(async () => {
    source = await engine.create();
    folder = tempDir('faultconn-');
    store = new LocalStore(folder);
    good = await backupOf(engine.open(source), store);
    live = uniqueName('bkconn_live');
    made.push(live);
    await restoreBackup({ ...restoreOf(engine.open(source)), target: live });
    liveContents = await engine.contents(live);
    proxy = await HoldProxy.start(engine.port);
  }, 60_000);
  afterAll(async () => {
    await proxy.close();
    // A kept copy a failed swap left behind is this run's too.
    const kept = await engine.databasesLike(`${live}_before_`);
    for (const name of [source, ...made, ...kept]) await engine.drop(name);
  });

  const restoreOf = (on: DatabaseEngine) => ({
    engine: on,
    store,
    manifest: good,
    decryption: { identities: [keys.identity] },
    allowUnencrypted: false,
    confirm: undefined,
  });

  /**
   * Runs `work` with every connection through the relay; the first statement matching `pattern`
   * is held, its session killed on the server while it waits for the answer, and then let go.
   * Returns what `work` ended with, and the held statement.
   */
  const killedAt = async (pattern: RegExp, work: (via: DatabaseEngine) => Promise<unknown>) => {
    const hold = proxy.holdNext(pattern);
    const outcome = work(engine.open(source, proxy.port)).then(
      (value: unknown) => ({ value }),
      (error: unknown) => ({ error }),
    );
    const held = await Promise.race([
      hold,
      outcome.then(() => {
        proxy.disarm();
        throw new Error(`finished without sending a statement matching ${pattern}`);
      }),
    ]);
    await engine.killWhen(engine.onPort, [held.port]);
    await held.closed;
    held.release();
    const ended = await outcome;
    return { error: 'error' in ended ? ended.error : new Error('it did not fail'), held };
  };

  /** The live database has every table and row it had, and nothing was left beside it. */
  const expectLiveUntouched = async (scratch: string | undefined): Promise<void> => {
    expect(await engine.contents(live)).toEqual(liveContents);
    expect(await engine.databasesLike(`${live}_before_`)).toEqual([]);
    if (scratch !== undefined) expect(await engine.exists(scratch)).toBe(false);
  };

  /** The store holds exactly the backups named, each object with its manifest, and nothing else. */
  const expectStoreHolds = async (...manifests: BackupManifest[]): Promise<void> => {
    const { backups } = await listBackups(store, source, signer.verifier);
    expect(backups.map((b) => b.id).sort()).toEqual(manifests.map((m) => m.id).sort());
    expect(filesUnder(folder)).toEqual(manifests.flatMap((m) => [m.object, manifestKey(source, m.id)]).sort());
  };

  it('backup: the row-count session, killed while it counts, fails the backup and leaves nothing', async () => {
    const extra: BackupManifest[] = [];
    if (engine === pgEngine) {
      // The counts wait behind our lock on gate (as does pg_dump, once it imported the snapshot).
      const blocker = new pg.Client({ ...LOCAL_PG, database: source });
      await blocker.connect();
      await blocker.query('BEGIN; LOCK TABLE gate IN ACCESS EXCLUSIVE MODE');
      try {
        const backup = backupOf(engine.open(source), store).catch((e: unknown) => e);
        await until('pg_dump waiting for its lock', async () =>
          (
            await pgQuery(
              'postgres',
              "SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'LOCK TABLE %' AND wait_event_type = 'Lock'",
              [source],
            )
          ).rowCount
            ? true
            : undefined,
        );
        await engine.killWhen("datname = $1 AND query LIKE 'SELECT count(*)%gate%' AND wait_event_type = 'Lock'", [
          source,
        ]);
        await blocker.query('ROLLBACK');
        expectClear(await backup, DumpFailedError, /Counting rows in the dump's snapshot failed: .*terminat/);
      } finally {
        await blocker.end();
      }
    } else {
      const blocker = await mysql.createConnection({ ...LOCAL_MARIADB, database: source });
      await blocker.query('LOCK TABLES gate WRITE');
      try {
        const backup = backupOf(engine.open(source), store).catch((e: unknown) => e);
        await engine.killWhen("db = ? AND info LIKE 'SELECT COUNT(*)%`gate`%'", [source]);
        await blocker.query('UNLOCK TABLES');
        expectClear(await backup, DumpFailedError, new RegExp(`Counting rows of ${source} failed: .*`));
      } finally {
        await blocker.end();
      }
    }
    await expectStoreHolds(good, ...extra);
  }, 30_000);

  it.each([1, 2])(
    "restore: the restore tool's connection, killed mid-restore, fails it and drops the target it created (round %i)",
    async () => {
      const target = uniqueName('bkconn_target');
      made.push(target);
      // Held as the tool starts loading the largest table: mid-restore, whatever the load.
      const { error } = await killedAt(engine.restoreBulk, (via) => restoreBackup({ ...restoreOf(via), target }));
      expectClear(error, RestoreFailedError, engine.restoreFailure);
      expect(await engine.exists(target)).toBe(false);
    },
    30_000,
  );

  it.each([1, 2])(
    "verify: the restore tool's connection into the scratch database, killed, fails it and drops the scratch (round %i)",
    async () => {
      let scratch: string | undefined;
      const { error } = await killedAt(engine.restoreBulk, (via) =>
        verifyBackup({
          ...restoreOf(via),
          signer,
          provenance,
          log: (message) =>
            (scratch ??= /scratch database (deploy_suite_scratch_verify_[0-9a-f]{16})/.exec(message)?.[1]),
        }),
      );
      expectClear(error, RestoreFailedError, engine.restoreFailure);
      expect(scratch).toBeDefined();
      expect(await engine.exists(scratch!)).toBe(false);
      await expectStoreHolds(good);
    },
    30_000,
  );

  it.each([1, 2])(
    'verify: the row-count session on the restored scratch copy, killed, fails it, drops the scratch and marks nothing (round %i)',
    async () => {
      let scratch: string | undefined;
      const { error } = await killedAt(engine.countBulk, (via) =>
        verifyBackup({
          ...restoreOf(via),
          signer,
          provenance,
          log: (message) =>
            (scratch ??= /scratch database (deploy_suite_scratch_verify_[0-9a-f]{16})/.exec(message)?.[1]),
        }),
      );
      expectClear(
        error,
        DumpFailedError,
        new RegExp(`Counting rows of ${scratch} failed: .*(terminat|Connection lost|killed|closed)`, 'is'),
      );
      expect(await engine.exists(scratch!)).toBe(false);
      await expectStoreHolds(good);
      // Not marked verified: the manifest is the one written at backup time.
      const { backups } = await listBackups(store, source, signer.verifier);
      expect(backups.map((b) => b.verified)).toEqual([null]);
    },
    30_000,
  );

  it.each([1, 2, 3])(
    "rollback: restore's admin session, killed while it creates the scratch database, fails it and leaves the live database as it was (round %i)",
    async () => {
      const { error, held } = await killedAt(engine.createScratch, (via) =>
        restoreBackup({ ...restoreOf(via), target: live, confirm: live }),
      );
      const scratch = /deploy_suite_scratch_restore_[0-9a-f]{16}/.exec(held.text)![0];
      expectClear(
        error,
        ConfigurationError,
        new RegExp(`scratch database ${scratch}.*(terminat|Connection lost|killed|closed)`, 'is'),
      );
      await expectLiveUntouched(scratch);
    },
    30_000,
  );

  it.each([1, 2])(
    'rollback: the row-count check on the restored copy, its session killed, fails it and leaves the live database as it was (round %i)',
    async () => {
      let scratch: string | undefined;
      const { error } = await killedAt(engine.countBulk, (via) =>
        restoreBackup({
          ...restoreOf(via),
          target: live,
          confirm: live,
          log: (message) => (scratch ??= /deploy_suite_scratch_restore_[0-9a-f]{16}/.exec(message)?.[0]),
        }),
      );
      expectClear(
        error,
        DumpFailedError,
        new RegExp(`Counting rows of ${scratch} failed: .*(terminat|Connection lost|killed|closed)`, 'is'),
      );
      await expectLiveUntouched(scratch);
    },
    30_000,
  );

  const swapKilled = async (): Promise<void> => {
    let scratch: string | undefined;
    const { error } = await killedAt(engine.swap(live), (via) =>
      restoreBackup({
        ...restoreOf(via),
        target: live,
        confirm: live,
        log: (message) => (scratch ??= /deploy_suite_scratch_restore_[0-9a-f]{16}/.exec(message)?.[0]),
      }),
    );
    expect(await engine.contents(live)).toEqual(liveContents);
    expectClear(
      error,
      ConfigurationError,
      new RegExp(`swap .*${live}.*(terminat|Connection lost).* was left as it was`, 'is'),
    );
    await expectLiveUntouched(scratch);
  };

  if (engine === pgEngine) {
    // Killed after the first rename (live → kept) ran in the swap's transaction: the server undoes it.
    it.each([1, 2])(
      'rollback: the swap session, killed mid-swap, fails it and leaves the live database as it was (round %i)',
      swapKilled,
      30_000,
    );
  } else {
    // Killed before its RENAME TABLE ran: nothing moved. The session is dead, so the clean-up (the
    // empty kept database dropped) runs on a new one.
    it.each([1, 2])(
      'rollback: the swap session, killed before its RENAME TABLE, fails it and leaves the live database as it was (round %i)',
      swapKilled,
      30_000,
    );
    // Killed after its RENAME TABLE ran (held at the next statement on that session, the drop of
    // the live database's own procedure): the live tables are in the kept database by then, and
    // the undo, on a new session, moves every table back.
    it.each([1, 2])(
      'rollback: the swap session, killed after its RENAME TABLE, fails it and puts the live database back as it was (round %i)',
      async () => {
        await mariaQuery('CREATE PROCEDURE live_total() SELECT COUNT(*) FROM gate', [], live);
        try {
          let scratch: string | undefined;
          const { error } = await killedAt(new RegExp(`DROP PROCEDURE IF EXISTS \`${live}\`\\.\`live_total\``), (via) =>
            restoreBackup({
              ...restoreOf(via),
              target: live,
              confirm: live,
              log: (message) => (scratch ??= /deploy_suite_scratch_restore_[0-9a-f]{16}/.exec(message)?.[0]),
            }),
          );
          expectClear(
            error,
            ConfigurationError,
            new RegExp(`swap .*${live}.*(terminat|Connection lost).* was put back as it was`, 'is'),
          );
          await expectLiveUntouched(scratch);
          const routines = (await mariaQuery(
            'SELECT ROUTINE_NAME AS name FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?',
            [live],
          )) as { name: string }[];
          expect(routines.map((r) => r.name)).toEqual(['live_total']);
        } finally {
          await mariaQuery('DROP PROCEDURE IF EXISTS live_total', [], live);
        }
      },
      30_000,
    );
  }

  // Two rollbacks within one second, or a kept name someone else took: the swap cannot keep the
  // old database under its dated name. One clear error; the live database, and the database that
  // holds the name, are left alone.
  const keptNameTaken = async (): Promise<void> => {
    const at = new Date('2026-11-27T03:00:00Z');
    const taken = keptName(live, at);
    // Quoted: the name has an upper-case T.
    const dropTaken = () =>
      engine === pgEngine
        ? pgQuery('postgres', `DROP DATABASE IF EXISTS "${taken}"`)
        : mariaQuery(`DROP DATABASE IF EXISTS \`${taken}\``);
    if (engine === pgEngine) await pgQuery('postgres', `CREATE DATABASE "${taken}"`);
    else await mariaQuery(`CREATE DATABASE \`${taken}\``);
    let scratch: string | undefined;
    const error = await restoreBackup({
      ...restoreOf(engine.open(live)),
      target: live,
      confirm: live,
      now: () => at,
      log: (message) => (scratch ??= /deploy_suite_scratch_restore_[0-9a-f]{16}/.exec(message)?.[0]),
    }).catch((e: unknown) => e);
    expect(await engine.contents(live)).toEqual(liveContents);
    expect(await engine.exists(taken)).toBe(true);
    if (scratch !== undefined) expect(await engine.exists(scratch)).toBe(false);
    await dropTaken();
    expectClear(error, ConfigurationError, new RegExp(`${taken}.*exists`, 'is'));
  };
  it('rollback: a kept name already taken is one clear error, and nothing changes', keptNameTaken, 30_000);

  const damagedRestore = (how: 'plain-hash' | 'mac') => async () => {
    const damaged = await damagedLate(store, folder, good, how);
    const target = uniqueName('bkconn_damaged');
    made.push(target);
    try {
      const error = await restoreBackup({
        engine: engine.open(source),
        store,
        manifest: damaged,
        decryption: { identities: [keys.identity] },
        allowUnencrypted: false,
        target,
        confirm: undefined,
      }).catch((e: unknown) => e);
      expect(await engine.exists(target)).toBe(false);
      expectClear(error, IntegrityError, new RegExp(`Backup ${damaged.id}`));
    } finally {
      await store.remove(manifestKey(source, damaged.id));
      await store.remove(damaged.object);
    }
  };

  it(
    'restore: a backup whose plain SHA-256 fails at the end of the stream is an IntegrityError; the new target is dropped',
    damagedRestore('plain-hash'),
    30_000,
  );

  it(
    'restore: a backup whose age MAC fails at the end of the stream is an IntegrityError; the new target is dropped',
    damagedRestore('mac'),
    30_000,
  );
});
