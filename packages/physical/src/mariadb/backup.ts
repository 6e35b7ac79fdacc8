import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigurationError, makeTempDir, quoteUntrusted } from '@deploy-suite/kit';
import { idStamp, type BackupStore, type ManifestSigner, type ManifestVerifier } from '@deploy-suite/storage';
import {
  BACKUP_ID,
  BINLOG_NAME,
  PHYSICAL_FORMAT,
  backupManifestKey,
  backupsFolder,
  checkPrefix,
  describeIdentity,
  mariaDbBackupManifestSchema,
  sameIdentity,
  serverIdentitySchema,
  objectSuffix,
  readSignedManifest,
  writeSignedManifest,
  type MariaDbBackupManifest,
  type ServerIdentity,
} from './manifest.ts';
import { checkChain } from './restore.ts';
import { uploadObject, type PhysicalStoreSettings } from './objects.ts';
import {
  querySql,
  resolveTools,
  runTool,
  startTool,
  writeOptionFile,
  type MariaDbAccess,
  type MariaDbTools,
  describeAccess,
} from './tools.ts';

export const DEFAULT_BACKUP_TIMEOUT_MS = 60 * 60_000;
const QUERY_TIMEOUT_MS = 60_000;

export interface MariaDbBackupOptions extends PhysicalStoreSettings {
  /** The server to back up; mariadb-backup must run on its host (it copies the datadir's files). */
  server: MariaDbAccess;
  type: 'full' | 'incremental';
  /** For an incremental backup: the verified manifest of the backup it builds on (full or incremental). */
  base?: MariaDbBackupManifest;
  signer: ManifestSigner;
  tools?: MariaDbTools;
  /** Bounds mariadb-backup and the upload; default 1 hour. */
  timeoutMs?: number;
  now?: () => Date;
}

export interface MariaDbBackupResult {
  manifest: MariaDbBackupManifest;
  manifestKey: string;
  durationSeconds: number;
}

/** A file mariadb-backup wrote, read as untrusted: strict `key = value` lines. */
export function parseCheckpoints(text: string): { type: string; fromLsn: string; toLsn: string } {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const match = /^([a-z_]{1,40}) = ([A-Za-z0-9_-]{1,40})$/.exec(line);
    if (match === null)
      throw new ConfigurationError(`xtrabackup_checkpoints has an unexpected line: ${quoteUntrusted(line)}`);
    fields.set(match[1]!, match[2]!);
  }
  const type = fields.get('backup_type');
  const fromLsn = fields.get('from_lsn');
  const toLsn = fields.get('to_lsn');
  if (
    type === undefined ||
    fromLsn === undefined ||
    toLsn === undefined ||
    !/^\d{1,20}$/.test(fromLsn) ||
    !/^\d{1,20}$/.test(toLsn)
  ) {
    throw new ConfigurationError('xtrabackup_checkpoints lacks backup_type, from_lsn or to_lsn as numbers.');
  }
  return { type, fromLsn, toLsn };
}

/** `<file>\t<position>[\t<gtid>]`, the binary log position of the backup's consistent point. */
export function parseBinlogInfo(text: string): { file: string; position: number; gtid: string } {
  const match = /^([^\t\n]{1,210})\t(\d{1,19})(?:\t([0-9,-]{0,2000}))?\n?$/.exec(text);
  const file = match?.[1];
  const position = Number(match?.[2]);
  if (
    match === null ||
    file === undefined ||
    !BINLOG_NAME.test(file) ||
    !Number.isSafeInteger(position) ||
    position < 4
  ) {
    throw new ConfigurationError(
      `The backup's binary log position ${quoteUntrusted(text)} is not "<file>\\t<position>": is log_bin on? Point-in-time recovery needs binary logging (log_bin, binlog_format=ROW).`,
    );
  }
  return { file, position, gtid: match[3] ?? '' };
}

function readBackupFile(dir: string, names: string[]): string | undefined {
  for (const name of names) {
    try {
      const text = readFileSync(join(dir, name), 'utf8');
      if (text.length > 64 * 1024) throw new ConfigurationError(`${name} is larger than expected.`);
      return text;
    } catch (error) {
      if ((error as { code?: string }).code !== 'ENOENT') throw error;
    }
  }
  return undefined;
}

/**
 * One physical backup of a MariaDB server: `mariadb-backup --backup` into a private folder under
 * RUNNER_TEMP, its checkpoints and binary log position read back strictly, the folder packed
 * (tar) and streamed through compression and age encryption into the store, the upload read back,
 * and only then the signed manifest written. An increment is taken from its base's to_lsn
 * (`--incremental-lsn`), so it needs only the base's signed manifest, not its files: an hourly
 * job can build on the nightly full without downloading it.
 */
