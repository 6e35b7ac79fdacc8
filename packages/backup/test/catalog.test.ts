import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import * as age from 'age-encryption';
import { ConfigurationError } from '@deploy-suite/kit';
import { pruneBackups } from '../src/index.ts';
import {
  checkProtection,
  idStamp,
  listBackups,
  LocalStore,
  MANIFEST_FORMAT,
  manifestKey,
  objectKey,
  openBackup,
  parseSigningKey,
  parseVerifyKey,
  readManifest,
  recipientFingerprint,
  StoreError,
  writeManifest,
  type BackupManifest,
} from '@deploy-suite/storage';

const pem = () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    signing: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    verify: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
};
const keys = pem();
const signer = parseSigningKey('signing-key', keys.signing);
const verifier = parseVerifyKey('verify-key', keys.verify);
const attacker = parseSigningKey('signing-key', pem().signing);
const database = 'shop';
const now = new Date('2026-11-27T12:00:00Z');

function manifest(started: Date, overrides: Partial<BackupManifest> = {}): BackupManifest {
  const id = `${database}-${idStamp(started)}-abcdef`;
  return {
    format: MANIFEST_FORMAT,
    id,
    engine: 'postgres',
    database,
    dumpFormat: 'pg_dump custom',
    object: objectKey(database, id, 'none', false),
    compression: { algorithm: 'none', level: null },
    encryption: { method: 'none', recipients: [] },
    stored: { bytes: 5, sha256: 'a'.repeat(64) },
    uploadCheck: 'sha256-read-back',
    labels: [],
    startedAt: started.toISOString(),
    completedAt: new Date(started.getTime() + 1000).toISOString(),
    durationSeconds: 1,
    deploySha: '',
    runUrl: '',
    verified: null,
    details: {
      source: 'u@h:5432',
      serverVersion: '15',
      tool: 'pg_dump',
      toolVersion: 'pg_dump 15',
      plain: { bytes: 5, sha256: 'b'.repeat(64) },
      rowCounts: {},
    },
    ...overrides,
  };
}

const newStore = () => new LocalStore(mkdtempSync(join(tmpdir(), 'catalog-')));
const at = (hoursAgo: number) => new Date(now.getTime() - hoursAgo * 3_600_000);

