import type { Readable } from 'node:stream';

/** Where backups live. Keys are relative paths ("shop/2026-11-27T02-00-00Z-ab12cd.dump.zst.age"). */
export interface BackupStore {
  /** For logs and manifests; never carries credentials. */
  readonly location: string;
  /**
   * What an upload is checked by afterwards: the size everywhere, and the SHA-256 where reading the
   * object back is cheap (a local folder).
   */
  readonly readBack: 'size' | 'sha256';
  /** Streams the body to `key`; on failure nothing is left under `key` (partial uploads are aborted). */
  upload(key: string, body: Readable): Promise<void>;
  download(key: string): Promise<Readable>;
  /** Size of a stored object, or undefined when there is none. */
  size(key: string): Promise<number | undefined>;
  readText(key: string): Promise<string | undefined>;
  writeText(key: string, text: string): Promise<void>;
  /** Keys under a prefix, recursively. */
  list(prefix: string): Promise<string[]>;
  remove(key: string): Promise<void>;
  /** The URL of an object, for the `location` output. */
  urlOf(key: string): string;
}

export class StoreError extends Error {
  override name = 'StoreError';
}
