import { z } from 'zod';
import type { Compression } from './transforms.ts';

export const MANIFEST_FORMAT = 'deploy-suite-backup/2';
/** A manifest file larger than this is refused unread. */
export const MANIFEST_MAX_BYTES = 1024 * 1024;
/** How far a recorded time may lie ahead of this runner's clock. */
export const CLOCK_SKEW_MS = 5 * 60_000;

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

/** How a stored object was compressed, as a manifest records it. */
export const compressionSchema = z
  .object({ algorithm: z.enum(['zstd', 'gzip', 'none']), level: z.number().int().min(1).max(22).nullable() })
  .strict();
/** How it was encrypted: the method and the fingerprints of its recipients. */
export const encryptionSchema = z
  .object({
    method: z.enum(['age-x25519', 'age-passphrase', 'none']),
    recipients: z.array(z.string().regex(/^sha256:[0-9a-f]{16}$/)).max(100),
  })
  .strict();
/** A byte count and its SHA-256: the plain dump's, or the stored object's. */
export const sizedDigestSchema = z
  .object({ bytes: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER), sha256: sha256Hex })
  .strict();
/** How the stored object was checked after upload. */
export const uploadCheckSchema = z.enum(['sha256-read-back', 'size-read-back']);
const isoTime = z.iso.datetime();
const DUMP_FORMATS = ['pg_dump custom', 'pg_dump directory (tar)', 'SQL'] as const;

/**
 * What a backup holds, beyond what is needed to find and fetch it: table names, exact row counts,
 * the plain dump's size and hash, who dumped it from where. Beside an encrypted object it is
 * itself age-encrypted to the same recipients (`sealedDetails`), so the catalog shows none of it.
 */
export const backupDetailsSchema = z
  .object({
    source: z.string().max(600),
    serverVersion: z.string().max(200),
    tool: z.string().max(300),
    toolVersion: z.string().max(300),
    plain: z.object({ bytes: z.number().int().nonnegative(), sha256: sha256Hex }).strict(),
    rowCounts: z.record(z.string().max(300), z.number().int().nonnegative()),
  })
  .strict();
export type BackupDetails = z.infer<typeof backupDetailsSchema>;

/** Everything needed to trust, find and restore one backup. Written only after a verified upload. */
export const backupManifestSchema = z
  .object({
    format: z.literal(MANIFEST_FORMAT),
    id: z.string().regex(/^[A-Za-z0-9_.-]{1,200}-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z-[0-9a-f]{6}$/),
    engine: z.enum(['postgres', 'mysql']),
    database: z.string().min(1).max(200),
    dumpFormat: z.enum(DUMP_FORMATS),
    object: z.string().max(1024),
    compression: compressionSchema,
    encryption: encryptionSchema,
    stored: sizedDigestSchema,
    /** How the stored object was checked after upload. */
    uploadCheck: uploadCheckSchema,
    labels: z.array(z.string().min(1).max(100)).max(50),
    startedAt: isoTime,
    completedAt: isoTime,
    durationSeconds: z.number().nonnegative(),
    deploySha: z.string().max(64),
    runUrl: z.string().max(2048),
    verified: z
      .object({ at: isoTime, tables: z.number().int().nonnegative(), runUrl: z.string().max(2048) })
      .strict()
      .nullable(),
    /** In clear only when the backup itself is not encrypted. */
    details: backupDetailsSchema.optional(),
    /** age ciphertext (Base64) of the details, to the backup's own recipients or passphrase. */
    sealedDetails: z
      .string()
      .max(512 * 1024)
      .regex(/^[A-Za-z0-9+/]*={0,2}$/)
      .optional(),
  })
  .strict();
export type BackupManifest = z.infer<typeof backupManifestSchema>;

/** The file in the store: the manifest's exact JSON text and an Ed25519 signature over it. */
export const manifestEnvelopeSchema = z
  .object({ manifest: z.string().max(MANIFEST_MAX_BYTES), keyId: z.string().max(100), signature: z.string().max(200) })
  .strict();

export const manifestKey = (database: string, id: string): string => `${database}/${id}.manifest.json`;

export function objectKey(database: string, id: string, compression: Compression, encrypted: boolean): string {
  const extension = { zstd: '.zst', gzip: '.gz', none: '' }[compression];
  return `${database}/${id}.dump${extension}${encrypted ? '.age' : ''}`;
}

/** The part of an id that comes from the database name. */
export const idPrefix = (database: string): string => database.replace(/[^A-Za-z0-9_.-]/g, '_');

/** Sortable, unique even for two backups of one database in the same second. */
export function newBackupId(database: string, now: Date, random: string): string {
  return `${idPrefix(database)}-${idStamp(now)}-${random}`;
}

/**
 * The start time an id of this database's own form stamps (`<prefix>-<stamp>-<6 hex>`), or
 * undefined for an id of any other form, a stamp no clock gives (month 13) included.
 */
export function idTime(database: string, id: string): Date | undefined {
  const prefix = `${idPrefix(database)}-`;
  if (!id.startsWith(prefix)) return undefined;
  const match = /^((\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})Z)-[0-9a-f]{6}$/.exec(id.slice(prefix.length));
  if (match === null) return undefined;
  const time = new Date(`${match[2]}T${match[3]}:${match[4]}:${match[5]}Z`);
  return Number.isFinite(time.getTime()) && idStamp(time) === match[1] ? time : undefined;
}

/**
 * A key of this database's own form — `<database>/<id>.manifest.json` or the object
 * `<database>/<id>.dump[.zst|.gz][.age]` — with its id and the start time the id stamps; undefined
 * for any other key. The catalog and the orphan sweep read nothing else.
 */
export function parseBackupKey(
  database: string,
  key: string,
): { id: string; kind: 'manifest' | 'object'; started: Date } | undefined {
  if (!key.startsWith(`${database}/`)) return undefined;
  const match = /^([^/]+?)(\.manifest\.json|\.dump(?:\.zst|\.gz)?(?:\.age)?)$/.exec(key.slice(database.length + 1));
  const started = match === null ? undefined : idTime(database, match[1]!);
  if (match === null || started === undefined) return undefined;
  return { id: match[1]!, kind: match[2] === '.manifest.json' ? 'manifest' : 'object', started };
}

/** The id's time stamp: the start time to the second, with the colons a key cannot hold replaced. */
export function idStamp(time: Date): string {
  return time
    .toISOString()
    .replace(/[:]/g, '-')
    .replace(/\.\d+Z$/, 'Z');
}
