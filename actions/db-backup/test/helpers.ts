import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zstdDecompressSync } from 'node:zlib';
import * as age from 'age-encryption';
import { runBuiltAction, type ActionRun } from '../../../test/helpers/run-action.ts';

/** One Ed25519 manifest-signing key pair for the tests, as openssl would write them (PEM). */
export const TEST_KEYS = (() => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    signing: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    verify: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
})();

/**
 * Runs db-backup the runner's way. Unless a test gives its own key inputs, the run gets the
 * tests' signing key (which also verifies), as a backup job would.
 */
export const backupAction = (inputs: Record<string, string>, env: Record<string, string> = {}): Promise<ActionRun> =>
  runBuiltAction(
    'db-backup',
    'signing-key' in inputs || 'verify-key' in inputs ? inputs : { 'signing-key': TEST_KEYS.signing, ...inputs },
    { env, timeoutMs: 120_000 },
  );

export async function ageKeyPair(): Promise<{ identity: string; recipient: string }> {
  const identity = await age.generateIdentity();
  return { identity, recipient: await age.identityToRecipient(identity) };
}

export const tempDir = (prefix = 'bk-'): string => mkdtempSync(join(tmpdir(), prefix));

/** Every manifest under a folder store, parsed out of its signed envelope. */
export interface StoredManifest {
  id: string;
  object: string;
  verified: unknown;
  labels: string[];
  dumpFormat: string;
  encryption: { method: string; recipients: string[] };
  sealedDetails?: string;
  details?: { rowCounts: Record<string, number> };
}

export function manifestsIn(folder: string, database: string): StoredManifest[] {
  let files: string[];
  try {
    files = readdirSync(join(folder, database)).filter((f) => f.endsWith('.manifest.json'));
  } catch {
    return [];
  }
  return files.map(
    (f) =>
      JSON.parse(
        (JSON.parse(readFileSync(join(folder, database, f), 'utf8')) as { manifest: string }).manifest,
      ) as StoredManifest,
  );
}

/** Decrypts a stored object with the standard age command-line tool, then decompresses it. */
export function decryptWithAgeTool(path: string, identity: string): Buffer {
  const keyFile = join(tempDir('agekey-'), 'key.txt');
  writeFileSync(keyFile, identity + '\n', { mode: 0o600 });
  const result = spawnSync('age', ['--decrypt', '-i', keyFile, path]);
  if (result.status !== 0) throw new Error(`age failed: ${result.stderr.toString()}`);
  return zstdDecompressSync(result.stdout);
}

export function outputsOf(run: ActionRun): {
  id: string;
  location: string;
  size: number;
  sha256: string;
  verified: string;
} {
  return {
    id: run.outputs['backup-id'] ?? '',
    location: run.outputs.location ?? '',
    size: Number(run.outputs['size-bytes']),
    sha256: run.outputs.sha256 ?? '',
    verified: run.outputs.verified ?? '',
  };
}

export { failureOf as errorOf } from '../../../test/helpers/run-action.ts';

/** Opens a manifest's sealed details (Base64 age ciphertext) with an identity or a passphrase. */
export async function openSealed(sealed: string | undefined, identity: string): Promise<string> {
  const decrypter = new age.Decrypter();
  if (identity.startsWith('AGE-SECRET-KEY-')) decrypter.addIdentity(identity);
  else decrypter.addPassphrase(identity);
  return Buffer.from(await decrypter.decrypt(Buffer.from(sealed ?? '', 'base64'))).toString('utf8');
}
