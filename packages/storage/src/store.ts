import type { Readable } from 'node:stream';
import { ConfigurationError, errorMessage, isSystemError, RemoteError } from '@deploy-suite/kit';

/**
 * Where backups live. Keys are relative paths ("shop/2026-11-27T02-00-00Z-ab12cd.dump.zst.age").
 * Whatever a store returns is untrusted: anyone who can write under its prefix can put anything
 * there, so callers authenticate manifests and bound every read.
 */
export interface BackupStore {
  /** For logs and manifests; never carries credentials (no SAS, no signed query). */
  readonly location: string;
  /**
   * What an upload is checked by afterwards: the size everywhere, and the SHA-256 where reading the
   * object back is cheap (a local folder).
   */
  readonly readBack: 'size' | 'sha256';
  /** Streams the body to `key`; on failure nothing is left under `key` (partial uploads are aborted). */
  upload(key: string, body: Readable): Promise<void>;
  /**
   * Streams an object. With `maxBytes`, asks for no more than maxBytes + 1 bytes, so an object
   * larger than expected is noticed without being read whole.
   */
  download(key: string, maxBytes?: number): Promise<Readable>;
  /** Size of a stored object, or undefined when there is none. */
  size(key: string): Promise<number | undefined>;
  /** A small text object, or undefined when there is none; a larger one is a StoreError, unread. */
  readText(key: string, maxBytes: number): Promise<string | undefined>;
  writeText(key: string, text: string): Promise<void>;
  /** Keys under a prefix, recursively. */
  list(prefix: string): Promise<string[]>;
  /** Removes an object; a missing one is not an error. */
  remove(key: string): Promise<void>;
  /** The URL of an object, for the `location` output; never carries credentials. */
  urlOf(key: string): string;
}

/** The store answered badly or held something it should not: expected, reported without a stack. */
export class StoreError extends RemoteError {
  override name = 'StoreError';
}

/** Reads a stream into memory, failing as soon as it passes `maxBytes`. */
export async function readBounded(stream: Readable, maxBytes: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) {
      stream.destroy();
      throw new StoreError(`${what} is larger than ${maxBytes} bytes; refused unread.`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * The error to report when talking to a store (or a tool feeding it) failed: an expected failure
 * is kept or turned into a StoreError naming the store; anything else is a bug and is returned
 * untouched, stack and all.
 */
export function asStoreError(error: unknown, store: BackupStore, context: string): unknown {
  if (error instanceof ConfigurationError) return error;
  if (!isRemoteFailure(error)) return error;
  return new StoreError(`${context}: ${store.location} failed: ${errorMessage(error)}`);
}

/** An error an SDK, the network or the file system raised, as opposed to a bug in our code. */
export function isRemoteFailure(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { $metadata?: unknown; statusCode?: unknown; name?: unknown };
  return (
    e.$metadata !== undefined || typeof e.statusCode === 'number' || e.name === 'RestError' || isSystemError(error)
  );
}
