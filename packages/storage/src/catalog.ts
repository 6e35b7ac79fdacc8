import { identityToRecipient } from 'age-encryption';
import { ConfigurationError, errorMessage, escapeUntrusted } from '@deploy-suite/kit';
import type { z } from 'zod';
import {
  decryptBytes,
  encryptBytes,
  recipientFingerprint,
  type DecryptionSettings,
  type EncryptionSettings,
} from './encryption.ts';
import {
  backupDetailsSchema,
  backupManifestSchema,
  CLOCK_SKEW_MS,
  idStamp,
  idTime,
  MANIFEST_MAX_BYTES,
  manifestEnvelopeSchema,
  manifestKey,
  objectKey,
  parseBackupKey,
  type BackupDetails,
  type BackupManifest,
} from './manifest.ts';
import type { ManifestSigner, ManifestVerifier } from './signing.ts';
import { asStoreError, isRemoteFailure, StoreError, type BackupStore } from './store.ts';

/** A manifest in the store that is not to be trusted: unsigned, forged, malformed or inconsistent. */
export class ManifestError extends StoreError {
  override name = 'ManifestError';
  /** Dated after this runner's clock: a catalog holding one is not pruned at all. */
  readonly future: boolean;
  constructor(message: string, future = false) {
    super(message);
    this.future = future;
  }
}

export interface RejectedManifest {
  key: string;
  reason: string;
  future: boolean;
}

/** The trusted backups of one database, newest first, and what was found but refused. */
export interface Catalog {
  backups: BackupManifest[];
  rejected: RejectedManifest[];
}

/**
 * Reads, authenticates and validates one manifest file. Nothing in it is used before its
 * signature verified with the pinned key and every field passed the strict schema; then the
 * fields must agree with where it was found and what was asked for.
 */
export async function readManifestFile(
  store: BackupStore,
  key: string,
  verifier: ManifestVerifier,
  expect: { database: string; id?: string },
  now: Date = new Date(),
): Promise<BackupManifest | undefined> {
  const text = await store.readText(key, MANIFEST_MAX_BYTES);
  if (text === undefined) return undefined;
  let envelope;
  try {
    envelope = manifestEnvelopeSchema.parse(JSON.parse(text));
  } catch {
    throw new ManifestError(`${key} is not a signed manifest (not the JSON envelope a backup writes)`);
  }
  if (envelope.keyId !== verifier.keyId) {
    throw new ManifestError(
      `${key} is signed by key ${envelope.keyId.slice(0, 40)}, not by the pinned key ${verifier.keyId}`,
    );
  }
  if (!verifier.verify(envelope.manifest, envelope.signature)) {
    throw new ManifestError(`${key} has a signature that does not verify: it was changed or forged`);
  }
  let signed: unknown;
  try {
    signed = JSON.parse(envelope.manifest);
  } catch {
    throw new ManifestError(`${key} is signed but malformed: what was signed is not JSON`);
  }
  const parsed = backupManifestSchema.safeParse(signed);
  if (!parsed.success)
    throw new ManifestError(`${key} is signed but malformed: ${describeIssues(parsed.error.issues)}`);
  const manifest = parsed.data;
  checkConsistency(manifest, key, expect, now);
  return manifest;
}

/**
 * What the schema found wrong, field by field ("completedAt: Invalid ISO datetime"): the first
 * few issues, each escaped (keys and messages can carry what the manifest holds) and bounded.
 */
function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const shown = issues.slice(0, 5).map((issue) => {
    const at = issue.path.length === 0 ? 'the manifest' : issue.path.map((p) => String(p)).join('.');
    return `${escapeUntrusted(at, 80)}: ${escapeUntrusted(issue.message, 120)}`;
  });
  const more = issues.length > shown.length ? ` (and ${issues.length - shown.length} more)` : '';
  return `${shown.join('; ')}${more}`;
}