describe('the catalog trusts only manifests signed with the pinned key', () => {
  it('reads back what it signed', async () => {
    const store = newStore();
    const m = manifest(at(5));
    await writeManifest(store, m, signer);
    const { backups, rejected } = await listBackups(store, database, verifier, now);
    expect(rejected).toEqual([]);
    expect(backups).toEqual([m]);
  });

  it('refuses a plain JSON manifest, another key, and a tampered manifest, and never uses them', async () => {
    const store = newStore();
    const planted = manifest(at(1));
    await store.writeText(manifestKey(database, planted.id), JSON.stringify(planted));
    const forged = manifest(at(2), { id: `${database}-${idStamp(at(2))}-bbbbbb` });
    forged.object = objectKey(database, forged.id, 'none', false);
    await writeManifest(store, forged, attacker);
    const tampered = manifest(at(3), { id: `${database}-${idStamp(at(3))}-cccccc` });
    tampered.object = objectKey(database, tampered.id, 'none', false);
    await writeManifest(store, tampered, signer);
    const key = manifestKey(database, tampered.id);
    const text = (await store.readText(key, 1 << 20))!;
    await store.writeText(key, text.replace('\\"labels\\": []', '\\"labels\\": [\\"pre-deploy\\"]'));

    const { backups, rejected } = await listBackups(store, database, verifier, now);
    expect(backups).toEqual([]);
    expect(rejected).toHaveLength(3);
    expect(rejected.map((r) => r.reason)).toEqual(
      expect.arrayContaining([
        expect.stringContaining('is not a signed manifest'),
        expect.stringContaining('not by the pinned key'),
        expect.stringContaining('signature that does not verify'),
      ]),
    );
    await expect(readManifest(store, database, tampered.id, verifier)).rejects.toThrow(StoreError);
  });

  it('refuses signed manifests whose fields disagree with where they are and what was asked', async () => {
    const store = newStore();
    const cases: [string, BackupManifest][] = [
      // A database field that libpq would read as a connection string to another host.
      ['describes database', manifest(at(1), { database: 'host=evil.example dbname=shop' })],
      ['names object', manifest(at(2), { object: 'other/secret.dump' })],
      ['start time that does not match its id', manifest(at(3), { startedAt: at(40).toISOString() })],
      ['completed before it started', manifest(at(4), { completedAt: at(50).toISOString() })],
      [
        'details in clear beside an encrypted',
        manifest(at(5), { encryption: { method: 'age-passphrase', recipients: [] } }),
      ],
    ];
    for (const [, m] of cases) {
      m.id = `${database}-${idStamp(new Date(m.id.slice(database.length + 1, -7).replace(/T(\d\d)-(\d\d)-(\d\d)Z/, 'T$1:$2:$3Z')))}-${Math.random().toString(16).slice(2, 8).padEnd(6, '0')}`;
      if (!m.object.startsWith('other/')) m.object = objectKey(database, m.id, 'none', m.encryption.method !== 'none');
      // Written under this database's prefix whatever it claims, as a hostile writer would.
      const hostile = Object.assign(Object.create(store) as LocalStore, {
        writeText: (_: string, text: string) => store.writeText(manifestKey(database, m.id), text),
      });
      await writeManifest(hostile, m, signer);
    }
    const { backups, rejected } = await listBackups(store, database, verifier, now);
    expect(backups).toEqual([]);
    expect(rejected).toHaveLength(cases.length);
    for (const [reason] of cases) expect(rejected.map((r) => r.reason).join('\n')).toContain(reason);
  });

  it('refuses a manifest over 1 MiB unread, and one with a date that does not parse', async () => {
    const root = mkdtempSync(join(tmpdir(), 'catalog-'));
    const store = new LocalStore(root);
    mkdirSync(join(root, database));
    writeFileSync(join(root, database, `${database}-2026-11-27T01-00-00Z-aaaaaa.manifest.json`), ' '.repeat(2 << 20));
    await writeManifest(store, manifest(at(3)), signer);
    const bad = manifest(at(2), { id: `${database}-${idStamp(at(2))}-dddddd` });
    bad.object = objectKey(database, bad.id, 'none', false);
    const text = JSON.stringify({ ...bad, completedAt: 'yesterday' }, null, 2);
    await store.writeText(
      manifestKey(database, bad.id),
      JSON.stringify({ manifest: text, keyId: signer.keyId, signature: signer.sign(text) }),
    );
    const { backups, rejected } = await listBackups(store, database, verifier, now);
    expect(backups).toHaveLength(1);
    expect(rejected.map((r) => r.reason).sort()).toEqual([
      expect.stringContaining('larger than 1048576 bytes'),
      expect.stringContaining('signed but malformed'),
    ]);
  });

  it('refuses a manifest that is not valid JSON, outside or inside its signature, with a clear error', async () => {
    const store = newStore();
    await writeManifest(store, manifest(at(4)), signer);
    // Cut short as an interrupted write would leave it, and not JSON at all.
    const cut = manifest(at(3), { id: `${database}-${idStamp(at(3))}-aaaaaa` });
    const whole = JSON.stringify({ manifest: JSON.stringify(cut), keyId: signer.keyId, signature: 'x' });
    await store.writeText(manifestKey(database, cut.id), whole.slice(0, whole.length / 2));
    const garbage = `${database}-${idStamp(at(2))}-bbbbbb`;
    await store.writeText(manifestKey(database, garbage), 'manifest: {not json');
    // Signed with the pinned key, but what was signed is not JSON.
    const inner = `${database}-${idStamp(at(1))}-cccccc`;
    const text = '{"format": 1, "id": ';
    await store.writeText(
      manifestKey(database, inner),
      JSON.stringify({ manifest: text, keyId: signer.keyId, signature: signer.sign(text) }),
    );

    const { backups, rejected } = await listBackups(store, database, verifier, now);
    expect(backups).toHaveLength(1);
    expect(rejected.map((r) => r.reason).sort()).toEqual(
      [
        expect.stringContaining(`${cut.id}.manifest.json is not a signed manifest`),
        expect.stringContaining(`${garbage}.manifest.json is not a signed manifest`),
        expect.stringContaining(`${inner}.manifest.json is signed but malformed`),
      ].sort(),
    );
    for (const id of [cut.id, garbage, inner]) {
      // Asked for by id (a restore or verify), each is one clear error naming it, not a bug.
      const error = await readManifest(store, database, id, verifier).catch((e: unknown) => e);
      expect({
        clear: error instanceof ConfigurationError && error instanceof StoreError,
        message: (error as Error).message,
      }).toEqual({
        clear: true,
        message: expect.stringMatching(new RegExp(`${id}\\.manifest\\.json is (not a signed|signed but malformed)`)),
      });
      expect((error as Error).message).not.toMatch(/SyntaxError|Unexpected token|JSON at position/);
    }
  });

  it('refuses alone a manifest that is a FIFO or a folder, without hanging, and lists the rest', async () => {
    const root = mkdtempSync(join(tmpdir(), 'catalog-'));
    const store = new LocalStore(root);
    await writeManifest(store, manifest(at(3)), signer);
    execFileSync('mkfifo', [join(root, database, `${database}-${idStamp(at(2))}-aaaaaa.manifest.json`)]);
    mkdirSync(join(root, database, `${database}-${idStamp(at(1))}-bbbbbb.manifest.json`));
    writeFileSync(join(root, database, 'notes.manifest.json'), '{}');
    const { backups, rejected } = await listBackups(store, database, verifier, now);
    expect(backups).toHaveLength(1);
    // The folder is walked into, not read; the FIFO is refused unread instead of blocking the run.
    expect(rejected).toHaveLength(2);
    expect(rejected.map((r) => r.reason)).toEqual(
      expect.arrayContaining([
        expect.stringContaining('is not a regular file'),
        expect.stringContaining('is not named as a manifest of shop'),
      ]),
    );
  });
});

