import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { LocalStore } from '../src/index.ts';
import { ManifestError, readManifestFile } from '../src/catalog.ts';
import { backupManifestSchema, manifestKey } from '../src/manifest.ts';
import { parseSigningKey } from '../src/signing.ts';

/** Every enum in a manifest is closed: a value no backup writes is refused, even when signed. */

const signer = parseSigningKey(
  'signing-key',
  generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
);

const database = 'shop';
const id = 'shop-2026-01-02T03-04-05Z-a1b2c3';
const sha = 'a'.repeat(64);
const good = {
  format: 'deploy-suite-backup/2',
  id,
  engine: 'postgres',
  database,
  dumpFormat: 'pg_dump custom',
  object: `${database}/${id}.dump`,
  compression: { algorithm: 'none', level: null },
  encryption: { method: 'none', recipients: [] },
  stored: { bytes: 10, sha256: sha },
  uploadCheck: 'sha256-read-back',
  labels: [],
  startedAt: '2026-01-02T03:04:05.000Z',
  completedAt: '2026-01-02T03:04:06.000Z',
  durationSeconds: 1,
  deploySha: '',
  runUrl: '',
  verified: null,
  details: {
    source: 'postgres://u@h:5432/shop',
    serverVersion: '17',
    tool: 'pg_dump',
    toolVersion: '17',
    plain: { bytes: 10, sha256: sha },
    rowCounts: {},
  },
};

const UNKNOWN: [string, (m: typeof good) => unknown][] = [
  ['engine', (m) => ({ ...m, engine: 'oracle' })],
  ['dumpFormat', (m) => ({ ...m, dumpFormat: 'shell script' })],
  ['compression.algorithm', (m) => ({ ...m, compression: { algorithm: 'lz4', level: null } })],
  ['encryption.method', (m) => ({ ...m, encryption: { method: 'rot13', recipients: [] } })],
  ['uploadCheck', (m) => ({ ...m, uploadCheck: 'trusted' })],
  ['format', (m) => ({ ...m, format: 'deploy-suite-backup/9' })],
];

function storeHolding(manifest: unknown): LocalStore {
  const root = mkdtempSync(join(tmpdir(), 'manifest-enums-'));
  mkdirSync(join(root, database));
  const text = JSON.stringify(manifest);
  writeFileSync(
    join(root, manifestKey(database, id)),
    JSON.stringify({ manifest: text, keyId: signer.keyId, signature: signer.sign(text) }),
  );
  return new LocalStore(root);
}

describe('closed enums in the manifest', () => {
  it('accept the values a backup writes', async () => {
    expect(backupManifestSchema.safeParse(good).success).toBe(true);
    const read = await readManifestFile(storeHolding(good), manifestKey(database, id), signer.verifier, {
      database,
      id,
    });
    expect(read?.id).toBe(id);
  });

  it.each(UNKNOWN)('refuse an unknown %s, even in a manifest signed with the pinned key', async (field, change) => {
    const manifest = change(good);
    expect(backupManifestSchema.safeParse(manifest).success).toBe(false);
    const error = await readManifestFile(storeHolding(manifest), manifestKey(database, id), signer.verifier, {
      database,
      id,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as Error).message).toMatch(/is signed but malformed/);
    expect((error as Error).message).toContain(field.split('.')[0]);
  });
});