function checkConsistency(
  manifest: BackupManifest,
  key: string,
  expect: { database: string; id?: string },
  now: Date,
): void {
  const fail = (problem: string, future = false): never => {
    throw new ManifestError(`${key} ${problem}`, future);
  };
  if (manifest.database !== expect.database) fail(`describes database ${manifest.database}, not ${expect.database}`);
  if (expect.id !== undefined && manifest.id !== expect.id) fail(`describes backup ${manifest.id}, not ${expect.id}`);
  if (key !== manifestKey(manifest.database, manifest.id)) fail(`is stored under a key that is not its own`);
  const stamped = idTime(manifest.database, manifest.id);
  if (stamped === undefined) fail(`has an id that is not of its database's form`);
  const encrypted = manifest.encryption.method !== 'none';
  if (manifest.object !== objectKey(manifest.database, manifest.id, manifest.compression.algorithm, encrypted))
    fail(`names object ${manifest.object}, which is not the one its id and format give`);
  if (encrypted !== (manifest.sealedDetails !== undefined) || encrypted === (manifest.details !== undefined))
    fail(`has its details ${encrypted ? 'in clear beside an encrypted backup' : 'sealed beside a plain backup'}`);
  if ((manifest.compression.algorithm === 'none') !== (manifest.compression.level === null))
    fail('records a compression level that does not fit its algorithm');
  const started = Date.parse(manifest.startedAt);
  const completed = Date.parse(manifest.completedAt);
  if (idStamp(new Date(started)) !== idStamp(stamped!)) fail('has a start time that does not match its id');
  if (completed < started) fail('completed before it started');
  const latest = now.getTime() + CLOCK_SKEW_MS;
  if (completed > latest || (manifest.verified !== null && Date.parse(manifest.verified.at) > latest))
    fail(`is dated in the future (${manifest.completedAt}); check the clocks and who writes to the store`, true);
}

/**
 * The backups of one database, read from their signed manifests (never inferred from object
 * names), newest first by recorded completion time. Manifests that fail any check are returned
 * apart, with the reason, and never used.
 */
export async function listBackups(
  store: BackupStore,
  database: string,
  verifier: ManifestVerifier,
  now: Date = new Date(),
): Promise<Catalog> {
  let keys: string[];
  try {
    keys = (await store.list(`${database}/`)).filter((key) => key.endsWith('.manifest.json'));
  } catch (error) {
    throw asStoreError(error, store, `Listing the backups of ${database}`);
  }
  // Far more than any retention policy keeps: a catalog this large was not written by us, and
  // reading it whole would hold a rollback up for hours.
  if (keys.length > MAX_MANIFESTS) {
    throw new StoreError(
      `${store.location}/${database}/ holds ${keys.length} manifests, more than the ${MAX_MANIFESTS} a catalog can have; someone else writes there. Nothing was read.`,
    );
  }
  const backups: BackupManifest[] = [];
  const rejected: RejectedManifest[] = [];
  for (const key of keys) {
    if (parseBackupKey(database, key)?.kind !== 'manifest') {
      rejected.push({ key, reason: `${key} is not named as a manifest of ${database}`, future: false });
      continue;
    }
    try {
      const manifest = await readManifestFile(store, key, verifier, { database }, now);
      if (manifest !== undefined) backups.push(manifest);
    } catch (error) {
      // One manifest the store will not hand over (access denied, not a file) is refused alone.
      if (!(error instanceof StoreError) && !isRemoteFailure(error)) throw error;
      rejected.push({
        key,
        reason: error instanceof StoreError ? error.message : `${key} cannot be read: ${errorMessage(error)}`,
        future: error instanceof ManifestError && error.future,
      });
    }
  }
  backups.sort((a, b) => Date.parse(b.completedAt) - Date.parse(a.completedAt));
  return { backups, rejected };
}

const MAX_MANIFESTS = 10_000;

export async function readManifest(
  store: BackupStore,
  database: string,
  id: string,
  verifier: ManifestVerifier,
): Promise<BackupManifest> {
  if (idTime(database, id) === undefined) {
    throw new ConfigurationError(
      `Backup id "${id.slice(0, 80)}" is not of the form a backup id has. List the backups with command: list.`,
    );
  }
  const manifest = await readManifestFile(store, manifestKey(database, id), verifier, { database, id }).catch(
    (error: unknown) => {
      throw asStoreError(error, store, `Reading backup ${id}`);
    },
  );
  if (manifest === undefined) {
    throw new ConfigurationError(
      `Backup ${id} has no manifest in ${store.location}/${database}/: it never completed, or it was deleted. List the backups with command: list.`,
    );
  }
  return manifest;
}

