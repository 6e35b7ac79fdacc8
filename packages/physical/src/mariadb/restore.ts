import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { ConfigurationError, escapeUntrusted, makeTempDir, quoteUntrusted, registerSecret } from '@deploy-suite/kit';
import type { BackupStore, DecryptionSettings } from '@deploy-suite/storage';
import { planReplay } from './binlog.ts';
import { describeIdentity, sameIdentity, type BinlogManifest, type MariaDbBackupManifest } from './manifest.ts';
import { fetchObject } from './objects.ts';
import {
  MariaDbToolError,
  querySql,
  resolveTools,
  spawnTracked,
  startTool,
  writeOptionFile,
  type MariaDbAccess,
  type MariaDbTools,
} from './tools.ts';

export const DEFAULT_RESTORE_TIMEOUT_MS = 60 * 60_000;
const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 30_000;
/** The user the throwaway server is started with, created by its init file (see restoreMariaDb). */
export const VERIFY_USER = 'deploy_suite_verify';

export interface RestoreMariaDbOptions {
  store: BackupStore;
  decryption: DecryptionSettings;
  /** Verified manifests: a full backup, then its increments in order (see chainFor). */
  chain: MariaDbBackupManifest[];
  /** The verified binary log archive (see listBinlogArchive); needed with a target time. */
  binlogs?: { binlogs: BinlogManifest[]; rejected: { name: string; reason: string }[] };
  /**
   * Replay the archived binary logs up to this instant (whole seconds: binary log events carry
   * whole-second times); events at or after it are not applied. Without it, the restored server
   * holds the state at the last backup of the chain.
   */
  targetTime?: Date;
  tools?: MariaDbTools;
  /** Bounds each step (download, prepare, replay); default 1 hour. */
  timeoutMs?: number;
  now?: () => Date;
}

/** A throwaway server on the restored copy, for the caller to verify and then stop. */
export interface RestoredMariaDb {
  port: number;
  socket: string;
  /** A user made for this copy only (all privileges, random password, masked). */
  access: MariaDbAccess & { socket: string; host: '127.0.0.1'; port: number; password: string };
  datadir: string;
  /** The binary log files replayed, in order (empty without a target time). */
  replayed: string[];
  /** What the copy holds: the chain's last backup, replayed up to the target when one was given. */
  recoveredTo: { backupId: string; targetTime: string | null };
  /** Seconds from the start of the restore to a server ready with the replay applied. */
  durationSeconds: number;
  /** Stops the server and removes the copy; safe to call twice. */
  stop: () => Promise<void>;
}

/** The chain must be one full backup, then increments each building on the one before. */
export function checkChain(chain: MariaDbBackupManifest[]): void {
  const [full] = chain;
  if (full === undefined) throw new ConfigurationError('A restore needs at least one backup (a full backup first).');
  if (full.type !== 'full' || full.baseId !== null) {
    throw new ConfigurationError(`A restore chain starts with a full backup; ${full.id} is ${full.type}.`);
  }
  for (let i = 1; i < chain.length; i += 1) {
    const previous = chain[i - 1]!;
    const current = chain[i]!;
    if (current.type !== 'incremental' || current.baseId !== previous.id || current.fromLsn !== previous.toLsn) {
      throw new ConfigurationError(
        `Backup ${current.id} does not build on ${previous.id} (base ${current.baseId ?? 'none'}, from LSN ${current.fromLsn}, the base ends at ${previous.toLsn}).`,
      );
    }
    if (!sameIdentity(current.serverIdentity, previous.serverIdentity)) {
      throw new ConfigurationError(
        `Backup ${current.id} is of ${describeIdentity(current.serverIdentity)}, its base ${previous.id} of another server (${describeIdentity(previous.serverIdentity)}).`,
      );
    }
  }
}

