import { randomBytes } from 'node:crypto';
import { ConfigurationError, readRunContext } from '@deploy-suite/kit';
import { describeConnection, type DatabaseEngine, type DumpOptions } from '@deploy-suite/db';
import {
  listBackups,
  manifestKey,
  MANIFEST_FORMAT,
  newBackupId,
  objectKey,
  openBackup,
  planRetention,
  recipientFingerprint,
  uploadDump,
  writeManifest,
  type BackupManifest,
  type BackupStore,
  type Compression,
  type DecryptionSettings,
  type EncryptionSettings,
  type RetentionPlan,
  type RetentionPolicy,
} from '@deploy-suite/storage';

export interface BackupOptions {
  engine: DatabaseEngine;
  store: BackupStore;
  compression: Compression;
  level: number | undefined;
  encryption: EncryptionSettings;
  labels: string[];
  /** PostgreSQL: custom (default) or directory with parallel jobs. */
  dump?: DumpOptions;
  now?: () => Date;
  log?: (message: string) => void;
}

/**
 * Takes one backup. The manifest — the only thing that makes a backup exist — is written last,
 * after the dump tool succeeded and the upload was read back; any failure before leaves no
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
    throw error instanceof ConfigurationError
      ? error
      : new ConfigurationError(
          `Backup of ${connection.database} failed; nothing was recorded: ${(error as Error).message}`,
        );
  }
  const completed = now();
  const context = readRunContext();
  const manifest: BackupManifest = {
    format: MANIFEST_FORMAT,
    id,
    engine: connection.engine,
    database: connection.database,
    source: `${connection.user}@${connection.host}:${connection.port}`,
    serverVersion: dump.serverVersion,
    tool: dump.tool.path,
    toolVersion: dump.tool.version,
    dumpFormat: dump.format,
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
    sizes: { plainBytes: stored.plain.bytes, storedBytes: stored.stored.bytes },
    sha256: { plain: stored.plain.sha256, stored: stored.stored.sha256 },
    uploadCheck: stored.uploadCheck,
    rowCounts: await dump.rowCounts,
    labels: options.labels,
    startedAt: started.toISOString(),
    completedAt: completed.toISOString(),
    durationSeconds: Math.round((completed.getTime() - started.getTime()) / 10) / 100,
    deploySha: context.sha,
    runUrl: context.runUrl,
    verified: null,
  };
  await writeManifest(options.store, manifest);
  return manifest;
}

export interface RestoreOptions {
  engine: DatabaseEngine;
  store: BackupStore;
  manifest: BackupManifest;
  decryption: DecryptionSettings;
  target: string;
  /** Must repeat the target's name to restore over a database that is not empty. */
  confirm: string | undefined;
  /** Parallel jobs for a directory-format dump. */
  jobs?: number;
}

/**
 * Restores into `target`. Refuses a non-empty target unless confirm repeats its name; checks the
 * stored object and the key before the target is touched; a failed restore rolls back (PostgreSQL)
 * or stops at the first error.
 */
export async function restoreBackup(options: RestoreOptions): Promise<void> {
  const { engine, target } = options;
  if (options.manifest.engine !== engine.connection.engine) {
    throw new ConfigurationError(
      `Backup ${options.manifest.id} is a ${options.manifest.engine} dump; the target is ${engine.connection.engine}.`,
    );
  }
  const exists = await engine.databaseExists(target);
  const occupied = exists && (await engine.tableCount(target)) > 0;
  if (occupied && options.confirm !== target) {
    throw new ConfigurationError(
      `Refusing to restore over ${target}: it is not empty. Set confirm to "${target}" to overwrite it.`,
    );
  }
  const { stream, cleanup } = await openBackup(options.store, options.manifest, options.decryption);
  try {
    if (!exists) await engine.createDatabase(target);
    await engine.restore(target, stream, {
      format: options.manifest.dumpFormat,
      replace: occupied,
      ...(options.jobs === undefined ? {} : { jobs: options.jobs }),
    });
  } finally {
    await cleanup();
  }
}

/**
 * Restores into a scratch database made for the purpose, compares row counts per table with those
 * recorded at dump time, drops the scratch database, and marks the backup verified.
 */
export async function verifyBackup(options: Omit<RestoreOptions, 'target' | 'confirm'>): Promise<BackupManifest> {
  const scratch = `${options.manifest.database}_verify_${randomBytes(3).toString('hex')}`.slice(0, 63);
  try {
    await restoreBackup({ ...options, target: scratch, confirm: undefined });
    const counts = await options.engine.rowCounts(scratch);
    const expected = options.manifest.rowCounts;
    const problems: string[] = [];
    for (const [table, rows] of Object.entries(expected)) {
      if (counts[table] !== rows) problems.push(`${table}: ${counts[table] ?? 'missing'} rows, ${rows} at backup time`);
    }
    for (const table of Object.keys(counts))
      if (!(table in expected)) problems.push(`${table}: not in the backup's record`);
    if (problems.length > 0)
      throw new ConfigurationError(
        `Backup ${options.manifest.id} failed verification: ${problems.slice(0, 10).join('; ')}`,
      );
  } finally {
    await options.engine.dropDatabase(scratch).catch(() => undefined);
  }
  const context = readRunContext();
  const verified: BackupManifest = {
    ...options.manifest,
    verified: {
      at: new Date().toISOString(),
      scratchDatabase: scratch,
      tables: Object.keys(options.manifest.rowCounts).length,
      runUrl: context.runUrl,
    },
  };
  await writeManifest(options.store, verified);
  return verified;
}

/** Applies the retention policy; with dryRun nothing is deleted. Objects go before manifests. */
export async function pruneBackups(options: {
  store: BackupStore;
  database: string;
  policy: RetentionPolicy;
  dryRun: boolean;
  now?: Date;
}): Promise<RetentionPlan> {
  const backups = await listBackups(options.store, options.database);
  const plan = planRetention(backups, options.policy, options.now ?? new Date());
  if (!options.dryRun) {
    for (const manifest of plan.remove) {
      // The manifest goes last: a half-pruned backup stays listed and is pruned again next time.
      await options.store.remove(manifest.object);
      await options.store.remove(manifestKey(manifest.database, manifest.id));
    }
  }
  return plan;
}
