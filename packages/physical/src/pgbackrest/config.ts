import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { makeTempDir, registerSecret } from '@deploy-suite/kit';

/**
 * What pgBackRest needs to reach one stanza: the repository (a posix folder here; S3, Azure and
 * GCS repositories are pgBackRest's own `repo1-type` options and future work), its passphrase and
 * the live cluster (on this host: the runner runs on the database host or one holding its data
 * folder).
 */
export interface PgBackRestSettings {
  /** The stanza's name: letters, digits, `_`, `-`, `.`. */
  stanza: string;
  /** The repository: an absolute folder (a posix repository). */
  repoPath: string;
  /** The repository passphrase (repo1-cipher-type=aes-256-cbc). Masked at once; written only to the 0600 config. */
  cipherPass: string;
  /** Full backups kept (repo1-retention-full); older fulls and their WAL are expired by each backup. Default 2. */
  retentionFull?: number;
  /** The live cluster's data folder (pg1-path). Never written to by this module. */
  pgPath: string;
  pgPort: number;
  /** The folder holding the live cluster's Unix socket (pg1-socket-path). */
  pgSocketPath: string;
  /** The database role pgBackRest connects as (pg1-user); default: the OS user's name. */
  pgUser?: string;
  /** The OS user that owns the cluster; pgBackRest runs as it through `runuser -u` (the runner must be root). */
  runAs?: string;
  /** How long `check` and `backup` wait for a WAL segment to be archived (archive-timeout). Default 60. */
  archiveTimeoutSeconds?: number;
  /** Compression of backup files and archived WAL: gz (default, in every build), zst and lz4 where pgBackRest was built with them. */
  compressType?: 'gz' | 'zst' | 'lz4' | 'bz2' | 'none';
  /** Parallel processes for backup and restore (process-max). Default 1. */
  processMax?: number;
  /** Shared with the cluster's archive-push, so backup and expire see its locks. Default: our own temp folder. */
  lockPath?: string;
  /** Where our private folder goes. Default: RUNNER_TEMP, else the OS temp folder. */
  tempRoot?: string;
  /** The environment whose PATH finds pgbackrest (default process.env). No other variable reaches it. */
  env?: NodeJS.ProcessEnv;
  /** PostgreSQL's binaries for the restored cluster; default /usr/lib/postgresql/<major>/bin (Debian layout). */
  pgBinDir?: string;
}

export interface WrittenConfig {
  /** The config file (0600, owned by `runAs`). */
  path: string;
  /** Our private folder holding it, the lock and log folders and the spool. */
  dir: string;
  lockPath: string;
  /** Removes the folder and everything in it; safe to call twice. */
  remove: () => void;
}

const STANZA = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** A setting that would break the config file's lines (a newline starts a new option) is refused. */
function configValue(name: string, value: string): string {
  if (/[\r\n\0]/.test(value) || value !== value.trim() || value === '') {
    throw new Error(`${name} must be a non-empty value on one line without surrounding spaces`);
  }
  return value;
}

/** Checks settings before anything is written; throws an Error naming the setting. */
export function validateSettings(settings: PgBackRestSettings): void {
  if (!STANZA.test(settings.stanza)) {
    throw new Error(
      `stanza '${settings.stanza.slice(0, 64)}' must be letters, digits, '_', '-' or '.' (example: main)`,
    );
  }
  for (const [name, value] of [
    ['repoPath', settings.repoPath],
    ['pgPath', settings.pgPath],
    ['pgSocketPath', settings.pgSocketPath],
  ] as const) {
    configValue(name, value);
    if (!isAbsolute(value)) throw new Error(`${name} must be an absolute path`);
  }
  if (
    settings.cipherPass.length < 8 ||
    /[\r\n\0]/.test(settings.cipherPass) ||
    settings.cipherPass !== settings.cipherPass.trim()
  ) {
    throw new Error('the repository passphrase must be at least 8 characters on one line, without surrounding spaces');
  }
  if (!Number.isInteger(settings.pgPort) || settings.pgPort < 1 || settings.pgPort > 65535) {
    throw new Error(`pgPort must be a TCP port (1-65535)`);
  }
  for (const [name, value, max] of [
    ['retentionFull', settings.retentionFull, 9_999_999],
    ['archiveTimeoutSeconds', settings.archiveTimeoutSeconds, 86_400],
    ['processMax', settings.processMax, 999],
  ] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value < 1 || value > max)) {
      throw new Error(`${name} must be a whole number from 1 to ${max}`);
    }
  }
  if (settings.compressType !== undefined && !['gz', 'zst', 'lz4', 'bz2', 'none'].includes(settings.compressType)) {
    throw new Error('compressType must be gz, zst, lz4, bz2 or none');
  }
  if (settings.pgUser !== undefined && !/^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/.test(settings.pgUser)) {
    throw new Error('pgUser must be a plain role name');
  }
  if (settings.runAs !== undefined && !/^[a-z_][a-z0-9_-]{0,31}$/.test(settings.runAs)) {
    throw new Error('runAs must be an OS user name');
  }
  if (settings.lockPath !== undefined) {
    configValue('lockPath', settings.lockPath);
    if (!isAbsolute(settings.lockPath)) throw new Error('lockPath must be an absolute path');
  }
}

