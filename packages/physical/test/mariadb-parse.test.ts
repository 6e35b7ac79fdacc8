import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { LocalStore, parseSigningKey } from '@deploy-suite/storage';
import {
  archiveCoverage,
  BinlogGapError,
  checkChain,
  checkTargetTime,
  headerTime,
  incrementalBase,
  listMariaDbBackups,
  parseBinlogInfo,
  parseCheckpoints,
  planReplay,
  type BinlogManifest,
  type MariaDbBackupManifest,
} from '../src/index.ts';
import { backupManifestKey, writeSignedManifest } from '../src/mariadb/manifest.ts';
import { innodbSettings } from '../src/mariadb/restore.ts';

/** What mariadb-backup and mariadb-binlog write is read as untrusted: strict parsers, checked here without a server. */

const signingKey = () =>
  parseSigningKey(
    'signing-key',
    generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  );

const stored = {
  compression: { algorithm: 'zstd' as const, level: null },
  encryption: { method: 'none' as const, recipients: [] },
  plain: { bytes: 1, sha256: 'a'.repeat(64) },
  stored: { bytes: 1, sha256: 'b'.repeat(64) },
  uploadCheck: 'sha256-read-back' as const,
};

function backup(id: string, type: 'full' | 'incremental', baseId: string | null, fromLsn: string, toLsn: string) {
  return {
    format: 'deploy-suite-mariadb-physical/1',
    kind: 'mariadb-backup',
    id,
    type,
    baseId,
    fromLsn,
    toLsn,
    binlog: { file: 'binlog.000007', position: 342, gtid: '0-1-9' },
    serverVersion: '10.11.19-MariaDB',
    toolVersion: 'mariadb-backup 10.11.19',
    source: 'backup@/run/mysqld/mysqld.sock',
    serverIdentity: { hostname: 'db1', port: 3306, serverId: 1, datadir: '/var/lib/mysql/' },
    startedAt: '2026-11-27T02:00:00.000Z',
    consistentAt: '2026-11-27T02:00:03.000Z',
    completedAt: '2026-11-27T02:00:05.000Z',
    object: `shop/mariadb/backups/${id}.tar.zst`,
    ...stored,
  } as MariaDbBackupManifest;
}

function binlog(name: string, first: string, last: string): BinlogManifest {
  return {
    format: 'deploy-suite-mariadb-binlog/1',
    kind: 'mariadb-binlog',
    name,
    firstEventAt: first,
    lastEventAt: last,
    source: 'backup@/run/mysqld/mysqld.sock',
    archivedAt: last,
    object: `shop/mariadb/binlogs/${name}.zst`,
    ...stored,
  };
}

const FULL = 'mariadb-full-2026-11-27T02-00-00Z-aaaaaa';
const INC = 'mariadb-incremental-2026-11-27T03-00-00Z-bbbbbb';

