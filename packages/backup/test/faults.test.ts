import { Transform, type Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { DatabaseEngine } from '@deploy-suite/db';
import { MySqlEngine } from '@deploy-suite/db/mysql';
import { PostgresEngine } from '@deploy-suite/db/postgres';
import { listBackups, LocalStore, parseSigningKey, type BackupStore } from '@deploy-suite/storage';
import {
  createMariaDatabase,
  createPgDatabase,
  dropMariaDatabase,
  dropPgDatabase,
  LOCAL_MARIADB,
  LOCAL_PG,
  mariaQuery,
  pgQuery,
} from '../../../test/helpers/databases.ts';
import { ageKeyPair, tempDir, TEST_KEYS } from '../../../actions/db-backup/test/helpers.ts';

const signer = parseSigningKey('signing-key', TEST_KEYS.signing);
const provenance = { sha: 'abc', runUrl: '' };
import { takeBackup } from '../src/index.ts';
import { filesUnder } from '../../../test/helpers/files.ts';

/** A folder store whose uploads can be held after the first bytes, or broken after some bytes. */
class FaultyStore extends LocalStore {
  hold: { started: () => void; released: Promise<void> } | undefined;
  breakAfterBytes: number | undefined;

  override upload(key: string, body: Readable): Promise<void> {
    let seen = 0;
    let held = false;
    const faults = new Transform({
      transform: (chunk: Buffer, _encoding, callback) => {
        seen += chunk.length;
        if (this.breakAfterBytes !== undefined && seen > this.breakAfterBytes)
          return callback(new Error('store went away mid-upload'));
        if (this.hold && !held) {
          held = true;
          this.hold.started();
          void this.hold.released.then(() => callback(null, chunk));
          return;
        }
        callback(null, chunk);
      },
    });
    body.on('error', (error) => faults.destroy(error));
    return super.upload(key, body.pipe(faults));
  }
}

let recipient: string;
beforeAll(async () => {
  jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  recipient = (await ageKeyPair()).recipient;
});

async function backupWithHeldUpload(
  engine: DatabaseEngine,
  store: FaultyStore,
  killConnection: () => Promise<number>,
): Promise<unknown> {
  let started!: () => void;
  const startedPromise = new Promise<void>((resolve) => (started = resolve));
  let release!: () => void;
  store.hold = { started, released: new Promise<void>((resolve) => (release = resolve)) };
  const backup = takeBackup({
    engine,
    store,
    compression: 'none',
    level: undefined,
    encryption: { kind: 'age-recipients', recipients: [recipient] },
    labels: [],
    signer,
    provenance,
  }).catch((e: unknown) => e);
  await startedPromise;
  let killed: number;
  try {
    killed = await killConnection();
  } finally {
    // Released whatever happened: a dump left blocked would hold its locks and hang the suite.
    release();
    store.hold = undefined;
  }
  expect(killed).toBeGreaterThan(0);
  return backup;
}

describe.each([
  {
    engine: 'PostgreSQL',
    create: async () => {
      const name = await createPgDatabase('bkfault');
      await pgQuery(
        name,
        'CREATE TABLE bulk AS SELECT g AS id, md5(g::text) || md5((g * 7)::text) AS payload FROM generate_series(1, 400000) g',
      );
      return name;
    },
    drop: dropPgDatabase,
    open: (database: string) => new PostgresEngine({ engine: 'postgres', ...LOCAL_PG, password: undefined, database }),
    kill: async (database: string) => {
      // Wait until pg_dump is inside its COPY (held back by the store), then cut its connection.
      for (let i = 0; i < 100; i++) {
        const killed = await pgQuery(
          'postgres',
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'COPY %'",
          [database],
        );
        if ((killed.rowCount ?? 0) > 0) return killed.rowCount ?? 0;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return 0;
    },
    failure: /pg_dump exited with code 1: .*(terminat|server closed the connection|connection)/s,
  },
  {
    engine: 'MariaDB',
    create: async () => {
      const name = await createMariaDatabase('bkfault');
      await mariaQuery(
        'CREATE TABLE bulk AS SELECT seq AS id, CONCAT(MD5(seq), MD5(seq * 7)) AS payload FROM seq_1_to_400000',
        [],
        name,
      );
      return name;
    },
    drop: dropMariaDatabase,
    open: (database: string) => new MySqlEngine({ engine: 'mysql', ...LOCAL_MARIADB, password: undefined, database }),
    kill: async (database: string) => {
      // The dump's connection is the one in this test's database reading its table. Never match on
      // the query alone: other suites running at the same time dump tables named `bulk` too.
      for (let i = 0; i < 100; i++) {
        const rows = (await mariaQuery(
          "SELECT id FROM information_schema.processlist WHERE id <> CONNECTION_ID() AND db = ? AND info LIKE '%`bulk`%'",
          [database],
        )) as { id: number }[];
        for (const { id } of rows) await mariaQuery(`KILL ${id}`);
        if (rows.length > 0) return rows.length;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return 0;
    },
    failure: /(mariadb-dump|mysqldump) exited with code \d+: .*(Lost connection|server has gone away|Error)/s,
  },
])('$engine: nothing is lost', ({ create, drop, open, kill, failure }) => {
  let database: string;
  let folder: string;
  let store: FaultyStore;
  let earlier: string;

  beforeAll(async () => {
    database = await create();
    folder = tempDir('faults-');
    store = new FaultyStore(folder);
    const first = await takeBackup({
      engine: open(database),
      store,
      compression: 'zstd',
      level: 1,
      encryption: { kind: 'age-recipients', recipients: [recipient] },
      labels: ['before'],
      signer,
      provenance,
    });
    earlier = first.id;
  }, 120_000);
  afterAll(() => drop(database));

  const expectOnlyEarlierBackup = async (store: BackupStore): Promise<void> => {
    const { backups } = await listBackups(store, database, signer.verifier);
    expect(backups.map((b) => b.id)).toEqual([earlier]);
    expect(filesUnder(folder)).toEqual([`${database}/${earlier}.dump.zst.age`, `${database}/${earlier}.manifest.json`]);
  };

  it('fails clearly when the database connection is killed mid-dump, leaving no manifest and no object', async () => {
    const error = await backupWithHeldUpload(open(database), store, () => kill(database));
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(failure);
    await expectOnlyEarlierBackup(store);
  }, 120_000);

  it('fails clearly when the store breaks mid-upload, leaving no manifest and no partial object', async () => {
    store.breakAfterBytes = 1024 * 1024;
    const error = await takeBackup({
      engine: open(database),
      store,
      compression: 'none',
      level: undefined,
      encryption: { kind: 'none' },
      labels: [],
      signer,
      provenance,
    }).catch((e: unknown) => e);
    store.breakAfterBytes = undefined;
    expect((error as Error).message).toContain('store went away mid-upload');
    await expectOnlyEarlierBackup(store);
  }, 120_000);
});
