import { z } from 'zod';
import { ConfigurationError, quoteUntrusted } from '@deploy-suite/kit';
import {
  compressionSchema,
  encryptionSchema,
  sizedDigestSchema,
  uploadCheckSchema,
  type BackupStore,
  type ManifestSigner,
  type ManifestVerifier,
} from '@deploy-suite/storage';

/**
 * Signed manifests for MariaDB physical backups and archived binary logs. The logical backup
 * manifest (packages/storage) describes one dump of one database; a physical backup is a whole
 * server's datadir with LSNs, a base and a binary log position, so it has its own strict schema,
 * signed with the same Ed25519 signer/verifier. The signed text carries its own context line, so
 * a physical manifest's signature can never be replayed as a logical one or the other way round.
 */

export const PHYSICAL_FORMAT = 'deploy-suite-mariadb-physical/1';
export const BINLOG_FORMAT = 'deploy-suite-mariadb-binlog/1';
const CONTEXT = 'deploy-suite mariadb physical manifest v1\n';
export const PHYSICAL_MANIFEST_MAX_BYTES = 64 * 1024;

const isoTime = z.iso.datetime();
const lsn = z.string().regex(/^\d{1,20}$/);
/** A binary log file's name: `<basename>.<sequence>` as the server names them. */
export const BINLOG_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}\.(\d{6,10})$/;
export const binlogName = z.string().regex(BINLOG_NAME);

// The stored object's fields, as the logical manifests record them.
const storedObject = {
  object: z.string().max(1024),
  compression: compressionSchema,
  encryption: encryptionSchema,
  plain: sizedDigestSchema,
  stored: sizedDigestSchema,
  uploadCheck: uploadCheckSchema,
};
export type StoredObjectFields = {
  object: string;
  compression: { algorithm: 'zstd' | 'gzip' | 'none'; level: number | null };
  encryption: { method: 'age-x25519' | 'age-passphrase' | 'none'; recipients: string[] };
  plain: { bytes: number; sha256: string };
  stored: { bytes: number; sha256: string };
};

/** @@hostname, @@port, @@server_id and @@datadir as the server reports them, validated. */
export const serverIdentitySchema = z
  .object({
    hostname: z.string().regex(/^[A-Za-z0-9_.-]{1,255}$/),
    port: z.number().int().min(0).max(65535),
    serverId: z.number().int().min(0).max(4294967295),
    datadir: z.string().regex(/^\/[^\0\n\t]{0,500}$/),
  })
  .strict();
export type ServerIdentity = z.infer<typeof serverIdentitySchema>;

/** For messages: one line naming a server identity. */
export function describeIdentity(identity: ServerIdentity): string {
  return `${identity.hostname}:${identity.port} (server_id ${identity.serverId}, datadir ${identity.datadir})`;
}

export const sameIdentity = (a: ServerIdentity, b: ServerIdentity): boolean =>
  a.hostname === b.hostname && a.port === b.port && a.serverId === b.serverId && a.datadir === b.datadir;

export const BACKUP_ID = /^mariadb-(full|incremental)-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z-[0-9a-f]{6}$/;

/** One mariadb-backup run (a full backup or an increment on a base), packed as a tar. */
export const mariaDbBackupManifestSchema = z
  .object({
    format: z.literal(PHYSICAL_FORMAT),
    kind: z.literal('mariadb-backup'),
    id: z.string().regex(BACKUP_ID),
    type: z.enum(['full', 'incremental']),
    /** The backup this increment applies on; null for a full backup. */
    baseId: z.string().regex(BACKUP_ID).nullable(),
    fromLsn: lsn,
    toLsn: lsn,
    /** Where the backup's consistent point lies in the binary log: replay starts here. */
    binlog: z.object({ file: binlogName, position: z.number().int().min(4), gtid: z.string().max(2000) }).strict(),
    serverVersion: z.string().max(200),
    toolVersion: z.string().max(300),
    source: z.string().max(600),
    /**
     * Which server the backup is of, read from the server itself: an increment applies only on a
     * base of the same server (LSNs of another server's datadir make a garbage increment).
     */
    serverIdentity: serverIdentitySchema,
    startedAt: isoTime,
    /** When `mariadb-backup --backup` finished: the moment the data is of (its recovery point). */
    consistentAt: isoTime,
    /** When the object was uploaded and read back (after tar, compression and upload). */
    completedAt: isoTime,
    ...storedObject,
  })
  .strict();