export async function backupMariaDb(options: MariaDbBackupOptions): Promise<MariaDbBackupResult> {
  checkPrefix(options.prefix);
  const now = options.now ?? (() => new Date());
  const timeoutMs = options.timeoutMs ?? DEFAULT_BACKUP_TIMEOUT_MS;
  if (options.type === 'incremental' && options.base === undefined) {
    throw new ConfigurationError('An incremental backup needs the base it builds on (a prior backup of this server).');
  }
  if (options.type === 'full' && options.base !== undefined) {
    throw new ConfigurationError('A full backup takes no base.');
  }
  const tools = resolveTools(['mariadb-backup', 'mariadb', 'tar'], options.tools);
  const started = now();
  const id = `mariadb-${options.type}-${idStamp(started)}-${randomBytes(3).toString('hex')}`;
  const serverVersion = (
    await querySql(tools.mariadb, options.server, 'SELECT VERSION()', {
      what: 'mariadb (reading the server version)',
      timeoutMs: QUERY_TIMEOUT_MS,
    })
  )[0]?.[0];
  const identity = await readServerIdentity(tools.mariadb, options.server);
  if (options.base !== undefined && !sameIdentity(options.base.serverIdentity, identity)) {
    throw new ConfigurationError(
      `Backup ${options.base.id} is of another server (${describeIdentity(options.base.serverIdentity)}), not of ${describeIdentity(identity)}: an increment applies only on a base of the same server. Take type full, or give this server its own prefix.`,
    );
  }
  const toolVersion = (
    await runTool(tools['mariadb-backup'], ['--version'], {
      what: 'mariadb-backup --version',
      timeoutMs: QUERY_TIMEOUT_MS,
    })
  ).trim();

  const work = makeTempDir('mariadb-backup');
  const options_ = writeOptionFile(options.server);
  try {
    const target = join(work.path, 'backup');
    const args = [`--defaults-extra-file=${options_.path}`, '--backup', `--target-dir=${target}`];
    if (options.base !== undefined) args.push(`--incremental-lsn=${options.base.toLsn}`);
    await startTool(tools['mariadb-backup'], args, { what: 'mariadb-backup --backup', timeoutMs }).done;
    // The data is as of mariadb-backup's end (its consistent point), not of the upload's.
    const consistent = now();
    options_.remove();

    const checkpoints = parseCheckpoints(readBackupFile(target, ['xtrabackup_checkpoints']) ?? '');
    const expectedType = options.type === 'full' ? 'full-backuped' : 'incremental';
    if (checkpoints.type !== expectedType) {
      throw new ConfigurationError(
        `mariadb-backup wrote backup_type ${quoteUntrusted(checkpoints.type)}, expected ${expectedType}.`,
      );
    }
    if (options.base !== undefined && checkpoints.fromLsn !== options.base.toLsn) {
      throw new ConfigurationError(
        `mariadb-backup started the increment at LSN ${checkpoints.fromLsn}, not at its base's ${options.base.toLsn}.`,
      );
    }
    // MariaDB 10.x names it xtrabackup_binlog_info, 11.x mariadb_backup_binlog_info.
    const binlogText = readBackupFile(target, ['mariadb_backup_binlog_info', 'xtrabackup_binlog_info']);
    if (binlogText === undefined) {
      throw new ConfigurationError(
        'mariadb-backup recorded no binary log position: the server does not write binary logs. Point-in-time recovery needs log_bin (with binlog_format=ROW).',
      );
    }
    const binlog = parseBinlogInfo(binlogText);

    const encrypted = options.encryption.kind !== 'none';
    const key = `${backupsFolder(options.prefix)}${id}.tar${objectSuffix(options.compression?.algorithm ?? 'zstd', encrypted)}`;
    const tar = startTool(tools.tar, ['--create', '--file=-', '--format=posix', `--directory=${target}`, '.'], {
      what: 'tar (packing the backup)',
      timeoutMs,
    });
    const stored = await uploadObject(options, key, tar.stdout, tar.done, timeoutMs);
    const completed = now();
    const manifest = mariaDbBackupManifestSchema.parse({
      format: PHYSICAL_FORMAT,
      kind: 'mariadb-backup',
      id,
      type: options.type,
      baseId: options.base?.id ?? null,
      fromLsn: checkpoints.fromLsn,
      toLsn: checkpoints.toLsn,
      binlog,
      serverVersion: (serverVersion ?? '').slice(0, 200),
      toolVersion: toolVersion.slice(0, 300),
      source: describeAccess(options.server),
      serverIdentity: identity,
      startedAt: started.toISOString(),
      consistentAt: consistent.toISOString(),
      completedAt: completed.toISOString(),
      ...stored,
    } satisfies MariaDbBackupManifest);
    const manifestKey = backupManifestKey(options.prefix, id);
    await writeSignedManifest(options.store, manifestKey, manifest, options.signer);
    return { manifest, manifestKey, durationSeconds: (completed.getTime() - started.getTime()) / 1000 };
  } finally {
    options_.remove();
    work.remove();
  }
}