describe('reading what mariadb-backup writes', () => {
  it('xtrabackup_checkpoints: strict key = value lines with numeric LSNs', () => {
    expect(
      parseCheckpoints(
        'backup_type = full-backuped\nfrom_lsn = 0\nto_lsn = 44404\nlast_lsn = 47092\nrecover_binlog_info = 0\n',
      ),
    ).toEqual({ type: 'full-backuped', fromLsn: '0', toLsn: '44404' });
    expect(() => parseCheckpoints('backup_type = full-backuped\nfrom_lsn = 0\n')).toThrow(/lacks/);
    expect(() => parseCheckpoints('backup_type = full\nfrom_lsn = 0\nto_lsn = 1e9\n')).toThrow(/lacks/);
    expect(() => parseCheckpoints('backup_type = full\n::error::forged\n')).toThrow(
      /unexpected line: "::error::forged"/,
    );
  });

  it('the binary log position: a binlog name and a position, or a clear error about log_bin', () => {
    expect(parseBinlogInfo('binlog.000001\t1073\t0-1-4\n')).toEqual({
      file: 'binlog.000001',
      position: 1073,
      gtid: '0-1-4',
    });
    expect(parseBinlogInfo('mysql-bin.000123\t4')).toEqual({ file: 'mysql-bin.000123', position: 4, gtid: '' });
    expect(() => parseBinlogInfo('../etc/passwd.000001\t4\n')).toThrow(/is log_bin on/);
    expect(() => parseBinlogInfo('binlog.000001\n')).toThrow(/is log_bin on/);
    expect(() => parseBinlogInfo('binlog.000001\t4\t0-1-4; DROP\n')).toThrow(/is log_bin on/);
  });

  it('backup-my.cnf gives only the InnoDB settings a datadir needs, each checked', () => {
    expect(
      innodbSettings(
        '[mysqld]\ninnodb_checksum_algorithm=crc32\ninnodb_data_file_path=ibdata1:12M:autoextend\ninnodb_page_size=16384\ninnodb_undo_tablespaces=0\nplugin_load=evil.so\n',
      ),
    ).toEqual([
      '--innodb-data-file-path=ibdata1:12M:autoextend',
      '--innodb-page-size=16384',
      '--innodb-undo-tablespaces=0',
    ]);
    expect(() => innodbSettings('innodb_page_size=16384 --init-file=/x\n')).toThrow(/unexpected innodb_page_size/);
  });

  it('mariadb-binlog event headers: whole-second UTC times; anything else is no time', () => {
    expect(headerTime('#261127 16:01:29 server id 1  end_log_pos 256 CRC32 0xef9219d9 \tStart')).toBe(
      '2026-11-27T16:01:29.000Z',
    );
    expect(headerTime('#261127  6:01:29 server id 1  end_log_pos 256')).toBe('2026-11-27T06:01:29.000Z');
    expect(headerTime('#261399 16:01:29 server id 1')).toBeUndefined();
    expect(headerTime('# at 256')).toBeUndefined();
    expect(headerTime("#261127 16:01:29 server id x ' forged")).toBeUndefined();
  });
});