/** Checks a target time against the chain and the clock; returns it as mariadb-binlog reads it (UTC). */
export function checkTargetTime(target: Date, chain: MariaDbBackupManifest[], now: Date): string {
  const time = target.getTime();
  if (!Number.isFinite(time))
    throw new ConfigurationError('The target time is not a valid time. Example: 2026-11-27T14:30:00Z');
  if (time % 1000 !== 0) {
    throw new ConfigurationError(
      `The target time ${target.toISOString()} has a fraction of a second; binary log events carry whole-second times, so give a whole second (for example ${new Date(Math.floor(time / 1000) * 1000).toISOString()}).`,
    );
  }
  if (time > now.getTime()) {
    throw new ConfigurationError(
      `The target time ${target.toISOString()} is in the future (now is ${now.toISOString()}).`,
    );
  }
  const last = chain.at(-1)!;
  if (time < new Date(last.consistentAt).getTime()) {
    throw new ConfigurationError(
      `The target time ${target.toISOString()} is before the data of backup ${last.id} (${last.consistentAt}): choose a later time, or an earlier backup to replay from.`,
    );
  }
  return target
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, '');
}

/** The InnoDB settings a datadir was made with, from the backup's backup-my.cnf, read strictly. */
export function innodbSettings(text: string): string[] {
  const allowed: Record<string, RegExp> = {
    innodb_page_size: /^\d{4,5}$/,
    innodb_data_file_path: /^[A-Za-z0-9_.:;]{1,200}$/,
    innodb_undo_tablespaces: /^\d{1,3}$/,
  };
  const args: string[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-z_]{1,60})=(.{0,200})$/.exec(line.trim());
    if (match === null) continue;
    const [, name, value] = match;
    const pattern = allowed[name!];
    if (pattern === undefined) continue;
    if (!pattern.test(value!))
      throw new ConfigurationError(`backup-my.cnf has an unexpected ${name}: ${quoteUntrusted(value!)}.`);
    args.push(`--${name!.replace(/_/g, '-')}=${value!}`);
  }
  return args;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Restores a chain into a new scratch datadir under RUNNER_TEMP and starts a throwaway server on
 * it; the live server and its datadir are never touched. Everything that can be checked is
 * checked before anything starts: the chain, the target time (not in the future, not before the
 * chain's last backup), the binary log archive (every file from the backup's position to the
 * target present: a gap names the missing file), and the programs. Then each backup is fetched
 * (size and SHA-256 against its signed manifest, decrypted, unpacked), prepared in order
 * (`mariadb-backup --prepare`, with `--incremental-dir` for each increment), a `mariadbd` started on
 * the copy (own socket, a free loopback port, no binary log, no replication, no event scheduler),
 * and the archived binary logs replayed from the backup's position up to the target
 * (`mariadb-binlog --stop-datetime` piped into the `mariadb` client).
 *
 * The server is started with its grant tables on. Verification connects as a user created for
 * this copy by an `--init-file` (a random password, written 0600 and removed once the server is up),
 * not with the source's users: their passwords are not the restore job's to know (root often
 * authenticates by unix socket as another OS user), and --skip-grant-tables would leave every
 * account open and skip the privilege checks the replayed statements run under.
 */