describe('prune', () => {
  const policy = { keepDaily: 1, keepWeekly: 0, keepMonthly: 0, keepYearly: 0, keepPreDeployDays: 0 };

  it('deletes each manifest before its object, only keys of its own form, and sweeps old orphans', async () => {
    const store = newStore();
    const old = manifest(at(72));
    const newest = manifest(at(1), { id: `${database}-${idStamp(at(1))}-111111` });
    newest.object = objectKey(database, newest.id, 'none', false);
    for (const m of [old, newest]) {
      await store.writeText(m.object, 'dump!');
      await writeManifest(store, m, signer);
    }
    await store.writeText(`${database}/${database}-${idStamp(at(96))}-222222.dump.zst.age`, 'orphan');
    await store.writeText(`${database}/${database}-${idStamp(at(2))}-333333.dump`, 'upload in progress');
    await store.writeText(`${database}/notes.txt`, 'not ours');
    await store.writeText(`other/other-${idStamp(at(96))}-444444.dump`, 'another database');
    const removed: string[] = [];
    const spy = Object.assign(Object.create(store) as LocalStore, {
      remove: async (key: string) => {
        removed.push(key);
        await store.remove(key);
      },
    });
    const result = await pruneBackups({ store: spy, database, verifier, policy, dryRun: false, now });
    expect(result.remove.map((m) => m.id)).toEqual([old.id]);
    expect(removed).toEqual([
      manifestKey(database, old.id),
      old.object,
      `${database}/${database}-${idStamp(at(96))}-222222.dump.zst.age`,
    ]);
    expect(await store.list('')).toEqual(
      [
        `${database}/${database}-${idStamp(at(2))}-333333.dump`,
        `${database}/notes.txt`,
        newest.object,
        manifestKey(database, newest.id),
        `other/other-${idStamp(at(96))}-444444.dump`,
      ].sort(),
    );
  });

  it('deletes nothing when a manifest is dated in the future', async () => {
    const store = newStore();
    const old = manifest(at(72));
    await writeManifest(store, old, signer);
    const future = manifest(new Date(now.getTime() + 86_400_000), {
      id: `${database}-${idStamp(new Date(now.getTime() + 86_400_000))}-999999`,
    });
    future.object = objectKey(database, future.id, 'none', false);
    await writeManifest(store, future, signer);
    await expect(
      pruneBackups({ store, database, verifier, policy: { ...policy, keepDaily: 0 }, dryRun: false, now }),
    ).rejects.toThrow(/Nothing was pruned: .* is dated in the future/);
    expect(await store.list(database)).toHaveLength(2);
  });
});

describe('prune with a manifest whose completedAt does not parse', () => {
  const zero = { keepDaily: 0, keepWeekly: 0, keepMonthly: 0, keepYearly: 0, keepPreDeployDays: 0 };

  it.each(['yesterday', '2026-02-30T01:00:00Z', '2026-11-27T25:00:00Z', ''])(
    'a zero policy refuses "%s" with a clear reason and deletes nothing',
    async (completedAt) => {
      const store = newStore();
      const newest = manifest(at(1));
      const bad = manifest(at(48), { id: `${database}-${idStamp(at(48))}-dddddd` });
      bad.object = objectKey(database, bad.id, 'none', false);
      for (const m of [newest, bad]) await store.writeText(m.object, 'dump!');
      await writeManifest(store, newest, signer);
      // Signed with the pinned key, as a writer with a broken clock or serializer would sign it.
      const text = JSON.stringify({ ...bad, completedAt }, null, 2);
      await store.writeText(
        manifestKey(database, bad.id),
        JSON.stringify({ manifest: text, keyId: signer.keyId, signature: signer.sign(text) }),
      );
      const before = await store.list('');
      const removed: string[] = [];
      const spy = Object.assign(Object.create(store) as LocalStore, {
        remove: (key: string) => {
          removed.push(key);
          return Promise.resolve();
        },
      });

      const result = await pruneBackups({ store: spy, database, verifier, policy: zero, dryRun: false, now });
      expect(removed).toEqual([]);
      expect(await store.list('')).toEqual(before);
      expect(result.remove).toEqual([]);
      expect(result.orphans).toEqual([]);
      expect(result.keep.map((k) => k.manifest.id)).toEqual([newest.id]);
      expect(result.rejected).toEqual([
        {
          key: manifestKey(database, bad.id),
          reason: expect.stringContaining(`${bad.id}.manifest.json is signed but malformed`),
          future: false,
        },
      ]);
      expect(result.rejected[0]!.reason).not.toContain('Invalid time value');
      // The reason names the field and what is wrong with it, nothing more.
      expect(result.rejected[0]!.reason).toMatch(/signed but malformed: completedAt: Invalid ISO datetime$/);
    },
  );
});

