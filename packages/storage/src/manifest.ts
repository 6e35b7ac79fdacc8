import type { Compression } from './transforms.ts';

export const MANIFEST_FORMAT = 'deploy-suite-backup/1';

/** Everything needed to trust, find and restore one backup. Written only after a verified upload. */
export interface BackupManifest {
  format: typeof MANIFEST_FORMAT;
  id: string;
  engine: 'postgres' | 'mysql';
  database: string;
  /** user@host:port, no password. */
  source: string;
  serverVersion: string;
  tool: string;
  toolVersion: string;
  dumpFormat: string;
  object: string;
  compression: { algorithm: Compression; level: number | null };
  encryption: { method: 'age-x25519' | 'age-passphrase' | 'none'; recipients: string[] };
  sizes: { plainBytes: number; storedBytes: number };
  sha256: { plain: string; stored: string };
  /** How the stored object was checked after upload. */
  uploadCheck: 'sha256-read-back' | 'size-read-back';
  rowCounts: Record<string, number>;
  labels: string[];
  startedAt: string;
  completedAt: string;
  durationSeconds: number;
  deploySha: string;
  runUrl: string;
  verified: null | { at: string; scratchDatabase: string; tables: number; runUrl: string };
}

export const manifestKey = (database: string, id: string): string => `${database}/${id}.manifest.json`;

export function objectKey(database: string, id: string, compression: Compression, encrypted: boolean): string {
  const extension = { zstd: '.zst', gzip: '.gz', none: '' }[compression];
  return `${database}/${id}.dump${extension}${encrypted ? '.age' : ''}`;
}

/** Sortable, unique even for two backups of one database in the same second. */
export function newBackupId(database: string, now: Date, random: string): string {
  const stamp = now
    .toISOString()
    .replace(/[:]/g, '-')
    .replace(/\.\d+Z$/, 'Z');
  return `${database.replace(/[^A-Za-z0-9_.-]/g, '_')}-${stamp}-${random}`;
}
