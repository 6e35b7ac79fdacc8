import { randomBytes } from 'node:crypto';
import { ConfigurationError, errorMessage } from '@deploy-suite/kit';
import {
  createScratchDatabase,
  describeConnection,
  DumpFailedError,
  openEngine,
  type Connection,
  type DatabaseEngine,
  type DumpOptions,
} from '@deploy-suite/db';
import {
  asStoreError,
  checkProtection,
  listBackups,
  manifestKey,
  MANIFEST_FORMAT,
  newBackupId,
  objectKey,
  openBackup,
  openDetails,
  parseBackupKey,
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
  // Handled from the start, whatever the engine does: a failure while the upload is held is
  // reported below, never as an unhandled rejection that kills the process mid-upload.
  dump.finished.catch(() => undefined);
  dump.rowCounts.catch(() => undefined);
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
  // From here on the object is in the store: any failure removes it (and a manifest that may have
  // been written), so nothing is left half-written.
  try {
    const rowCounts = checkedRowCounts(await dump.rowCounts);
    const completed = now();
    const sealed = await sealDetails(
      {
        source: `${connection.user}@${connection.host}:${connection.port}`,
        serverVersion: dump.serverVersion,
        tool: dump.tool.path,
        toolVersion: dump.tool.version,
        plain: stored.plain,
        rowCounts,
      },
      options.encryption,
    );
    const manifest = backupManifest(options, { id, key, started, completed, format: dump.format, stored, sealed });
    await writeManifest(options.store, manifest, options.signer);
    return manifest;
  } catch (error) {
    await options.store.remove(manifestKey(connection.database, id)).catch(() => undefined);
    await options.store.remove(key).catch(() => undefined);
    throw asStoreError(error, options.store, `Backup of ${connection.database} failed; nothing was recorded`);
  }
}

/** Row counts go into the manifest and decide verification: whole numbers or the backup fails. */
function checkedRowCounts(counts: Record<string, number>): Record<string, number> {
  for (const [table, rows] of Object.entries(counts)) {
    if (!Number.isSafeInteger(rows) || rows < 0)
      throw new DumpFailedError(`Counting rows gave ${String(rows)} for ${table}, not a row count.`);
  }
  return counts;
}

