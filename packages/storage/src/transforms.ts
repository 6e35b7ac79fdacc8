import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';

export type Compression = 'zstd' | 'gzip' | 'none';

/** Passes bytes through while hashing (SHA-256) and counting them. */
export class HashTap extends Transform {
  private readonly hash: Hash = createHash('sha256');
  bytes = 0;
  private digest: string | undefined;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    callback(null, chunk);
  }

  get sha256(): string {
    this.digest ??= this.hash.digest('hex');
    return this.digest;
  }
}

/**
 * Holds back the end of the stream until `finished` settles: a dump tool that fails after
 * writing part of its output ends its stdout normally, and that must never look like a backup.
 */
export function endWhenFinished(finished: Promise<unknown>): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      callback(null, chunk);
    },
    flush(callback) {
      finished.then(
        () => callback(),
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      );
    },
  });
}

export function compressor(kind: Compression, level: number | undefined): Transform | undefined {
  if (kind === 'zstd') {
    return zlib.createZstdCompress({
      params: { [zlib.constants.ZSTD_c_compressionLevel]: level ?? COMPRESSION_LEVELS.zstd.default },
    });
  }
  if (kind === 'gzip') return zlib.createGzip({ level: level ?? COMPRESSION_LEVELS.gzip.default });
  return undefined;
}

export function decompressor(kind: Compression): Transform | undefined {
  if (kind === 'zstd') return zlib.createZstdDecompress();
  if (kind === 'gzip') return zlib.createGunzip();
  return undefined;
}

export const COMPRESSION_LEVELS: Record<Exclude<Compression, 'none'>, { min: number; max: number; default: number }> = {
  zstd: { min: 1, max: 19, default: 3 },
  gzip: { min: 1, max: 9, default: 6 },
};