describe('planning a restore before anything starts', () => {
  const archive = [
    binlog('binlog.000007', '2026-11-27T01:00:00.000Z', '2026-11-27T02:30:00.000Z'),
    binlog('binlog.000008', '2026-11-27T02:30:00.000Z', '2026-11-27T03:30:00.000Z'),
    binlog('binlog.000010', '2026-11-27T04:30:00.000Z', '2026-11-27T05:30:00.000Z'),
  ];
  const start = { file: 'binlog.000007' };

  it('takes the files from the backup position to the first one reaching the target', () => {
    expect(planReplay(archive, start, new Date('2026-11-27T02:10:00Z')).map((b) => b.name)).toEqual(['binlog.000007']);
    expect(planReplay(archive, start, new Date('2026-11-27T03:00:00Z')).map((b) => b.name)).toEqual([
      'binlog.000007',
      'binlog.000008',
    ]);
  });

  it('names the missing file of a gap, the backup’s own file included, and says where the archive ends', () => {
    expect(() => planReplay(archive, start, new Date('2026-11-27T05:00:00Z'))).toThrow(BinlogGapError);
    expect(() => planReplay(archive, start, new Date('2026-11-27T05:00:00Z'))).toThrow(/binlog\.000009 is missing/);
    expect(() => planReplay(archive.slice(1), start, new Date('2026-11-27T03:00:00Z'))).toThrow(
      /binlog\.000007 is missing/,
    );
    expect(() => planReplay(archive, start, new Date('2026-11-27T06:00:00Z'))).toThrow(/binlog\.000009 is missing/);
    expect(() => planReplay(archive.slice(0, 2), start, new Date('2026-11-27T04:00:00Z'))).toThrow(
      /archive ends at 2026-11-27T03:30:00.000Z \(binlog\.000008\), before the target time/,
    );
  });

  it('the archive coverage a freshness gate reads: recoverable up to the first gap, every gap named', () => {
    expect(archiveCoverage(archive, start)).toEqual({
      recoverableUntil: '2026-11-27T03:30:00.000Z',
      newest: '2026-11-27T05:30:00.000Z',
      gaps: ['binlog.000009'],
    });
    expect(archiveCoverage(archive.slice(0, 2), start)).toEqual({
      recoverableUntil: '2026-11-27T03:30:00.000Z',
      newest: '2026-11-27T03:30:00.000Z',
      gaps: [],
    });
    expect(archiveCoverage(archive.slice(1), start).recoverableUntil).toBeUndefined();
    expect(archiveCoverage([], start)).toEqual({
      recoverableUntil: undefined,
      newest: undefined,
      gaps: ['binlog.000007'],
    });
  });

  it('a chain is a full backup and increments each on the one before', () => {
    const full = backup(FULL, 'full', null, '0', '500');
    expect(() => checkChain([full, backup(INC, 'incremental', FULL, '500', '900')])).not.toThrow();
    expect(() => checkChain([])).toThrow(/at least one backup/);
    expect(() => checkChain([backup(INC, 'incremental', FULL, '500', '900')])).toThrow(/starts with a full backup/);
    expect(() => checkChain([full, backup(INC, 'incremental', FULL, '400', '900')])).toThrow(/does not build on/);
    const elsewhere = {
      ...backup(INC, 'incremental', FULL, '500', '900'),
      serverIdentity: { hostname: 'db2', port: 3306, serverId: 2, datadir: '/var/lib/mysql/' },
    };
    expect(() => checkChain([full, elsewhere])).toThrow(/of another server \(db1:3306/);
  });

  it('an increment builds on the newest backup only with its whole chain, and names a missing base', () => {
    const full = backup(FULL, 'full', null, '0', '500');
    const inc = backup(INC, 'incremental', FULL, '500', '900');
    expect(incrementalBase([])).toBeUndefined();
    expect(incrementalBase([full, inc])).toBe(inc);
    expect(() => incrementalBase([inc])).toThrow(
      new RegExp(`newest backup ${INC}, whose chain is broken: .*builds on ${FULL}, which is not in the store`),
    );
    expect(() => incrementalBase([full, backup(INC, 'incremental', FULL, '400', '900')])).toThrow(/does not build on/);
  });

  it('a target time must be a whole second between the last backup and now', () => {
    const chain = [backup(FULL, 'full', null, '0', '500')];
    const now = new Date('2026-11-27T12:00:00Z');
    expect(checkTargetTime(new Date('2026-11-27T10:00:00Z'), chain, now)).toBe('2026-11-27 10:00:00');
    expect(() => checkTargetTime(new Date('2026-11-27T12:00:01Z'), chain, now)).toThrow(/in the future/);
    // The data is as of mariadb-backup's end (consistentAt, 02:00:03), not of the upload (02:00:05).
    expect(checkTargetTime(new Date('2026-11-27T02:00:04Z'), chain, now)).toBe('2026-11-27 02:00:04');
    expect(() => checkTargetTime(new Date('2026-11-27T02:00:02Z'), chain, now)).toThrow(/before the data of backup/);
    expect(() => checkTargetTime(new Date('2026-11-27T10:00:00.250Z'), chain, now)).toThrow(/fraction of a second/);
    expect(() => checkTargetTime(new Date('nonsense'), chain, now)).toThrow(/not a valid time/);
  });
});

describe('physical manifests in the store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mariadb-manifests-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('only manifests signed by the verify key and describing their own key are used', async () => {
    const store = new LocalStore(dir);
    const signer = signingKey();
    const stranger = signingKey();
    await writeSignedManifest(store, backupManifestKey('shop', FULL), backup(FULL, 'full', null, '0', '500'), signer);
    // Signed by another key.
    await writeSignedManifest(
      store,
      backupManifestKey('shop', INC),
      backup(INC, 'incremental', FULL, '500', '900'),
      stranger,
    );
    // Authentic, but copied under another id.
    const other = 'mariadb-full-2026-11-27T04-00-00Z-cccccc';
    await writeSignedManifest(store, backupManifestKey('shop', other), backup(FULL, 'full', null, '0', '500'), signer);
    const { backups, rejected } = await listMariaDbBackups(store, 'shop', signer.verifier);
    expect(backups.map((b) => b.id)).toEqual([FULL]);
    expect(rejected.map((r) => r.reason)).toEqual([
      expect.stringMatching(/describes something other than its key says/),
      expect.stringMatching(/not signed by the verify key/),
    ]);
    await expect(listMariaDbBackups(store, '../elsewhere', signer.verifier)).rejects.toThrow(/store prefix/);
  });
});
