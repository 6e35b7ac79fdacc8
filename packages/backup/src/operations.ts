import { randomBytes } from 'node:crypto';
import { ConfigurationError } from '@deploy-suite/kit';
import {
  createScratchDatabase,
  describeConnection,
  openEngine,
  type Connection,
  type DatabaseEngine,
  type DumpOptions,
} from '@deploy-suite/db';
import {
  asStoreError,
  checkProtection,
  idPrefix,
  idStamp,
  listBackups,
  manifestKey,
  MANIFEST_FORMAT,
  newBackupId,
  objectKey,
  openBackup,
  openDetails,
  planRetention,
  recipientFingerprint,
  sealDetails,
  uploadDump,
  writeManifest,
  type BackupManifest,
  type BackupStore,
  type Compression,
  type DecryptionSettings,
  type EncryptionSettings,
  type ManifestSigner,
  type ManifestVerifier,
  type RejectedManifest,
  type RetentionPlan,
  type RetentionPolicy,
} from '@deploy-suite/storage';

/** Where a run comes from, recorded in the manifest; passed in by the action, never read here. */
export interface Provenance {
  sha: string;
  runUrl: string;
}

export interface BackupOptions {
  engine: DatabaseEngine;
  store: BackupStore;
  compression: Compression;
  level: number | undefined;
  encryption: EncryptionSettings;
  signer: ManifestSigner;
  labels: string[];
  provenance: Provenance;
  /** PostgreSQL: custom (default) or directory with parallel jobs. */
  dump?: DumpOptions;
  now?: () => Date;
  log?: (message: string) => void;
}

/**
 * Takes one backup. The signed manifest — the only thing that makes a backup exist — is written
 * last, after the dump tool succeeded and the upload was read back; any failure before leaves no
 * manifest and no object under the backup's key.
 */
export async function takeBackup(options: BackupOptions): Promise<BackupManifest> {
  const now = options.now ?? (() => new Date());
  const log = options.log ?? (() => {});
  const { connection } = options.engine;
  const started = now();
  const id = newBackupId(connection.database, started, randomBytes(3).toString('hex'));
  const key = objectKey(connection.database, id, options.compression, options.encryption.kind !== 'none');
  const dump = await options.engine.startDump(options.dump);
  log(`Dumping ${describeConnection(connection)} (server ${dump.serverVersion}) with ${dump.tool.version}`);
  let stored;
  try {
    stored = await uploadDump({
      store: options.store,
      key,
      source: dump.stream,
      finished: dump.finished,
      compression: options.compression,
      level: options.level,
      encryption: options.encryption,
    });
  } catch (error) {
    dump.abort();
    await dump.finished.catch(() => undefined);
    // What the store or the dump tool did is reported as such; anything else is a bug and keeps its stack.
    throw asStoreError(error, options.store, `Backup of ${connection.database} failed; nothing was recorded`);
  }
  const completed = now();
  const sealed = await sealDetails(
    {
      source: `${connection.user}@${connection.host}:${connection.port}`,
      serverVersion: dump.serverVersion,
      tool: dump.tool.path,
      toolVersion: dump.tool.version,
      plain: stored.plain,
      rowCounts: await dump.rowCounts,
    },
    options.encryption,
  );
  const manifest: BackupManifest = {
    format: MANIFEST_FORMAT,
    id,
    engine: connection.engine,
    database: connection.database,
    dumpFormat: dump.format as BackupManifest['dumpFormat'],
    object: key,
    compression: {
      algorithm: options.compression,
      level: options.compression === 'none' ? null : (options.level ?? null),
    },
    encryption: {
      method:
        options.encryption.kind === 'age-recipients'
          ? 'age-x25519'
          : options.encryption.kind === 'age-passphrase'
            ? 'age-passphrase'
            : 'none',
      recipients:
        options.encryption.kind === 'age-recipients' ? options.encryption.recipients.map(recipientFingerprint) : [],
    },
    stored: stored.stored,
    uploadCheck: stored.uploadCheck,
    labels: options.labels,
    startedAt: started.toISOString(),
    completedAt: completed.toISOString(),
    durationSeconds: Math.round((completed.getTime() - started.getTime()) / 10) / 100,
    deploySha: options.provenance.sha,
    runUrl: options.provenance.runUrl,
    verified: null,
    ...sealed,
  };
  await writeManifest(options.store, manifest, options.signer);
  return manifest;
}

