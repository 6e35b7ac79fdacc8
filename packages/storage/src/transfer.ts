import { createReadStream, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Transform, pipeline, type Readable } from 'node:stream';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import { ConfigurationError, errorMessage, makeTempDir } from '@deploy-suite/kit';
import { decryptStream, encryptStream, type DecryptionSettings, type EncryptionSettings } from './encryption.ts';
import type { BackupDetails, BackupManifest } from './manifest.ts';
import type { BackupStore } from './store.ts';
import { compressor, decompressor, endWhenFinished, HashTap, type Compression } from './transforms.ts';

export class IntegrityError extends ConfigurationError {
  override name = 'IntegrityError';
}

export interface StoredObject {
  plain: { bytes: number; sha256: string };
  stored: { bytes: number; sha256: string };
  uploadCheck: BackupManifest['uploadCheck'];
}

/**
 * dump → SHA-256 of the plain bytes → compression → age encryption → SHA-256 of the stored
 * bytes → store, all streaming. The stream ends only once the dump tool succeeded, so a failed
 * dump fails the upload (which removes or aborts what it wrote). After the upload, what the store
 * offers (`readBack`) is read back: the size, and the SHA-256 where that is cheap.
 */
export async function uploadDump(options: {
  store: BackupStore;
  key: string;
  source: Readable;
  finished: Promise<void>;
  compression: Compression;
  level: number | undefined;
  encryption: EncryptionSettings;
}): Promise<StoredObject> {
  // Handled from the start: the tool can fail while the store holds the upload back; it is still
  // reported below, through the stream and the await.
  options.finished.catch(() => undefined);
  const plain = new HashTap();
  const stored = new HashTap();
  let failure: Error | undefined;
  const fail = (error: Error | null | undefined): void => {
    if (!error) return;
    failure ??= error;
    stored.destroy(error);
  };
  const stages: (Readable | Transform)[] = [options.source, endWhenFinished(options.finished), plain];
  const compress = compressor(options.compression, options.level);
  if (compress) stages.push(compress);
  const compressed = pipeline(stages as [Readable, ...Transform[]], fail) as unknown as Readable;
  const encrypted = await encryptStream(compressed, options.encryption);
  pipeline(encrypted, stored, fail);
  try {
    await options.store.upload(options.key, stored);
  } catch (error) {
    // Tear the whole chain down so the dump tool sees a closed pipe rather than waiting forever.
    stored.destroy();
    options.source.destroy();
    throw failure ?? error;
  }
  if (failure) throw failure;
  await options.finished;

  const size = await options.store.size(options.key);
  if (size !== stored.bytes) {
    await options.store.remove(options.key).catch(() => undefined);
    throw new IntegrityError(
      `The store holds ${size ?? 'no'} bytes for ${options.key}, ${stored.bytes} were sent; the upload was discarded.`,
    );
  }
  let uploadCheck: StoredObject['uploadCheck'] = 'size-read-back';
  if (options.store.readBack === 'sha256') {
    const readBack = await hashOf(await options.store.download(options.key));
    if (readBack !== stored.sha256) {
      await options.store.remove(options.key).catch(() => undefined);
      throw new IntegrityError(
        `The stored copy of ${options.key} does not hash to what was written; the upload was discarded.`,
      );
    }
    uploadCheck = 'sha256-read-back';
  }
  return {
    plain: { bytes: plain.bytes, sha256: plain.sha256 },
    stored: { bytes: stored.bytes, sha256: stored.sha256 },
    uploadCheck,
  };
}

async function hashOf(stream: Readable): Promise<string> {
  const tap = new HashTap();
  await pipelineAsync(stream, tap, new PassThrough().resume());
  return tap.sha256;
}

/**
 * Fetches a backup and checks it before anything reads it: the stored bytes are downloaded to a
 * private temporary file under RUNNER_TEMP — never more than the recorded size + 1 — and their
 * size and SHA-256 compared with the signed manifest; the age header is opened with the given
 * key. Only then is the plain stream handed out; its SHA-256 is compared at the end, and a
 * mismatch fails the stream (so a restore reading it fails).
 */
