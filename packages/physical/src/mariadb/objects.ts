import { createReadStream, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { errorMessage, makeTempDir } from '@deploy-suite/kit';
import {
  boundedRead,
  decompressor,
  decryptStream,
  HashTap,
  IntegrityError,
  recipientFingerprint,
  uploadDump,
  type BackupStore,
  type Compression,
  type DecryptionSettings,
  type EncryptionSettings,
} from '@deploy-suite/storage';
import type { StoredObjectFields } from './manifest.ts';

/** Where and how physical backups and binary logs are stored: the same store, keys and crypto as the logical ones. */
export interface PhysicalStoreSettings {
  store: BackupStore;
  /** One server's folder in the store, e.g. "shop-db/primary". */
  prefix: string;
  encryption: EncryptionSettings;
  compression?: { algorithm: Compression; level?: number };
}

/**
 * Streams `source` through the storage package's upload path (SHA-256 of the plain bytes,
 * compression, age encryption, SHA-256 of the stored bytes, upload, read-back check) and returns
 * the fields a manifest records about the object. `finished` settles when the producing tool
 * exits; a failure there fails the upload, so a half-written tar never counts.
 */
export async function uploadObject(
  settings: PhysicalStoreSettings,
  key: string,
  source: Readable,
  finished: Promise<void>,
  timeoutMs: number,
): Promise<StoredObjectFields & { uploadCheck: 'sha256-read-back' | 'size-read-back' }> {
  const compression = settings.compression?.algorithm ?? 'zstd';
  const level = compression === 'none' ? undefined : settings.compression?.level;
  // Every wait bounded: a store that stops answering fails the upload (which removes what it wrote).
  const timer = setTimeout(
    () =>
      source.destroy(
        new IntegrityError(
          `Uploading ${key} to ${settings.store.location} did not finish within ${Math.round(timeoutMs / 1000)} s.`,
        ),
      ),
    timeoutMs,
  );
  let result;
  try {
    result = await uploadDump({
      store: settings.store,
      key,
      source,
      finished,
      compression,
      level,
      encryption: settings.encryption,
    });
  } finally {
    clearTimeout(timer);
  }
  const encryption = settings.encryption;
  return {
    object: key,
    compression: { algorithm: compression, level: level ?? null },
    encryption:
      encryption.kind === 'age-recipients'
        ? { method: 'age-x25519', recipients: encryption.recipients.map(recipientFingerprint) }
        : { method: encryption.kind === 'age-passphrase' ? 'age-passphrase' : 'none', recipients: [] },
    plain: result.plain,
    stored: result.stored,
    uploadCheck: result.uploadCheck,
  };
}

/**
 * Fetches one stored object into `destination` after checking it: the stored bytes are
 * downloaded to a private file (never more than the recorded size + 1) and their size and SHA-256
 * compared with the signed manifest before any byte is decrypted; the plain bytes' size and
 * SHA-256 are checked at the end, and a mismatch fails the call (the caller discards what it wrote).
 */
export async function fetchObject(
  store: BackupStore,
  entry: StoredObjectFields,
  what: string,
  decryption: DecryptionSettings,
  destination: Writable,
  timeoutMs: number,
): Promise<void> {
  const dir = makeTempDir('mariadb-fetch');
  // Every wait bounded: past the deadline the download and the unpacking are torn down.
  const signal = AbortSignal.timeout(timeoutMs);
  const late = (): IntegrityError =>
    new IntegrityError(
      `${what}: fetching it from ${store.location} did not finish within ${Math.round(timeoutMs / 1000)} s.`,
    );
  try {
    const path = join(dir.path, 'object');
    const limit = entry.stored.bytes;
    const tap = new HashTap();
    let source: Readable;
    try {
      source = await Promise.race([
        store.download(entry.object, limit),
        new Promise<never>((_resolve, reject) =>
          signal.addEventListener('abort', () => reject(late()), { once: true }),
        ),
      ]);
    } catch (error) {
      if (signal.aborted) throw late();
      throw new IntegrityError(`${what}: its object cannot be read from ${store.location}: ${errorMessage(error)}`);
    }
    const bound = boundedRead(source, limit);
    await pipeline(source, bound, tap, createWriteStream(path, { mode: 0o600 }), { signal }).catch((error: unknown) => {
      if (signal.aborted) throw late();
      if (bound.seen <= limit)
        throw new IntegrityError(`${what}: reading it from ${store.location} failed: ${errorMessage(error)}`);
    });
    if (bound.seen > limit || tap.bytes !== limit || tap.sha256 !== entry.stored.sha256) {
      throw new IntegrityError(
        `${what} is damaged: the stored object does not have the size and SHA-256 its signed manifest records.`,
      );
    }
    let stream: Readable = createReadStream(path);
    if (entry.encryption.method !== 'none') {
      try {
        stream = await decryptStream(stream, decryption);
      } catch (error) {
        throw new IntegrityError(`${what} cannot be decrypted with the key given (${errorMessage(error)}).`);
      }
    }
    const decompress = decompressor(entry.compression.algorithm);
    const plain = new HashTap();
    const stages = [stream, ...(decompress ? [decompress] : []), plain, destination] as const;
    try {
      await pipeline(stages as unknown as [Readable, Writable], { signal });
    } catch (error) {
      if (signal.aborted) throw late();
      throw new IntegrityError(`${what} could not be decrypted and unpacked: ${errorMessage(error)}`);
    }
    if (plain.bytes !== entry.plain.bytes || plain.sha256 !== entry.plain.sha256) {
      throw new IntegrityError(`${what} is damaged: its decrypted bytes do not match the SHA-256 recorded at backup.`);
    }
  } finally {
    dir.remove();
  }
}
