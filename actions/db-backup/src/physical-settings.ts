import { isAbsolute, resolve } from 'node:path';
import { InputError, type Inputs } from '@deploy-suite/kit';
import type { Connection } from '@deploy-suite/db';
import { validateSettings, type MariaDbAccess, type PgBackRestSettings } from '@deploy-suite/physical';
import type { Command } from './settings.ts';

export const PG_BACKUP_TYPES = ['full', 'diff', 'incr'] as const;
export const MARIADB_BACKUP_TYPES = ['full', 'incremental'] as const;

/** PostgreSQL through pgBackRest: its repository, stanza and the live cluster on this host. */
export interface PgPhysicalSettings {
  engine: 'postgres';
  type: (typeof PG_BACKUP_TYPES)[number];
  /** restore, verify: recover to this instant instead of the end of the archived WAL. */
  targetTime: Date | undefined;
  /** restore: the named empty folder the cluster is restored into and left stopped. */
  targetDataDir: string | undefined;
  backrest: PgBackRestSettings;
}

/** MariaDB through mariadb-backup and its binary logs, kept in the same store as logical backups. */
export interface MariaDbPhysicalSettings {
  engine: 'mysql';
  type: (typeof MARIADB_BACKUP_TYPES)[number];
  targetTime: Date | undefined;
  /** The server's folder in the store: physical/<database>. */
  prefix: string;
  server: MariaDbAccess;
  binlogDir: string | undefined;
}

export type PhysicalSettings = PgPhysicalSettings | MariaDbPhysicalSettings;

/** An input that only one method reads, with the value the runner passes when it is not set. */
interface MethodInput {
  name: string;
  default?: string;
  /** What to say instead of the generic "applies only to method …". */
  why?: string;
}

/** Inputs only method physical reads; with method logical, a value set is a mistake. */
export const PHYSICAL_ONLY: MethodInput[] = [
  { name: 'type', default: 'full', why: 'logical dumps are always whole; incremental backups are physical' },
  { name: 'target-time', why: 'a logical dump restores to the moment it was taken' },
  { name: 'target-data-dir' },
  { name: 'pgbackrest-repo' },
  { name: 'pgbackrest-stanza', default: 'main' },
  { name: 'repo-passphrase' },
  { name: 'pg-data' },
  { name: 'pg-socket' },
  { name: 'run-as' },
  { name: 'binlog-dir' },
];

const LOGICAL_ONLY_COMMON: MethodInput[] = [
  { name: 'target-database', why: 'a physical restore goes into a scratch copy or target-data-dir' },
  { name: 'scratch-server-url', why: 'a physical restore starts its own scratch server' },
  { name: 'labels' },
  { name: 'backup-id', default: 'latest', why: 'a physical restore reaches the latest point or target-time' },
  { name: 'pg-format', default: 'custom' },
  { name: 'verify', default: 'false', why: 'run command verify (the drill) for physical backups' },
];

/** pgBackRest keeps, encrypts and expires its own repository: the store and age keys do not apply. */
export const PG_PHYSICAL_REFUSES: MethodInput[] = [
  ...LOGICAL_ONLY_COMMON,
  { name: 'store', why: 'pgBackRest keeps physical backups in pgbackrest-repo' },
  { name: 'recipients', why: 'pgBackRest encrypts its repository with repo-passphrase' },
  { name: 'passphrase', why: 'pgBackRest encrypts its repository with repo-passphrase' },
  { name: 'identity', why: 'pgBackRest encrypts its repository with repo-passphrase' },
  { name: 'signing-key', why: "pgBackRest's repository carries its own checksums" },
  { name: 'verify-key', why: "pgBackRest's repository carries its own checksums" },
  { name: 'binlog-dir', why: 'it is for MariaDB' },
];

export const MARIADB_PHYSICAL_REFUSES: MethodInput[] = [
  ...LOGICAL_ONLY_COMMON,
  ...['pgbackrest-repo', 'repo-passphrase', 'pg-data', 'pg-socket', 'run-as'].map((name) => ({
    name,
    why: 'it is for PostgreSQL through pgBackRest',
  })),
  { name: 'pgbackrest-stanza', default: 'main', why: 'it is for PostgreSQL through pgBackRest' },
  { name: 'target-data-dir', why: 'a MariaDB physical restore goes into a scratch copy only' },
];

/** Fails on the first input set (to other than the runner's default) that `method` does not read. */
export function refuseOutsideMethod(inputs: Inputs, method: 'logical' | 'physical', names: MethodInput[]): void {
  for (const input of names) {
    const value = input.default === undefined ? inputs.optional(input.name) : inputs.string(input.name, input.default);
    if (value === undefined || value === input.default) continue;
    throw new InputError(
      input.name,
      `does not apply to method ${method}${input.why === undefined ? '' : ` (${input.why})`}; remove it or set method: ${method === 'logical' ? 'physical' : 'logical'}`,
      method === 'logical' ? 'method: physical' : `method: logical`,
    );
  }
}

function readType<T extends string>(inputs: Inputs, allowed: readonly T[], engine: string): T {
  const value = inputs.string('type', 'full');
  if (!(allowed as readonly string[]).includes(value)) {
    throw new InputError(
      'type',
      `must be ${allowed.join(', ').replace(/, ([^,]*)$/, ' or $1')} for a physical ${engine} backup, got "${value.slice(0, 40)}"`,
      `type: ${allowed.at(-1)}`,
    );
  }
  return value as T;
}

const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;