export async function restoreMariaDb(options: RestoreMariaDbOptions): Promise<RestoredMariaDb> {
  const now = options.now ?? (() => new Date());
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? DEFAULT_RESTORE_TIMEOUT_MS;
  checkChain(options.chain);
  const last = options.chain.at(-1)!;
  let stopAt: string | undefined;
  let replay: BinlogManifest[] = [];
  if (options.targetTime !== undefined) {
    stopAt = checkTargetTime(options.targetTime, options.chain, now());
    if (options.binlogs === undefined) {
      throw new ConfigurationError('A restore to a target time needs the binary log archive (listBinlogArchive).');
    }
    replay = planReplay(options.binlogs.binlogs, last.binlog, options.targetTime, options.binlogs.rejected);
  }
  const tools = resolveTools(
    ['mariadb-backup', 'mariadbd', 'mariadb', 'tar', ...(stopAt === undefined ? [] : (['mariadb-binlog'] as const))],
    options.tools,
  );

  const work = makeTempDir('mariadb-restore');
  let stopServer: () => Promise<void> = () => Promise.resolve();
  const stop = async (): Promise<void> => {
    await stopServer();
    work.remove();
  };
  try {
    // The binary logs first: a damaged or missing one fails the restore before any backup is
    // unpacked or a server started.
    const binlogPaths = await fetchBinlogs(options, replay, work.path);
    const datadir = join(work.path, 'data');
    for (const [index, backup] of options.chain.entries()) {
      const dir = index === 0 ? datadir : join(work.path, `increment-${index}`);
      mkdirSync(dir, { mode: 0o700 });
      await unpack(tools.tar, options.store, backup, dir, options.decryption, timeoutMs);
    }
    const prepare = (extra: string[], what: string) =>
      startTool(tools['mariadb-backup'], ['--no-defaults', '--prepare', `--target-dir=${datadir}`, ...extra], {
        what,
        timeoutMs,
      }).done;
    await prepare([], `mariadb-backup --prepare (${options.chain[0]!.id})`);
    for (let index = 1; index < options.chain.length; index += 1) {
      await prepare(
        [`--incremental-dir=${join(work.path, `increment-${index}`)}`],
        `mariadb-backup --prepare --incremental-dir (${options.chain[index]!.id})`,
      );
    }

    const password = randomBytes(18).toString('hex');
    registerSecret(password);
    const socket = join(work.path, 'mysqld.sock');
    const port = await freePort();
    const initFile = work.file(
      'init.sql',
      ['localhost', '127.0.0.1']
        .map(
          (host) =>
            `CREATE OR REPLACE USER '${VERIFY_USER}'@'${host}' IDENTIFIED BY '${password}';\nGRANT ALL PRIVILEGES ON *.* TO '${VERIFY_USER}'@'${host}';\n`,
        )
        .join(''),
    );
    const errorLog = join(work.path, 'mysqld.err');
    const args = [
      '--no-defaults',
      `--datadir=${datadir}`,
      `--socket=${socket}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      `--pid-file=${join(work.path, 'mysqld.pid')}`,
      `--log-error=${errorLog}`,
      `--init-file=${initFile}`,
      '--skip-log-bin',
      '--skip-slave-start',
      '--event-scheduler=DISABLED',
      '--skip-name-resolve',
      '--performance-schema=OFF',
      '--innodb-buffer-pool-size=64M',
      ...innodbSettings(readFileSync(join(datadir, 'backup-my.cnf'), 'utf8').slice(0, 64 * 1024)),
    ];
    // mariadbd refuses to run as root unless told to; as any other user it runs as that user.
    if (process.getuid?.() === 0) args.push('--user=root');
    // Its own process group, killed if the job is cancelled: the copy must not outlive the run.
    const server = spawnTracked(tools.mariadbd, args, { stdio: 'ignore', env: { PATH: process.env.PATH, TZ: 'UTC' } });
    const exited = new Promise<void>((resolve) => server.once('close', () => resolve()));
    server.on('error', () => undefined);
    stopServer = async () => {
      if (server.exitCode === null && server.signalCode === null) {
        server.kill('SIGTERM');
        const timer = setTimeout(() => server.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }
    };
    const access = { socket, host: '127.0.0.1' as const, port, user: VERIFY_USER, password };
    await waitUntilReady(tools.mariadb, access, server, errorLog);
    work.file('init.sql', ''); // the password leaves the disk once the user exists

    if (stopAt !== undefined) {
      await replayBinlogs(tools, binlogPaths, last, stopAt, access, timeoutMs);
    }
    return {
      port,
      socket,
      access,
      datadir,
      replayed: replay.map((b) => b.name),
      recoveredTo: { backupId: last.id, targetTime: options.targetTime?.toISOString() ?? null },
      durationSeconds: (Date.now() - started) / 1000,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function unpack(
  tar: string,
  store: BackupStore,
  backup: MariaDbBackupManifest,
  dir: string,
  decryption: DecryptionSettings,
  timeoutMs: number,
): Promise<void> {
  // The tar is authenticated (its SHA-256 is in the signed manifest) before a byte is unpacked;
  // GNU tar still refuses names with ".." or a leading "/", and keeps no owners from the archive.
  const extract = startTool(
    tar,
    ['--extract', '--file=-', `--directory=${dir}`, '--no-same-owner', '--no-same-permissions', '--no-overwrite-dir'],
    { what: `tar (unpacking backup ${backup.id})`, timeoutMs, stdin: 'pipe' },
  );
  // A fetch that fails (a damaged object, before a byte reaches tar) ends tar at once, rather
  // than leaving it waiting on a stdin that never closes.
  const fetched = fetchObject(
    store,
    backup,
    `Backup ${backup.id}`,
    decryption,
    untilReaderCloses(extract.stdin!),
    timeoutMs,
  ).catch((error: unknown) => {
    extract.stdin!.destroy();
    extract.child.kill('SIGTERM');
    throw error;
  });
  const [fetchResult, tarResult] = await Promise.allSettled([fetched, extract.done]);
  if (fetchResult.status === 'rejected' && (tarResult.status === 'fulfilled' || !isPipeError(fetchResult.reason))) {
    throw fetchResult.reason;
  }
  if (tarResult.status === 'rejected') throw tarResult.reason;
}

/**
 * A sink for tar's stdin. GNU tar exits once it has read the archive's end-of-archive blocks and
 * may leave the record padding after them unread; writing that padding into its closed stdin
 * failed the whole restore (premature close) although tar had unpacked everything. So once the
 * reader has gone, the rest is still taken (the caller hashes every byte against the manifest)
 * and dropped; whether tar succeeded is judged from its own exit.
 */
export function untilReaderCloses(reader: Writable): Writable {
  let open = true;
  const closed = (): void => {
    open = false;
  };
  reader.on('error', closed);
  reader.on('close', closed);
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (!open) return done();
      reader.write(chunk, (error) => {
        if (error) open = false;
        done();
      });
    },
    final(done) {
      if (!open) return done();
      reader.end(() => done());
    },
  });
}

const isPipeError = (error: unknown): boolean => /EPIPE|write after end|premature close/i.test(String(error));

async function waitUntilReady(
  mariadb: string,
  access: MariaDbAccess,
  server: ChildProcess,
  errorLog: string,
): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (server.exitCode !== null || server.signalCode !== null) {
      throw new MariaDbToolError(`mariadbd on the restored copy stopped while starting: ${logTail(errorLog)}`);
    }
    try {
      await querySql(mariadb, { ...access, host: undefined, port: undefined }, 'SELECT 1', {
        what: 'mariadb (waiting for the restored server)',
        timeoutMs: 10_000,
      });
      return;
    } catch {
      if (Date.now() > deadline) {
        throw new MariaDbToolError(
          `mariadbd on the restored copy did not accept connections within ${START_TIMEOUT_MS / 1000} s: ${logTail(errorLog)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

function logTail(path: string): string {
  try {
    return escapeUntrusted(readFileSync(path, 'utf8').slice(-2000), 2000);
  } catch {
    return '(no error log)';
  }
}

async function fetchBinlogs(
  options: RestoreMariaDbOptions,
  replay: BinlogManifest[],
  workPath: string,
): Promise<string[]> {
  const folder = join(workPath, 'binlogs');
  mkdirSync(folder, { mode: 0o700 });
  const paths: string[] = [];
  for (const binlog of replay) {
    const path = join(folder, binlog.name);
    await fetchObject(
      options.store,
      binlog,
      `Binary log ${binlog.name}`,
      options.decryption,
      createWriteStream(path, { mode: 0o600 }),
      options.timeoutMs ?? DEFAULT_RESTORE_TIMEOUT_MS,
    );
    paths.push(path);
  }
  return paths;
}

async function replayBinlogs(
  tools: Record<'mariadb-binlog' | 'mariadb', string>,
  paths: string[],
  last: MariaDbBackupManifest,
  stopAt: string,
  access: MariaDbAccess,
  timeoutMs: number,
): Promise<void> {
  // --start-position applies to the first file only: the backup's consistent point in it.
  const reader = startTool(
    tools['mariadb-binlog'],
    ['--no-defaults', `--start-position=${last.binlog.position}`, `--stop-datetime=${stopAt}`, ...paths],
    { what: 'mariadb-binlog (reading the archived binary logs)', timeoutMs },
  );
  const file = writeOptionFile({ socket: access.socket!, user: access.user, password: access.password! });
  try {
    const client = startTool(tools.mariadb, [`--defaults-extra-file=${file.path}`, '--binary-mode', '--batch'], {
      what: 'mariadb (replaying the binary logs on the restored copy)',
      timeoutMs,
      stdin: 'pipe',
    });
    client.stdin!.on('error', () => undefined); // EPIPE when the client stops early; its exit says why
    reader.stdout.pipe(client.stdin!);
    const [read, applied] = await Promise.allSettled([reader.done, client.done]);
    if (applied.status === 'rejected') {
      reader.child.kill('SIGTERM');
      throw applied.reason;
    }
    if (read.status === 'rejected') throw read.reason;
  } finally {
    file.remove();
  }
}

/**
 * Exact row counts of every base table outside the system schemas on a restored copy, for the
 * verification the caller reports. Names come from the copy (untrusted) and are quoted.
 */
export async function countRestoredRows(
  restored: RestoredMariaDb,
  options: { tools?: MariaDbTools; timeoutMs?: number } = {},
): Promise<Record<string, number>> {
  const { mariadb } = resolveTools(['mariadb'], options.tools);
  const access = { ...restored.access, host: undefined, port: undefined };
  const timeoutMs = options.timeoutMs ?? 10 * 60_000;
  const tables = await querySql(
    mariadb,
    access,
    "SELECT HEX(TABLE_SCHEMA), HEX(TABLE_NAME) FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys') ORDER BY 1, 2",
    { what: 'mariadb (listing the restored tables)', timeoutMs },
  );
  // Hex on the wire: a name with a tab or a newline cannot shift the fields.
  const names = tables.map((row) => {
    if (row.length !== 2 || !row.every((field) => /^([0-9A-F]{2}){1,256}$/.test(field))) {
      throw new MariaDbToolError(
        `The restored server listed an unexpected table row: ${quoteUntrusted(row.join('\t'))}`,
      );
    }
    return row.map((field) => Buffer.from(field, 'hex').toString('utf8')) as [string, string];
  });
  const counts: Record<string, number> = {};
  if (names.length === 0) return counts;
  const ident = (name: string): string => `\`${name.replace(/`/g, '``')}\``;
  const sql = names
    .map(([schema, table], index) => `SELECT ${index}, COUNT(*) FROM ${ident(schema)}.${ident(table)}`)
    .join(' UNION ALL ');
  for (const [index, count] of await querySql(mariadb, access, sql, {
    what: 'mariadb (counting restored rows)',
    timeoutMs,
  })) {
    const table = names[Number(index)];
    const value = Number(count);
    if (table === undefined || !Number.isSafeInteger(value)) {
      throw new MariaDbToolError(
        `The restored server returned an unexpected count row: ${quoteUntrusted(`${index}\t${count}`)}`,
      );
    }
    counts[`${table[0]}.${table[1]}`] = value;
  }
  return counts;
}