export async function openBackup(
  store: BackupStore,
  manifest: BackupManifest,
  details: BackupDetails,
  decryption: DecryptionSettings,
): Promise<{ stream: Readable; cleanup: () => Promise<void> }> {
  const dir = makeTempDir('backup');
  const cleanup = (): Promise<void> => Promise.resolve(dir.remove());
  try {
    const path = join(dir.path, 'object');
    const tap = new HashTap();
    const limit = manifest.stored.bytes;
    let source: Readable;
    try {
      source = await store.download(manifest.object, limit);
    } catch (error) {
      throw new IntegrityError(
        `Backup ${manifest.id}: its object ${manifest.object} cannot be read from ${store.location}: ${errorMessage(error)}`,
      );
    }
    const bound = boundedRead(source, limit);
    await pipelineAsync(source, bound, tap, createWriteStream(path, { mode: 0o600 })).catch((error: unknown) => {
      if (bound.seen <= limit)
        throw new IntegrityError(
          `Backup ${manifest.id}: reading its object from ${store.location} failed: ${errorMessage(error)}. Nothing was restored.`,
        );
    });
    if (bound.seen > limit) {
      throw new IntegrityError(
        `Backup ${manifest.id} is damaged: the stored object is larger than the ${limit} bytes recorded. Nothing was restored.`,
      );
    }
    if (tap.bytes !== limit || tap.sha256 !== manifest.stored.sha256) {
      throw new IntegrityError(
        `Backup ${manifest.id} is damaged: the stored object has ${tap.bytes} bytes with SHA-256 ${tap.sha256}, the manifest records ${limit} bytes with ${manifest.stored.sha256}. Nothing was restored.`,
      );
    }
    let stream: Readable = createReadStream(path);
    if (manifest.encryption.method !== 'none') {
      try {
        stream = await decryptStream(stream, decryption);
      } catch (error) {
        throw new IntegrityError(
          `Backup ${manifest.id} cannot be decrypted with the key given (${errorMessage(error)}). Nothing was restored.`,
        );
      }
    }
    const decompress = decompressor(manifest.compression.algorithm);
    const plain = new HashTap();
    const check = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        callback(null, chunk);
      },
      flush(callback) {
        if (plain.sha256 === details.plain.sha256 && plain.bytes === details.plain.bytes) callback();
        else
          callback(
            new IntegrityError(
              `Backup ${manifest.id}: the decrypted dump does not match the SHA-256 recorded at backup time. Nothing was kept.`,
            ),
          );
      },
    });
    const stages = [stream, ...(decompress ? [decompress] : []), plain, check] as [Readable, ...Transform[]];
    // Any failure past this point (age's MAC on a late chunk, zstd, the plain hash) means the
    // stored backup is damaged: one IntegrityError, never a raw library error read as a bug. The
    // error stays on `output.errored` for a reader that attaches late.
    const output = new PassThrough();
    output.on('error', () => undefined);
    const last = pipeline(stages, (error) => {
      if (!error) return;
      output.destroy(
        error instanceof ConfigurationError
          ? error
          : new IntegrityError(`Backup ${manifest.id} is damaged: ${errorMessage(error)}. Nothing was kept.`),
      );
    }) as unknown as Readable;
    last.pipe(output);
    return { stream: output, cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/**
 * Passes on at most `limit + 1` bytes of a download and then stops it: a planted object larger
 * than its manifest records is never read whole. `seen` counts what came, so the caller can tell
 * "larger than recorded" (seen > limit) from a read that failed.
 */
export function boundedRead(source: Readable, limit: number): Transform & { readonly seen: number } {
  let seen = 0;
  const bound = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      const keep = chunk.subarray(0, Math.max(0, limit + 1 - seen));
      seen += chunk.length;
      callback(null, keep);
      if (seen > limit) source.destroy();
    },
  });
  return Object.defineProperty(bound, 'seen', { get: () => seen }) as Transform & { readonly seen: number };
}