export interface RestoreOptions {
  engine: DatabaseEngine;
  store: BackupStore;
  /** A manifest whose signature verified (read through the catalog). */
  manifest: BackupManifest;
  decryption: DecryptionSettings;
  /** Restore an unencrypted backup; without it one is refused. */
  allowUnencrypted: boolean;
  target: string;
  /** Must repeat the target's name to restore over a database that is not empty. */
  confirm: string | undefined;
  /** Parallel jobs for a directory-format dump. */
  jobs?: number;
}

/**
 * Restores into `target`. Refuses a non-empty target unless confirm repeats its name; checks the
 * backup's protection, the stored object and the key before the target is touched; a failed
 * restore rolls back (PostgreSQL) or stops at the first error, and a target this run created is
 * dropped again.
 */
export async function restoreBackup(options: RestoreOptions): Promise<void> {
  const { engine, target } = options;
  if (options.manifest.engine !== engine.connection.engine) {
    throw new ConfigurationError(
      `Backup ${options.manifest.id} is a ${options.manifest.engine} dump; the target is ${engine.connection.engine}.`,
    );
  }
  await checkProtection(options.manifest, options.decryption, options.allowUnencrypted);
  const details = await openDetails(options.manifest, options.decryption);
  const exists = await engine.databaseExists(target);
  const occupied = exists && (await engine.tableCount(target)) > 0;
  if (occupied && options.confirm !== target) {
    throw new ConfigurationError(
      `Refusing to restore over ${target}: it is not empty. Set confirm to "${target}" to overwrite it.`,
    );
  }
  const { stream, cleanup } = await openBackup(options.store, options.manifest, details, options.decryption);
  let created = false;
  try {
    if (!exists) {
      await engine.createDatabase(target);
      created = true;
    }
    await engine.restore(target, stream, {
      format: options.manifest.dumpFormat,
      replace: occupied,
      ...(options.jobs === undefined ? {} : { jobs: options.jobs }),
    });
  } catch (error) {
    // Only what this run made is removed: a database that existed before is never dropped.
    if (created) await engine.dropDatabase(target).catch(() => undefined);
    throw error;
  } finally {
    await cleanup();
  }
}

export interface VerifyOptions extends Omit<RestoreOptions, 'target' | 'confirm'> {
  signer: ManifestSigner;
  provenance: Provenance;
  /**
   * The server the scratch database is made on. Restoring a backup runs its SQL, so this should
   * be an isolated server with a low-privilege user; default: the backup's own server.
   */
  scratchServer?: Connection;
  now?: () => Date;
  log?: (message: string) => void;
}

/**
 * Restores into a scratch database made for the purpose (a fresh name no real database can have),
 * compares row counts per table with those sealed in the manifest at dump time, drops the scratch
 * database, and marks the backup verified.
 */