describe('a signed manifest that breaks the schema', () => {
  it('is refused with a reason naming each bad field briefly, escaped, on one line', async () => {
    const store = newStore();
    const bad = manifest(at(2), { id: `${database}-${idStamp(at(2))}-eeeeee` });
    bad.object = objectKey(database, bad.id, 'none', false);
    const text = JSON.stringify({
      ...bad,
      stored: { ...bad.stored, bytes: -1 },
      labels: [''],
      'extra\n::error::forged': true,
    });
    await store.writeText(
      manifestKey(database, bad.id),
      JSON.stringify({ manifest: text, keyId: signer.keyId, signature: signer.sign(text) }),
    );
    const { rejected } = await listBackups(store, database, verifier, now);
    expect(rejected).toHaveLength(1);
    const { reason } = rejected[0]!;
    expect(reason).toContain(`${bad.id}.manifest.json is signed but malformed: `);
    expect(reason).toMatch(/stored\.bytes: [^;]*>=0/);
    expect(reason).toMatch(/labels\.0: [^;]*>=1/);
    expect(reason).toMatch(/the manifest: Unrecognized key[^;]*extra\\n::error::forged/);
    // One line, and none of zod's raw JSON.
    expect(reason).not.toMatch(/\n|"code"|"path"/);
  });
});

describe('restore-side checks', () => {
  it('refuses an unencrypted backup unless allowed, and a backup not encrypted to the given identity', async () => {
    const identity = await age.generateIdentity();
    const other = await age.generateIdentity();
    const plain = manifest(at(1));
    await expect(checkProtection(plain, { identities: [identity] }, false)).rejects.toThrow(
      /is not encrypted; refusing/,
    );
    await expect(checkProtection(plain, { identities: [] }, true)).resolves.toBeUndefined();
    const toOther = manifest(at(1), {
      encryption: { method: 'age-x25519', recipients: [recipientFingerprint(await age.identityToRecipient(other))] },
    });
    await expect(checkProtection(toOther, { identities: [identity] }, false)).rejects.toThrow(
      /not encrypted to the identity given/,
    );
    await expect(checkProtection(toOther, { identities: [other] }, false)).resolves.toBeUndefined();
    const passphrase = manifest(at(1), { encryption: { method: 'age-passphrase', recipients: [] } });
    await expect(checkProtection(passphrase, { identities: [identity] }, false)).rejects.toThrow(/with a passphrase/);
  });

  it('reads no more than the recorded size + 1 of an object larger than recorded', async () => {
    const store = newStore();
    const m = manifest(at(1));
    await store.upload(m.object, Readable.from([Buffer.alloc(4 << 20)]));
    let read = 0;
    const counting = Object.assign(Object.create(store) as LocalStore, {
      download: async (key: string, max?: number) => {
        const stream = await store.download(key, max);
        stream.on('data', (chunk: Buffer) => (read += chunk.length));
        return stream;
      },
    });
    await expect(openBackup(counting, m, m.details!, { identities: [] })).rejects.toThrow(
      /is larger than the 5 bytes recorded/,
    );
    expect(read).toBeLessThanOrEqual(6);
  });

  it('never reads, sizes or hashes a runner file that a planted link in a folder store points to', async () => {
    const root = mkdtempSync(join(tmpdir(), 'catalog-'));
    const store = new LocalStore(root);
    const m = manifest(at(1));
    mkdirSync(join(root, database));
    const outside = join(mkdtempSync(join(tmpdir(), 'runner-')), 'secret');
    writeFileSync(outside, 'runner secret');
    symlinkSync(outside, join(root, m.object));
    const error = await openBackup(store, m, m.details!, { identities: [] }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/leads outside the store/);
    expect((error as Error).message).not.toMatch(/SHA-256|13 bytes/);
    expect(await store.size(m.object)).toBeUndefined();
  });
});