/** The newest trusted backup carrying every one of the labels. */
export async function latestWithLabels(
  store: BackupStore,
  database: string,
  labels: string[],
  verifier: ManifestVerifier,
): Promise<{ manifest: BackupManifest; rejected: RejectedManifest[] }> {
  const { backups, rejected } = await listBackups(store, database, verifier);
  const match = backups.find((m) => labels.every((label) => m.labels.includes(label)));
  if (match === undefined) {
    throw new ConfigurationError(
      `No trusted backup of ${database} in ${store.location}${labels.length ? ` carries the labels ${labels.join(', ')}` : ''}${rejected.length ? ` (${rejected.length} manifest(s) refused: ${rejected[0]!.reason})` : ''}.`,
    );
  }
  return { manifest: match, rejected };
}

/** Signs and writes a manifest; it is what makes a backup exist, so it is written last. */
export async function writeManifest(
  store: BackupStore,
  manifest: BackupManifest,
  signer: ManifestSigner,
): Promise<void> {
  const text = JSON.stringify(backupManifestSchema.parse(manifest), null, 2);
  const envelope = { manifest: text, keyId: signer.keyId, signature: signer.sign(text) };
  await store.writeText(manifestKey(manifest.database, manifest.id), JSON.stringify(envelope, null, 2) + '\n');
}

/** The details beside a backup: sealed to its own recipients or passphrase when it is encrypted. */
export async function sealDetails(
  details: BackupDetails,
  encryption: EncryptionSettings,
): Promise<{ details?: BackupDetails; sealedDetails?: string }> {
  if (encryption.kind === 'none') return { details };
  const sealed = await encryptBytes(Buffer.from(JSON.stringify(details)), encryption);
  return { sealedDetails: Buffer.from(sealed).toString('base64') };
}

export async function openDetails(manifest: BackupManifest, decryption: DecryptionSettings): Promise<BackupDetails> {
  if (manifest.details !== undefined) return manifest.details;
  let plain: Uint8Array;
  try {
    plain = await decryptBytes(Buffer.from(manifest.sealedDetails ?? '', 'base64'), decryption);
  } catch (error) {
    throw new ConfigurationError(
      `Backup ${manifest.id} cannot be decrypted with the key given: its sealed details do not open (${errorMessage(error)}). Nothing was restored.`,
    );
  }
  try {
    return backupDetailsSchema.parse(JSON.parse(Buffer.from(plain).toString('utf8')));
  } catch {
    throw new ManifestError(`Backup ${manifest.id}: its sealed details are malformed.`);
  }
}

/**
 * Refuses a backup that is not protected the way the workflow expects: an unencrypted one unless
 * allowed, a passphrase backup when an identity was given (or the reverse), an X25519 backup not
 * encrypted to the given identity. age recipients are public, so encryption alone proves nothing:
 * this runs on a manifest whose signature already verified.
 */
export async function checkProtection(
  manifest: BackupManifest,
  decryption: DecryptionSettings,
  allowUnencrypted: boolean,
): Promise<void> {
  const { method, recipients } = manifest.encryption;
  if (method === 'none') {
    if (allowUnencrypted) return;
    throw new ConfigurationError(
      `Backup ${manifest.id} is not encrypted; refusing to use it. Set allow-unencrypted: true if unencrypted backups are expected here.`,
    );
  }
  if (decryption.identities.length === 0 && decryption.passphrase === undefined) {
    throw new ConfigurationError(`Backup ${manifest.id} is encrypted (${method}); give its identity or passphrase.`);
  }
  if (method === 'age-passphrase') {
    if (decryption.passphrase !== undefined) return;
    throw new ConfigurationError(
      `Backup ${manifest.id} is encrypted with a passphrase, but an identity was given: this is not a backup of the kind this workflow expects.`,
    );
  }
  const ours = await Promise.all(
    decryption.identities.map(async (i) => recipientFingerprint(await identityToRecipient(i))),
  );
  if (!ours.some((fingerprint) => recipients.includes(fingerprint))) {
    throw new ConfigurationError(
      `Backup ${manifest.id} is not encrypted to the identity given (its recipients: ${recipients.join(', ') || 'none'}): this is not a backup of the kind this workflow expects.`,
    );
  }
}