/** The text of pgbackrest.conf for the settings, with log, lock and spool folders under `dir`. */
export function renderConfig(settings: PgBackRestSettings, dir: string): string {
  validateSettings(settings);
  const lockPath = settings.lockPath ?? join(dir, 'lock');
  const global: [string, string | number][] = [
    ['repo1-path', settings.repoPath],
    ['repo1-cipher-type', 'aes-256-cbc'],
    ['repo1-cipher-pass', settings.cipherPass],
    ['repo1-retention-full', settings.retentionFull ?? 2],
    ['lock-path', lockPath],
    ['log-path', join(dir, 'log')],
    ['spool-path', join(dir, 'spool')],
    ['log-level-console', 'off'],
    ['log-level-stderr', 'warn'],
    ['log-level-file', 'off'],
    ['archive-async', 'n'],
    ['archive-timeout', settings.archiveTimeoutSeconds ?? 60],
    ['start-fast', 'y'],
    ['process-max', settings.processMax ?? 1],
    ['compress-type', settings.compressType ?? 'gz'],
  ];
  const stanza: [string, string | number][] = [
    ['pg1-path', settings.pgPath],
    ['pg1-port', settings.pgPort],
    ['pg1-socket-path', settings.pgSocketPath],
    ...(settings.pgUser === undefined ? [] : [['pg1-user', settings.pgUser] as [string, string]]),
  ];
  const lines = (entries: [string, string | number][]) => entries.map(([key, value]) => `${key}=${value}`);
  return ['[global]', ...lines(global), '', `[${settings.stanza}]`, ...lines(stanza), ''].join('\n');
}

function tempRoot(settings: PgBackRestSettings): string {
  return settings.tempRoot ?? tmpdir();
}

/** The uid and gid of an OS user (`id -u`, `id -g`), for handing it the files it must read. */
export function osUserIds(user: string): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, user], { encoding: 'utf8', timeout: 10_000 }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/**
 * Writes pgbackrest.conf for the settings in a new private folder (0700, its files 0600, both
 * handed to `runAs`) under `dir`, RUNNER_TEMP or the OS temp folder. The passphrase is masked
 * before anything is written and travels only in this file, never in argv or the environment.
 */
export function writeConfig(settings: PgBackRestSettings, dir?: string): WrittenConfig {
  registerSecret(settings.cipherPass);
  validateSettings(settings);
  // Our own folder goes through kit's makeTempDir (RUNNER_TEMP, removed on SIGINT/SIGTERM too: it
  // holds the passphrase) unless the caller named a root of its own.
  const temp = dir === undefined && settings.tempRoot === undefined ? makeTempDir('pgbackrest') : undefined;
  const folder = dir ?? temp?.path ?? mkdtempSync(join(tempRoot(settings), 'pgbackrest-'));
  const made = dir === undefined;
  try {
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    const owner = settings.runAs === undefined ? undefined : osUserIds(settings.runAs);
    const lockPath = settings.lockPath ?? join(folder, 'lock');
    for (const sub of ['log', 'spool', ...(settings.lockPath === undefined ? ['lock'] : [])]) {
      mkdirSync(join(folder, sub), { recursive: true, mode: 0o700 });
      if (owner) chownSync(join(folder, sub), owner.uid, owner.gid);
    }
    const path = join(folder, 'pgbackrest.conf');
    writeFileSync(path, renderConfig(settings, folder), { mode: 0o600 });
    if (owner) {
      chownSync(path, owner.uid, owner.gid);
      chownSync(folder, owner.uid, owner.gid);
    }
    return {
      path,
      dir: folder,
      lockPath,
      remove: () => {
        if (temp) temp.remove();
        else if (made) rmSync(folder, { recursive: true, force: true });
        else rmSync(path, { force: true });
      },
    };
  } catch (error) {
    if (temp) temp.remove();
    else if (made) rmSync(folder, { recursive: true, force: true });
    throw error;
  }
}

/**
 * The archive_command for the live cluster's postgresql.conf: pgBackRest's archive-push with a
 * config naming the same repository and passphrase. The config path must be a stable file the
 * cluster's OS user can read (not a temp folder that goes away after the job).
 */
export function archiveCommand(configPath: string, stanza: string, binary = 'pgbackrest'): string {
  if (!/^[A-Za-z0-9_./-]+$/.test(configPath) || !/^[A-Za-z0-9_./-]+$/.test(binary) || !STANZA.test(stanza)) {
    throw new Error(
      'archiveCommand: the config path, binary and stanza must be plain names (the command goes through a shell)',
    );
  }
  return `${binary} --config=${configPath} --stanza=${stanza} archive-push %p`;
}