export type MariaDbBackupManifest = z.infer<typeof mariaDbBackupManifestSchema>;

/** One closed binary log file copied to the store. */
export const binlogManifestSchema = z
  .object({
    format: z.literal(BINLOG_FORMAT),
    kind: z.literal('mariadb-binlog'),
    name: binlogName,
    /** The time of its first and last events, as mariadb-binlog prints them (whole seconds, UTC). */
    firstEventAt: isoTime,
    lastEventAt: isoTime,
    source: z.string().max(600),
    archivedAt: isoTime,
    ...storedObject,
  })
  .strict();
export type BinlogManifest = z.infer<typeof binlogManifestSchema>;

/** A manifest read from the store that is not ours, damaged or unsigned. */
export class PhysicalManifestError extends ConfigurationError {
  override name = 'PhysicalManifestError';
}

const envelopeSchema = z
  .object({
    manifest: z.string().max(PHYSICAL_MANIFEST_MAX_BYTES),
    keyId: z.string().max(100),
    signature: z.string().max(200),
  })
  .strict();

/** The prefix every key of one server's physical backups lives under. */
export function checkPrefix(prefix: string): void {
  if (!/^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}(\/[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}){0,4}$/.test(prefix)) {
    throw new ConfigurationError(
      `The store prefix ${quoteUntrusted(prefix)} must be one to five path segments of letters, digits, "_", "-" and "." (for example: shop-db/primary).`,
    );
  }
}

export const backupsFolder = (prefix: string): string => `${prefix}/mariadb/backups/`;
export const binlogsFolder = (prefix: string): string => `${prefix}/mariadb/binlogs/`;
export const backupManifestKey = (prefix: string, id: string): string => `${backupsFolder(prefix)}${id}.manifest.json`;
export const binlogManifestKey = (prefix: string, name: string): string =>
  `${binlogsFolder(prefix)}${name}.manifest.json`;

export function objectSuffix(compression: 'zstd' | 'gzip' | 'none', encrypted: boolean): string {
  return `${{ zstd: '.zst', gzip: '.gz', none: '' }[compression]}${encrypted ? '.age' : ''}`;
}

/** Signs and writes a manifest; called only after its object's upload was verified. */
export async function writeSignedManifest(
  store: BackupStore,
  key: string,
  manifest: MariaDbBackupManifest | BinlogManifest,
  signer: ManifestSigner,
): Promise<void> {
  const text = JSON.stringify(manifest);
  const envelope = { manifest: text, keyId: signer.keyId, signature: signer.sign(CONTEXT + text) };
  await store.writeText(key, JSON.stringify(envelope));
}

/**
 * Reads a manifest back: bounded, the envelope parsed strictly, the signature checked with the
 * pinned key, then the manifest itself parsed strictly. `expect` names what the key promises
 * (a backup id or a binlog name), so an authentic manifest moved under another key is refused.
 */
export async function readSignedManifest<S extends z.ZodType>(
  store: BackupStore,
  key: string,
  schema: S,
  verifier: ManifestVerifier,
  expect: (manifest: z.infer<S>) => boolean,
): Promise<z.infer<S> | undefined> {
  const text = await store.readText(key, PHYSICAL_MANIFEST_MAX_BYTES * 2);
  if (text === undefined) return undefined;
  const where = `${quoteUntrusted(key)} in ${store.location}`;
  let envelope: z.infer<typeof envelopeSchema>;
  try {
    envelope = envelopeSchema.parse(JSON.parse(text));
  } catch {
    throw new PhysicalManifestError(`The manifest ${where} is not a signed manifest envelope.`);
  }
  if (envelope.keyId !== verifier.keyId || !verifier.verify(CONTEXT + envelope.manifest, envelope.signature)) {
    throw new PhysicalManifestError(
      `The manifest ${where} is not signed by the verify key (${verifier.keyId}); it is not used.`,
    );
  }
  const parsed = schema.safeParse(JSON.parse(envelope.manifest));
  if (!parsed.success) {
    throw new PhysicalManifestError(`The manifest ${where} is signed but does not match the expected schema.`);
  }
  const manifest = parsed.data;
  if (!expect(manifest)) {
    throw new PhysicalManifestError(`The manifest ${where} describes something other than its key says.`);
  }
  return manifest;
}