function backupManifest(
  options: BackupOptions,
  facts: {
    id: string;
    key: string;
    started: Date;
    completed: Date;
    format: string;
    stored: Awaited<ReturnType<typeof uploadDump>>;
    sealed: Awaited<ReturnType<typeof sealDetails>>;
  },
): BackupManifest {
  const { connection } = options.engine;
  const { id, key, started, completed, stored, sealed } = facts;
  return {
    format: MANIFEST_FORMAT,
    id,
    engine: connection.engine,
    database: connection.database,
    dumpFormat: facts.format as BackupManifest['dumpFormat'],
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
  /** Keep ownership and GRANTs as dumped (default true). */
  privileges?: boolean;
  /** Replacing a database in use: end its sessions so it can be set aside. */
  terminateSessions?: boolean;
  /** Drop the replaced database once the new one is in place, instead of keeping it. */
  dropReplaced?: boolean;
  now?: () => Date;
  log?: (message: string) => void;
}

export interface RestoreResult {
  /** Where the database that was replaced is kept (absent when nothing was replaced, or it was dropped on request). */
  keptAs?: string;
  replaced: boolean;
}

/**
 * Restores into `target`. A new or empty target is restored into directly (a target this run
 * created is dropped again on failure). A non-empty target needs confirm, and is never restored
 * over: the backup goes into a fresh database, which is checked against the row counts sealed at
 * backup time and only then swapped in, the old database kept under a dated name. A failure at
 * any step leaves the live database as it was.
 */
export async function restoreBackup(options: RestoreOptions): Promise<RestoreResult> {
  const { engine, target, manifest } = options;
  if (manifest.engine !== engine.connection.engine) {
    throw new ConfigurationError(
      `Backup ${manifest.id} is a ${manifest.engine} dump; the target is ${engine.connection.engine}.`,
    );
  }
  await checkProtection(manifest, options.decryption, options.allowUnencrypted);
  const details = await openDetails(manifest, options.decryption);
  const exists = await engine.databaseExists(target);
  const occupied = exists && (await engine.tableCount(target)) > 0;
  if (occupied && options.confirm !== target) {
    throw new ConfigurationError(
      `Refusing to restore over ${target}: it is not empty. Set confirm to "${target}" to replace it (the old one is kept).`,
    );
  }
  const restoreOptions = {
    format: manifest.dumpFormat,
    ...(options.jobs === undefined ? {} : { jobs: options.jobs }),
    ...(options.privileges === undefined ? {} : { privileges: options.privileges }),
  };
  const { stream, cleanup } = await openBackup(options.store, manifest, details, options.decryption);
  try {
    if (!occupied) {
      let created = false;
      try {
        if (!exists) {
          await engine.createDatabase(target);
          created = true;
        }
        await engine.restore(target, stream, restoreOptions);
      } catch (error) {
        // Only what this run made is removed: a database that existed before is never dropped.
        if (created) await engine.dropDatabase(target).catch(() => undefined);
        throw error;
      }
      return { replaced: false };
    }
    const staging = await createScratchDatabase(engine.connection, 'restore', { like: target });
    options.log?.(`Restoring into ${staging.name}, to be swapped in for ${target} once checked`);
    const keptAs = keptName(target, (options.now ?? (() => new Date()))());
    try {
      await engine.restore(staging.name, stream, restoreOptions);
      checkRowCounts(manifest.id, details.rowCounts, await engine.rowCounts(staging.name));
      await engine.replaceDatabase(target, staging.name, keptAs, {
        terminateSessions: options.terminateSessions ?? false,
      });
    } finally {
      // After a swap the scratch name no longer exists (PostgreSQL) or is empty (MySQL).
      await dropQuietly(staging, options.log);
    }
    options.log?.(`${target} replaced; the database it replaced is kept as ${keptAs}`);
    if (options.dropReplaced) {
      await engine.dropDatabase(keptAs);
      return { replaced: true };
    }
    return { replaced: true, keptAs };
  } finally {
    stream.destroy();
    await cleanup();
  }
}

/**
 * A scratch database that could not be dropped is reported, not thrown: after a swap, the
 * deployment's own outcome matters more, and on failure the real error must not be hidden.
 */
async function dropQuietly(
  scratch: { name: string; drop(): Promise<void> },
  log?: (message: string) => void,
): Promise<void> {
  await scratch.drop().catch((error: unknown) => {
    log?.(
      `Warning: the scratch database ${scratch.name} could not be dropped (${errorMessage(error)}); drop it by hand.`,
    );
  });
}

/** `<target>_before_<UTC stamp>`, the target cut (at a character boundary) to fit 63 bytes. */
export function keptName(target: string, now: Date): string {
  const suffix = `_before_${now.toISOString().replace(/[-:]/g, '').slice(0, 15)}`;
  let base = target;
  while (Buffer.byteLength(base + suffix) > 63) base = Array.from(base).slice(0, -1).join('');
  return base + suffix;
}

/** Row counts of a restored copy against those sealed in the manifest at dump time. */
function checkRowCounts(id: string, expected: Record<string, number>, counts: Record<string, number>): void {
  const problems: string[] = [];
  for (const [table, rows] of Object.entries(expected)) {
    if (counts[table] !== rows) problems.push(`${table}: ${counts[table] ?? 'missing'} rows, ${rows} at backup time`);
  }
  for (const table of Object.keys(counts))
    if (!(table in expected)) problems.push(`${table}: not in the backup's record`);
  if (problems.length > 0) {
    throw new ConfigurationError(`Backup ${id} failed verification: ${problems.slice(0, 10).join('; ')}`);
  }
}

export interface VerifyOptions extends Omit<
  RestoreOptions,
  'target' | 'confirm' | 'terminateSessions' | 'dropReplaced' | 'privileges' | 'now' | 'log'
> {
  signer: ManifestSigner;
  provenance: Provenance;
  /**
   * The server the scratch database is made on. Restoring a backup runs its SQL, so this should
   * be an isolated server with a low-privilege user; default: the backup's own server.
   */
  scratchServer?: Connection;
  /** Where pg_restore is, as for the backup itself. */
  pgBinDir?: string;
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
      const engine = await openEngine(
        scratch.connection,
        options.pgBinDir === undefined ? {} : { pgBinDir: options.pgBinDir },
      );
      await engine.restore(scratch.name, stream, {
        format: manifest.dumpFormat,
        ...(options.jobs === undefined ? {} : { jobs: options.jobs }),
        // A scratch server's low-privilege user cannot take on the dumped owners.
        ...(options.scratchServer === undefined ? {} : { privileges: false }),
      });
      checkRowCounts(manifest.id, details.rowCounts, await engine.rowCounts(scratch.name));
    } finally {
      await dropQuietly(scratch, options.log);
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
  // A prune may have removed this backup meanwhile: re-signing its manifest would bring back a
  // listed backup with no object behind it.
  const [object, stillListed] = await Promise.all([
    options.store.size(manifest.object),
    options.store.size(manifestKey(manifest.database, manifest.id)),
  ]);
  if (object !== manifest.stored.bytes || stillListed === undefined) {
    throw new ConfigurationError(
      `Backup ${manifest.id} restored and checked, but it was removed from the store meanwhile (a prune?); it was not marked verified.`,
    );
  }
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
  return keys.filter((key) => {
    const parsed = parseBackupKey(database, key);
    return (
      parsed?.kind === 'object' &&
      !present.has(manifestKey(database, parsed.id)) &&
      now.getTime() - parsed.started.getTime() > ORPHAN_MIN_AGE_MS
    );
  });
}