/** target-time: ISO 8601 with an offset (a time without one means a different instant on each host). */
export function readTargetTime(inputs: Inputs, command: Command, now = Date.now()): Date | undefined {
  const text = inputs.optional('target-time');
  if (text === undefined) return undefined;
  const example = 'target-time: 2026-11-27T14:30:00+01:00';
  if (command !== 'restore' && command !== 'verify')
    throw new InputError('target-time', `applies to restore and verify, not ${command}`, example);
  const time = new Date(text.replace(' ', 'T'));
  if (!ISO_WITH_OFFSET.test(text) || Number.isNaN(time.getTime()))
    throw new InputError(
      'target-time',
      `must be an ISO 8601 time with its offset (Z or +01:00), got "${text.slice(0, 60)}"`,
      example,
    );
  if (time.getTime() > now)
    throw new InputError(
      'target-time',
      `is in the future (${time.toISOString()}, now ${new Date(now).toISOString()}); nothing after now can be recovered`,
      example,
    );
  return time;
}

function absolutePath(inputs: Inputs, name: string, example: string, required: boolean): string | undefined {
  const value = required ? inputs.required(name, { example: `${name}: ${example}` }) : inputs.optional(name);
  if (value === undefined) return undefined;
  if (!isAbsolute(value) || /[\r\n\0]/.test(value))
    throw new InputError(name, `must be an absolute path, got "${value.slice(0, 80)}"`, `${name}: ${example}`);
  return resolve(value);
}

export function readPgPhysicalSettings(inputs: Inputs, command: Command, connection: Connection): PgPhysicalSettings {
  const type = readType(inputs, PG_BACKUP_TYPES, 'PostgreSQL');
  const targetTime = readTargetTime(inputs, command);
  const stanza = inputs.string('pgbackrest-stanza', 'main');
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(stanza))
    throw new InputError(
      'pgbackrest-stanza',
      `must be letters, digits, "_", "-" or ".", got "${stanza.slice(0, 64)}"`,
      'pgbackrest-stanza: main',
    );
  const repoPath = absolutePath(inputs, 'pgbackrest-repo', '/var/lib/pgbackrest', true)!;
  const cipherPass = inputs.secret('repo-passphrase', {
    required: true,
    example: 'repo-passphrase: ${{ secrets.PGBACKREST_REPO_PASSPHRASE }} (the repository is always encrypted)',
  })!;
  if (cipherPass.length < 8 || /[\r\n\0]/.test(cipherPass))
    throw new InputError(
      'repo-passphrase',
      'must be at least 8 characters on one line',
      'repo-passphrase: ${{ secrets.PGBACKREST_REPO_PASSPHRASE }}',
    );
  const pgPath = absolutePath(inputs, 'pg-data', '/var/lib/postgresql/16/main', true)!;
  const pgSocketPath = absolutePath(inputs, 'pg-socket', '/var/run/postgresql', true)!;
  const runAs = inputs.optional('run-as');
  if (runAs !== undefined && !/^[a-z_][a-z0-9_-]{0,31}$/.test(runAs))
    throw new InputError('run-as', `must be an OS user name, got "${runAs.slice(0, 40)}"`, 'run-as: postgres');
  const targetDataDir = absolutePath(inputs, 'target-data-dir', '/var/lib/postgresql/restored', false);
  if (targetDataDir !== undefined) {
    if (command !== 'restore')
      throw new InputError('target-data-dir', `applies to restore, not ${command}`, 'command: restore');
    const confirm = inputs.optional('confirm');
    if (confirm === undefined || resolve(confirm) !== targetDataDir)
      throw new InputError(
        'confirm',
        `must repeat target-data-dir ("${targetDataDir}") to restore into a named folder`,
        `confirm: ${targetDataDir}`,
      );
  }
  const backrest: PgBackRestSettings = {
    stanza,
    repoPath,
    cipherPass,
    pgPath,
    pgPort: connection.port,
    pgSocketPath,
    pgUser: connection.user,
    ...(runAs === undefined ? {} : { runAs }),
    ...(inputs.optional('pg-bin-dir') === undefined ? {} : { pgBinDir: inputs.optional('pg-bin-dir') }),
  };
  try {
    validateSettings(backrest);
  } catch (error) {
    throw new InputError('pgbackrest-repo', `and the settings around it are refused: ${(error as Error).message}`);
  }
  return { engine: 'postgres', type, targetTime, targetDataDir, backrest };
}

export function readMariaDbPhysical(inputs: Inputs, command: Command, connection: Connection): MariaDbPhysicalSettings {
  const type = readType(inputs, MARIADB_BACKUP_TYPES, 'MariaDB');
  const targetTime = readTargetTime(inputs, command);
  if (targetTime !== undefined && targetTime.getTime() % 1000 !== 0)
    throw new InputError(
      'target-time',
      'must be a whole second for MariaDB (binary log events carry whole-second times)',
      `target-time: ${new Date(Math.floor(targetTime.getTime() / 1000) * 1000).toISOString()}`,
    );
  if (!/^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}$/.test(connection.database))
    throw new InputError(
      'database',
      'names the folder physical backups go under (physical/<database>) and must be letters, digits, "_", "-" or "."',
      'database: shop',
    );
  return {
    engine: 'mysql',
    type,
    targetTime,
    prefix: `physical/${connection.database}`,
    server: {
      host: connection.host,
      port: connection.port,
      user: connection.user,
      ...(connection.password === undefined ? {} : { password: connection.password }),
    },
    binlogDir: absolutePath(inputs, 'binlog-dir', '/var/lib/mysql', false),
  };
}
