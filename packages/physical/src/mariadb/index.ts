// MariaDB physical backups (mariadb-backup, full and incremental), the binary log archive, and
// restore into a scratch datadir with point-in-time recovery by binary log replay.
export {
  backupMariaDb,
  chainFor,
  DEFAULT_BACKUP_TIMEOUT_MS,
  incrementalBase,
  listMariaDbBackups,
  readServerIdentity,
  parseBinlogInfo,
  parseCheckpoints,
  type MariaDbBackupOptions,
  type MariaDbBackupResult,
} from './backup.ts';
export {
  archiveBinlogs,
  archiveCoverage,
  BinlogGapError,
  DEFAULT_ARCHIVE_TIMEOUT_MS,
  headerTime,
  listBinlogArchive,
  planReplay,
  type ArchiveBinlogsOptions,
  type ArchiveBinlogsResult,
} from './binlog.ts';
export {
  binlogManifestSchema,
  mariaDbBackupManifestSchema,
  PhysicalManifestError,
  type BinlogManifest,
  type MariaDbBackupManifest,
  type ServerIdentity,
} from './manifest.ts';
export type { PhysicalStoreSettings } from './objects.ts';
export {
  checkChain,
  checkTargetTime,
  countRestoredRows,
  DEFAULT_RESTORE_TIMEOUT_MS,
  restoreMariaDb,
  VERIFY_USER,
  type RestoredMariaDb,
  type RestoreMariaDbOptions,
} from './restore.ts';
export {
  MariaDbToolError,
  MissingToolError,
  resolveTools,
  type MariaDbAccess,
  type MariaDbToolName,
  type MariaDbTools,
} from './tools.ts';
