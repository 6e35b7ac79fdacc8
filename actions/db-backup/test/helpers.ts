import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zstdDecompressSync } from 'node:zlib';
import * as age from 'age-encryption';
import { runBuiltAction, type ActionRun } from '../../../test/helpers/run-action.ts';

export const backupAction = (inputs: Record<string, string>, env: Record<string, string> = {}): Promise<ActionRun> =>
  runBuiltAction('db-backup', inputs, { env, timeoutMs: 120_000 });

export async function ageKeyPair(): Promise<{ identity: string; recipient: string }> {
  const identity = await age.generateIdentity();
  return { identity, recipient: await age.identityToRecipient(identity) };
}

export const tempDir = (prefix = 'bk-'): string => mkdtempSync(join(tmpdir(), prefix));

/** Every manifest under a folder store, parsed. */
export interface StoredManifest {
  id: string;
  object: string;
  verified: unknown;
  labels: string[];
  dumpFormat: string;
}

export function manifestsIn(folder: string, database: string): StoredManifest[] {
  let files: string[];
  try {
    files = readdirSync(join(folder, database)).filter((f) => f.endsWith('.manifest.json'));
  } catch {
    return [];
  }
  return files.map((f) => JSON.parse(readFileSync(join(folder, database, f), 'utf8')) as StoredManifest);
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