export async function verifyBackup(options: VerifyOptions): Promise<BackupManifest> {
  const { manifest } = options;
  const server = options.scratchServer ?? options.engine.connection;
  if (manifest.engine !== server.engine) {
    throw new ConfigurationError(
      `Backup ${manifest.id} is a ${manifest.engine} dump; the scratch server is ${server.engine}.`,
    );
  }
  await checkProtection(manifest, options.decryption, options.allowUnencrypted);
  const details = await openDetails(manifest, options.decryption);
  const { stream, cleanup } = await openBackup(options.store, manifest, details, options.decryption);
  try {
    const scratch = await createScratchDatabase(server, 'verify');
    options.log?.(`Restoring into scratch database ${scratch.name} on ${server.host}:${server.port}`);
    try {
      const engine = await openEngine(scratch.connection);
      await engine.restore(scratch.name, stream, {
        format: manifest.dumpFormat,
        replace: false,
        ...(options.jobs === undefined ? {} : { jobs: options.jobs }),
      });
      const counts = await engine.rowCounts(scratch.name);
      const expected = details.rowCounts;
      const problems: string[] = [];
      for (const [table, rows] of Object.entries(expected)) {
        if (counts[table] !== rows)
          problems.push(`${table}: ${counts[table] ?? 'missing'} rows, ${rows} at backup time`);
      }
      for (const table of Object.keys(counts))
        if (!(table in expected)) problems.push(`${table}: not in the backup's record`);
      if (problems.length > 0)
        throw new ConfigurationError(`Backup ${manifest.id} failed verification: ${problems.slice(0, 10).join('; ')}`);
    } finally {
      await scratch.drop();
    }
  } finally {
    stream.destroy();
    await cleanup();
  }
  const verified: BackupManifest = {
    ...manifest,
    verified: {
      at: (options.now ?? (() => new Date()))().toISOString(),
      tables: Object.keys(details.rowCounts).length,
      runUrl: options.provenance.runUrl,
    },
  };
  await writeManifest(options.store, verified, options.signer);
  return verified;
}

export interface PruneResult extends RetentionPlan {
  /** Objects of this database's form with no manifest, older than the sweep age, removed (or to be). */
  orphans: string[];
  /** Manifests found but not trusted: never used, never deleted. */
  rejected: RejectedManifest[];
}

/** Objects without a manifest younger than this may be a backup still being written. */
const ORPHAN_MIN_AGE_MS = 2 * 86_400_000;

/**
 * Applies the retention policy to the trusted backups; with dryRun nothing is deleted. Stops
 * before deleting anything when a manifest is dated in the future. Each backup's manifest goes
 * before its object: an interrupted prune leaves an unlisted orphan (swept by a later prune),
 * never a listed backup that cannot be restored.
 */
export async function pruneBackups(options: {
  store: BackupStore;
  database: string;
  verifier: ManifestVerifier;
  policy: RetentionPolicy;
  dryRun: boolean;
  now?: Date;
}): Promise<PruneResult> {
  const now = options.now ?? new Date();
  const { store, database } = options;
  const { backups, rejected } = await listBackups(store, database, options.verifier, now);
  const future = rejected.find((r) => r.future);
  if (future !== undefined) {
    throw new ConfigurationError(`Nothing was pruned: ${future.reason}.`);
  }
  const plan = planRetention(backups, options.policy, now);
  const orphans = await findOrphans(store, database, now);
  if (!options.dryRun) {
    try {
      for (const manifest of plan.remove) {
        // Both keys derived from the database and id, never taken from the manifest's text.
        await store.remove(manifestKey(database, manifest.id));
        await store.remove(
          objectKey(database, manifest.id, manifest.compression.algorithm, manifest.encryption.method !== 'none'),
        );
      }
      for (const key of orphans) await store.remove(key);
    } catch (error) {
      throw asStoreError(error, store, `Pruning ${database} stopped`);
    }
  }
  return { ...plan, orphans, rejected };
}

/** Backup objects of this database's exact form whose manifest is gone, old enough to be abandoned. */
async function findOrphans(store: BackupStore, database: string, now: Date): Promise<string[]> {
  const keys = await store.list(`${database}/`);
  const present = new Set(keys);
  const prefix = `${database}/${idPrefix(database)}-`;
  const form = /^(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z)-[0-9a-f]{6}\.dump(?:\.zst|\.gz)?(?:\.age)?$/;
  return keys.filter((key) => {
    if (!key.startsWith(prefix)) return false;
    const match = form.exec(key.slice(prefix.length));
    if (match === null) return false;
    const id = key.slice(database.length + 1).replace(/\.dump.*$/, '');
    if (present.has(manifestKey(database, id))) return false;
    const started = Date.parse(match[1]!.replace(/T(\d{2})-(\d{2})-(\d{2})Z$/, 'T$1:$2:$3Z'));
    return (
      Number.isFinite(started) && idStamp(new Date(started)) === match[1] && now.getTime() - started > ORPHAN_MIN_AGE_MS
    );
  });
}