/** @@hostname, @@port, @@server_id and @@datadir, read from the server and validated. */
export async function readServerIdentity(mariadb: string, server: MariaDbAccess): Promise<ServerIdentity> {
  const row = (
    await querySql(mariadb, server, 'SELECT @@hostname, @@port, @@server_id, @@datadir', {
      what: 'mariadb (reading the server identity)',
      timeoutMs: QUERY_TIMEOUT_MS,
    })
  )[0];
  const parsed = serverIdentitySchema.safeParse({
    hostname: row?.[0],
    port: Number(row?.[1]),
    serverId: Number(row?.[2]),
    datadir: row?.[3],
  });
  if (!parsed.success)
    throw new ConfigurationError(
      `The server reported an unexpected identity (@@hostname, @@port, @@server_id, @@datadir): ${quoteUntrusted((row ?? []).join(' '), 400)}.`,
    );
  return parsed.data;
}

/**
 * The base an incremental backup builds on: the newest backup, trusted only with its whole chain
 * (every base present, signed and in order). A broken chain refuses the increment, naming what is
 * missing: an increment on it could never be restored.
 */
export function incrementalBase(backups: MariaDbBackupManifest[]): MariaDbBackupManifest | undefined {
  const newest = backups.at(-1);
  if (newest === undefined) return undefined;
  try {
    checkChain(chainFor(backups, newest.id));
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    throw new ConfigurationError(
      `An incremental backup would build on the newest backup ${newest.id}, whose chain is broken: ${error.message} Take type full.`,
    );
  }
  return newest;
}

/**
 * Every physical backup of the prefix whose manifest verifies, oldest first; manifests that do
 * not verify are returned apart with the reason, never used.
 */
export async function listMariaDbBackups(
  store: BackupStore,
  prefix: string,
  verifier: ManifestVerifier,
): Promise<{ backups: MariaDbBackupManifest[]; rejected: { key: string; reason: string }[] }> {
  checkPrefix(prefix);
  const backups: MariaDbBackupManifest[] = [];
  const rejected: { key: string; reason: string }[] = [];
  for (const key of await store.list(backupsFolder(prefix))) {
    const match = /^([^/]+)\.manifest\.json$/.exec(key.slice(backupsFolder(prefix).length));
    if (match === null || !BACKUP_ID.test(match[1]!)) continue;
    try {
      const manifest = await readSignedManifest(
        store,
        key,
        mariaDbBackupManifestSchema,
        verifier,
        (m) => m.id === match[1],
      );
      if (manifest !== undefined) backups.push(manifest);
    } catch (error) {
      if (!(error instanceof ConfigurationError)) throw error;
      rejected.push({ key, reason: error.message });
    }
  }
  backups.sort((a, b) => a.completedAt.localeCompare(b.completedAt));
  return { backups, rejected };
}

/** The chain that restores `id`: its full backup, then each increment in order. */
export function chainFor(backups: MariaDbBackupManifest[], id: string): MariaDbBackupManifest[] {
  const byId = new Map(backups.map((backup) => [backup.id, backup]));
  const chain: MariaDbBackupManifest[] = [];
  let current = byId.get(id);
  if (current === undefined)
    throw new ConfigurationError(`No verified physical backup has the id ${quoteUntrusted(id)}.`);
  while (current !== undefined) {
    chain.unshift(current);
    if (chain.length > 1000) throw new ConfigurationError('The backup chain is longer than 1000 increments.');
    if (current.baseId === null) return chain;
    const base = byId.get(current.baseId);
    if (base === undefined) {
      throw new ConfigurationError(
        `Backup ${current.id} builds on ${current.baseId}, which is not in the store (or does not verify).`,
      );
    }
    current = base;
  }
  return chain;
}
