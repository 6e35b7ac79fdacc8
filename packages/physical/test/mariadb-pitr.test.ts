import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import * as age from 'age-encryption';
import { LocalStore, parseSigningKey, type EncryptionSettings } from '@deploy-suite/storage';
import {
  archiveBinlogs,
  backupMariaDb,
  BinlogGapError,
  chainFor,
  countRestoredRows,
  listBinlogArchive,
  listMariaDbBackups,
  MissingToolError,
  restoreMariaDb,
  type MariaDbBackupManifest,
  type RestoredMariaDb,
} from '../src/index.ts';
import { startMariaDbInstance, type MariaDbInstance } from '../../../test/helpers/mariadb-instance.ts';

/**
 * The MariaDB physical path end to end against a throwaway server writing ROW binary logs:
 * full and incremental mariadb-backup runs, the binary log archive, and restores into scratch
 * datadirs (prepare, a throwaway mariadbd, binary log replay to a target time).
 */

const PREFIX = 'shop/primary';
let db: MariaDbInstance;
let work: string;
let storeDir: string;
let encryption: EncryptionSettings;
let identity: string;
const { privateKey } = generateKeyPairSync('ed25519');
const signer = parseSigningKey('signing-key', privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
const verifier = signer.verifier;
const figures: Record<string, number> = {};

let full: MariaDbBackupManifest;
let increment: MariaDbBackupManifest;
let fullAtIncrement: MariaDbBackupManifest;
/** The target time: rows 1–15 were written before it, rows 16–20 after. */
let target: Date;

const store = (dir = storeDir): LocalStore => new LocalStore(dir);
const settings = () => ({ store: store(), prefix: PREFIX, encryption, signer });
const server = () => ({ socket: db.socket, user: db.user, password: db.password });

function insert(from: number, to: number): void {
  const rows = [];
  for (let id = from; id <= to; id += 1) rows.push(`(${id}, NOW(6))`);
  db.sql(`INSERT INTO shop.events (id, at) VALUES ${rows.join(', ')}`);
}

/** Rows of the restored copy, read as the user its init file made. */
function restoredRows(restored: RestoredMariaDb): string[] {
  const cnf = join(work, `client-${restored.port}.cnf`);
  writeFileSync(
    cnf,
    `[client]\nsocket=${restored.socket}\nuser=${restored.access.user}\npassword=${restored.access.password}\n`,
    { mode: 0o600 },
  );
  const result = spawnSync(
    'mariadb',
    [
      `--defaults-extra-file=${cnf}`,
      '--batch',
      '--skip-column-names',
      '-e',
      'SELECT id, at FROM shop.events ORDER BY id',
    ],
    { encoding: 'utf8', timeout: 20_000 },
  );
  if (result.status !== 0) throw new Error(result.stderr);
  return result.stdout.split('\n').filter((line) => line !== '');
}

const ids = (rows: string[]): number[] => rows.map((row) => Number(row.split('\t')[0]));
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const sleepUntil = async (time: number): Promise<void> => {
  while (Date.now() < time) await new Promise((resolve) => setTimeout(resolve, Math.min(100, time - Date.now() + 1)));
};
/** What is left under RUNNER_TEMP by the code under test. */
const leftovers = (): string[] => readdirSync(join(work, 'runner-temp'));

beforeAll(async () => {
  // The restore masks the copy's password the way an action does (::add-mask::); keep it out of the test log.
  const write = process.stdout.write.bind(process.stdout);
  jest
    .spyOn(process.stdout, 'write')
    .mockImplementation((chunk: string | Uint8Array) => String(chunk).startsWith('::add-mask::') || write(chunk));
  work = mkdtempSync(join(tmpdir(), 'mariadb-pitr-'));
  storeDir = join(work, 'store');
  process.env.RUNNER_TEMP = join(work, 'runner-temp');
  mkdirSync(process.env.RUNNER_TEMP);
  identity = await age.generateIdentity();
  encryption = { kind: 'age-recipients', recipients: [await age.identityToRecipient(identity)] };
  db = await startMariaDbInstance();
  db.sql('CREATE DATABASE shop; CREATE TABLE shop.events (id INT PRIMARY KEY, at DATETIME(6) NOT NULL)');

  insert(1, 5);
  let began = Date.now();
  full = (await backupMariaDb({ ...settings(), server: server(), type: 'full' })).manifest;
  figures.fullBackupSeconds = (Date.now() - began) / 1000;
  insert(6, 10);
  began = Date.now();
  increment = (await backupMariaDb({ ...settings(), server: server(), type: 'incremental', base: full })).manifest;
  figures.incrementalBackupSeconds = (Date.now() - began) / 1000;
  // Nothing written in between: this full backup holds what the chain holds.
  fullAtIncrement = (await backupMariaDb({ ...settings(), server: server(), type: 'full' })).manifest;

  insert(11, 12);
  await archiveBinlogs({ ...settings(), server: server(), verifier });
  insert(13, 15);
  await archiveBinlogs({ ...settings(), server: server(), verifier });
  // Binary log events carry whole seconds: the target is the next whole second after row 15,
  // and rows 16–20 are written once the clock has passed it.
  target = new Date(Math.floor(Date.now() / 1000) * 1000 + 1000);
  await sleepUntil(target.getTime() + 20);
  insert(16, 20);
  await archiveBinlogs({ ...settings(), server: server(), verifier });
}, 120_000);

afterAll(async () => {
  await db?.stop();
  rmSync(work, { recursive: true, force: true });
  // Printed for the report: seconds on this machine, no assertion on them.
  console.log(`mariadb physical figures: ${JSON.stringify(figures)}`);
});

describe('MariaDB physical backups and point-in-time recovery', () => {
  it('stores encrypted tar objects and binary logs with signed manifests, and the password nowhere', async () => {
    const { backups, rejected } = await listMariaDbBackups(store(), PREFIX, verifier);
    expect(rejected).toEqual([]);
    expect(backups.map((b) => b.id)).toEqual([full.id, increment.id, fullAtIncrement.id]);
    expect(increment).toMatchObject({ type: 'incremental', baseId: full.id, fromLsn: full.toLsn });
    expect(full.encryption.method).toBe('age-x25519');
    expect(chainFor(backups, increment.id).map((b) => b.id)).toEqual([full.id, increment.id]);
    const archive = await listBinlogArchive(store(), PREFIX, verifier);
    expect(archive.binlogs.map((b) => b.name)).toEqual(['binlog.000001', 'binlog.000002', 'binlog.000003']);
    for (const key of await store().list(PREFIX)) {
      const bytes = readFileSync(join(storeDir, key));
      expect(bytes.includes(Buffer.from(db.password))).toBe(false);
      if (!key.endsWith('.manifest.json')) expect(bytes.subarray(0, 21).toString()).toBe('age-encryption.org/v1');
    }
    // Archiving again sends nothing twice.
    const again = await archiveBinlogs({ ...settings(), server: server(), verifier });
    expect(again.archived.map((b) => b.name)).toEqual(['binlog.000004']);
    expect(again.alreadyArchived).toEqual(['binlog.000001', 'binlog.000002', 'binlog.000003']);
    expect(leftovers()).toEqual([]);
  });

  it('restores the incremental chain to the target time: every row written before it, none after', async () => {
    const began = Date.now();
    const restored = await restoreMariaDb({
      store: store(),
      decryption: { identities: [identity] },
      chain: [full, increment],
      binlogs: await listBinlogArchive(store(), PREFIX, verifier),
      targetTime: target,
    });
    figures.pitrRestoreSeconds = (Date.now() - began) / 1000;
    try {
      expect(restored.replayed).toEqual(['binlog.000001', 'binlog.000002', 'binlog.000003']);
      const rows = restoredRows(restored);
      expect(ids(rows)).toEqual(range(1, 15));
      // The rows are the source's own, times and all.
      const source = db.sql('SELECT id, at FROM shop.events WHERE id <= 15 ORDER BY id').map((r) => r.join('\t'));
      expect(rows).toEqual(source);
      expect(await countRestoredRows(restored)).toEqual({ 'shop.events': 15 });
      // Grant tables are on: a wrong password is refused.
      const wrong = spawnSync(
        'mariadb',
        ['--no-defaults', `--socket=${restored.socket}`, '-u', restored.access.user, '-pwrong', '-e', 'SELECT 1'],
        { encoding: 'utf8', timeout: 20_000 },
      );
      expect(wrong.status).not.toBe(0);
      expect(wrong.stderr).toMatch(/Access denied/);
      expect(restored.datadir.startsWith(process.env.RUNNER_TEMP!)).toBe(true);
    } finally {
      await restored.stop();
    }
    expect(leftovers()).toEqual([]);
    // The live server never noticed: all 20 rows still there.
    expect(db.sql('SELECT COUNT(*) FROM shop.events')).toEqual([['20']]);
  });

  it('the incremental chain restores the same rows as a full backup taken at the same moment', async () => {
    const decryption = { identities: [identity] };
    const began = Date.now();
    const chain = await restoreMariaDb({ store: store(), decryption, chain: [full, increment] });
    figures.chainRestoreSeconds = (Date.now() - began) / 1000;
    let chainRows: string[];
    try {
      chainRows = restoredRows(chain);
    } finally {
      await chain.stop();
    }
    const single = await restoreMariaDb({ store: store(), decryption, chain: [fullAtIncrement] });
    try {
      expect(ids(chainRows)).toEqual(range(1, 10));
      expect(restoredRows(single)).toEqual(chainRows);
    } finally {
      await single.stop();
    }
  });

  it('a binary log missing from the archive is a clear error naming it, before anything starts', async () => {
    const copy = join(work, 'gap-store');
    cpSync(storeDir, copy, { recursive: true });
    const binlogs = join(copy, PREFIX, 'mariadb', 'binlogs');
    for (const name of readdirSync(binlogs)) if (name.startsWith('binlog.000002')) rmSync(join(binlogs, name));
    const options = {
      store: store(copy),
      decryption: { identities: [identity] },
      chain: [full, increment],
      targetTime: target,
    };
    const gap = restoreMariaDb({ ...options, binlogs: await listBinlogArchive(store(copy), PREFIX, verifier) });
    await expect(gap).rejects.toThrow(BinlogGapError);
    await expect(gap).rejects.toThrow(/binlog\.000002 is missing/);
    expect(leftovers()).toEqual([]);

    // The manifest kept but the object gone: named too, before any backup is unpacked.
    const objectGone = join(work, 'object-gone-store');
    cpSync(storeDir, objectGone, { recursive: true });
    const folder = join(objectGone, PREFIX, 'mariadb', 'binlogs');
    rmSync(join(folder, 'binlog.000002.zst.age'));
    await expect(
      restoreMariaDb({
        ...options,
        store: store(objectGone),
        binlogs: await listBinlogArchive(store(objectGone), PREFIX, verifier),
      }),
    ).rejects.toThrow(/Binary log binlog\.000002: its object cannot be read/);
    expect(leftovers()).toEqual([]);

    // A manifest that does not verify is named as the reason for the gap.
    const forged = join(work, 'forged-store');
    cpSync(storeDir, forged, { recursive: true });
    const manifestPath = join(forged, PREFIX, 'mariadb', 'binlogs', 'binlog.000002.manifest.json');
    writeFileSync(manifestPath, readFileSync(manifestPath, 'utf8').replace('"signature":"', '"signature":"A'));
    const archive = await listBinlogArchive(store(forged), PREFIX, verifier);
    expect(archive.rejected.map((r) => r.name)).toEqual(['binlog.000002']);
    await expect(restoreMariaDb({ ...options, store: store(forged), binlogs: archive })).rejects.toThrow(
      /binlog\.000002 is not usable/,
    );
  });

  it('a damaged backup object is refused before anything is unpacked', async () => {
    const copy = join(work, 'damaged-store');
    cpSync(storeDir, copy, { recursive: true });
    const object = join(copy, full.object);
    const bytes = readFileSync(object);
    bytes[bytes.length - 10]! ^= 1;
    writeFileSync(object, bytes);
    await expect(
      restoreMariaDb({ store: store(copy), decryption: { identities: [identity] }, chain: [full] }),
    ).rejects.toThrow(/Backup mariadb-full-.* is damaged: the stored object does not have the size and SHA-256/);
    expect(leftovers()).toEqual([]);
  });

  it('a target time in the future, before the backup, past the archive or between seconds is refused at once', async () => {
    const binlogs = await listBinlogArchive(store(), PREFIX, verifier);
    const restore = (targetTime: Date) =>
      restoreMariaDb({
        store: store(),
        decryption: { identities: [identity] },
        chain: [full, increment],
        binlogs,
        targetTime,
      });
    await expect(restore(new Date(Math.ceil(Date.now() / 1000) * 1000 + 3_600_000))).rejects.toThrow(/in the future/);
    const beforeIncrement = new Date(Math.floor(new Date(increment.consistentAt).getTime() / 1000) * 1000 - 1000);
    await expect(restore(beforeIncrement)).rejects.toThrow(/is before the data of backup mariadb-incremental-/);
    await expect(restore(new Date(target.getTime() + 500))).rejects.toThrow(/fraction of a second/);
    // binlog.000004 (archived by the first test) ends the archive; a second past it is not covered.
    const ended = binlogs.binlogs.at(-1)!.lastEventAt;
    await sleepUntil(new Date(ended).getTime() + 1100);
    const pastEnd = new Date(Math.floor(Date.now() / 1000) * 1000);
    await expect(restore(pastEnd)).rejects.toThrow(/archive ends at .* \(binlog\.0000\d\d\), before the target time/);
    expect(leftovers()).toEqual([]);
  });

  it('a missing mariadb-backup is a clear error saying how to install it', async () => {
    const path = process.env.PATH;
    const empty = mkdtempSync(join(work, 'empty-path-'));
    process.env.PATH = empty;
    try {
      const backup = backupMariaDb({ ...settings(), server: server(), type: 'full' });
      await expect(backup).rejects.toThrow(MissingToolError);
      await expect(backup).rejects.toThrow(/mariadb-backup is not installed.*apt-get install mariadb-backup/);
    } finally {
      process.env.PATH = path;
    }
    await expect(
      restoreMariaDb({
        store: store(),
        decryption: { identities: [identity] },
        chain: [full],
        tools: { 'mariadb-backup': join(empty, 'mariadb-backup') },
      }),
    ).rejects.toThrow(/mariadb-backup was not found at .*apt-get install mariadb-backup/);
    expect(leftovers()).toEqual([]);
  });

  it('records the server identity, and refuses an increment on a base of another server', async () => {
    expect(full.serverIdentity).toMatchObject({ hostname: expect.any(String), serverId: expect.any(Number) });
    expect(full.serverIdentity.datadir).toMatch(/^\//);
    expect(increment.serverIdentity).toEqual(full.serverIdentity);
    const elsewhere = {
      ...full,
      serverIdentity: { ...full.serverIdentity, serverId: full.serverIdentity.serverId + 1 },
    };
    await expect(
      backupMariaDb({
        ...settings(),
        store: store(join(work, 'other-store')),
        server: server(),
        type: 'incremental',
        base: elsewhere,
      }),
    ).rejects.toThrow(
      new RegExp(`Backup ${full.id} is of another server .*server_id ${elsewhere.serverIdentity.serverId}`),
    );
    expect(leftovers()).toEqual([]);
  });

  it("records the data's moment (mariadb-backup's end), not the upload's end, as the recovery point", async () => {
    const delayMs = 1500;
    class SlowStore extends LocalStore {
      override async upload(key: string, body: Parameters<LocalStore['upload']>[1]): Promise<void> {
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        return super.upload(key, body);
      }
    }
    const slow = new SlowStore(join(work, 'slow-store'));
    const { manifest } = await backupMariaDb({ ...settings(), store: slow, server: server(), type: 'full' });
    const consistent = Date.parse(manifest.consistentAt);
    expect(consistent).toBeGreaterThanOrEqual(Date.parse(manifest.startedAt));
    expect(Date.parse(manifest.completedAt) - consistent).toBeGreaterThanOrEqual(delayMs);
    expect(leftovers()).toEqual([]);
  }, 60_000);
});
