import { spawn } from 'node:child_process';
import {
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { userInfo } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { dirname, join, relative, resolve, isAbsolute } from 'node:path';
import { InputError, jsonForLog, makeTempDir, onCleanup } from '@deploy-suite/kit';
import { archiveCommand, osUserIds, writeConfig, type PgBackRestSettings, type WrittenConfig } from './config.ts';
import { ArchiveGapError, PgBackRestError, RestoreTargetError, WrongPassphraseError } from './errors.ts';
import {
  InfoFormatError,
  parseArchiveListing,
  parseInfo,
  type ArchivedSegment,
  type BackupInfo,
  type BackupType,
  type StanzaInfo,
} from './info.ts';
import { findExecutable, findPgBackRest, killTree, runBounded, toolMessage, waitGone, type RunResult } from './run.ts';
import { DEFAULT_WAL_SEGMENT_SIZE, findGap, parseSegment, type ArchiveGap } from './wal.ts';

export const BACKUP_TYPES: readonly BackupType[] = ['full', 'diff', 'incr'];

/** Time bounds per command, in seconds (each is also capped by the caller's own deadline). */
export interface Timeouts {
  /** info, repo-ls, stanza-create. Default 120. */
  short: number;
  /** check: archive-timeout plus this. Default 120. */
  check: number;
  /** backup and restore (the copy itself). Default 4 h (the RTO). */
  long: number;
  /** verify. Default 1 h. */
  verify: number;
  /** A restored cluster's recovery until it accepts connections. Default 1 h. */
  recovery: number;
}

const DEFAULT_TIMEOUTS: Timeouts = { short: 120, check: 120, long: 4 * 3600, verify: 3600, recovery: 3600 };

export interface PgBackRestOptions {
  timeouts?: Partial<Timeouts>;
  walSegmentSize?: number;
  /**
   * The caller's own deadline (the job step's timeout): every time bound above is capped so that
   * no tool and no recovery wait outlasts it, and nothing new starts once it has passed.
   */
  deadline?: Date;
}

export type RestoreTarget = 'latest' | { time: Date } | { backup: string };

export interface RestoreOptions {
  /** `latest`: replay all archived WAL; `{time}`: stop just before the first commit after it; `{backup}`: that backup alone, consistent. */
  target: RestoreTarget;
  /** A new or empty folder for the restored data (never the live pg1-path). Made 0700 and handed to runAs. */
  into: string;
  /** The port for the restored cluster; default a free loopback port. */
  port?: number;
  /** The clock (tests); default Date.now. */
  now?: () => number;
}

export interface RestoredCluster {
  /** The backup restored from. */
  backup: BackupInfo;
  dataDir: string;
  /**
   * The folder holding the restored tablespaces (`<into>.tablespaces`, made by this run, removed by
   * discard()); null when the backup has none.
   */
  tablespaceDir: string | null;
  /** The restored cluster listens on 127.0.0.1:port and on a socket in socketDir. */
  port: number;
  socketDir: string;
  /** Its server log (in our own folder, removed by stop()). */
  logFile: string;
  /** Seconds from the start of the pgBackRest restore until the cluster accepted connections (the RTO figure). */
  restoreSeconds: number;
  /** Stops the cluster (fast shutdown, bounded) and removes the socket and log folder; leaves dataDir. */
  stop: () => Promise<void>;
  /** stop(), then removes dataDir when this run created it (an existing empty folder is emptied). */
  discard: () => Promise<void>;
}

export interface Freshness {
  /** Seconds from `recoverableUntil` to now: the data a disaster now would lose at most. */
  ageSeconds: number;
  /** The newest backup's label; null when there is none. */
  newestLabel: string | null;
  newestBackupStop: Date | null;
  /**
   * The newest point a restore reaches: the later of the newest backup's stop time and the time
   * pgBackRest stored the newest archived WAL segment of the current timeline (its modification
   * time in the repository, which is at or just after the last record in it; to the second). When
   * the archive has a gap after the newest backup, the stored time of the segment before the gap.
   * Null when nothing is recoverable.
   */
  recoverableUntil: Date | null;
  /** Which of the two gave recoverableUntil. */
  source: 'wal' | 'backup' | null;
  /** The first missing WAL segment counted from the oldest backup's first segment, if any. */
  gap: ArchiveGap | null;
  archive: { min: string | null; max: string | null };
  /** How many segments of the current timeline the repository holds from the oldest backup on. */
  segmentsChecked: number;
}

export interface VerifyReport {
  ok: boolean;
  /** pgBackRest verify's own findings (missing or invalid files, an invalid backup) plus any archive gap. */
  problems: string[];
  /** pgBackRest's text report, escaped, for the summary. */
  report: string;
}

/**
 * One stanza, driven through pgBackRest: a private config (0600, passphrase inside) written by
 * openPgBackRest, every command run with an argument array, bounded in time, as the cluster's OS
 * user. Call close() when done (it removes the config and our temp folder).
 */
export class PgBackRest {
  readonly settings: PgBackRestSettings;
  readonly config: WrittenConfig;
  readonly binary: string;
  private readonly timeouts: Timeouts;
  private readonly walSegmentSize: number;
  private readonly deadline: number | undefined;

  constructor(settings: PgBackRestSettings, options: PgBackRestOptions = {}) {
    this.settings = settings;
    this.binary = findPgBackRest((settings.env ?? process.env).PATH);
    this.config = writeConfig(settings);
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.walSegmentSize = options.walSegmentSize ?? DEFAULT_WAL_SEGMENT_SIZE;
    this.deadline = options.deadline?.getTime();
  }

  /** A time bound capped by the caller's deadline; throws when the deadline has passed. */
  private bounded(command: string, seconds: number): number {
    if (this.deadline === undefined) return seconds;
    const left = Math.floor((this.deadline - Date.now()) / 1000);
    if (left < 1) {
      throw new PgBackRestError(
        command,
        `the step's deadline (${new Date(this.deadline).toISOString()}) has passed; pgbackrest ${command} was not started`,
      );
    }
    return Math.min(seconds, left);
  }

  /** The archive_command the live cluster needs (with a config of its own naming the same repository). */
  static archiveCommand = archiveCommand;

  close(): void {
    this.config.remove();
  }

  private get childEnv(): NodeJS.ProcessEnv {
    const env = this.settings.env ?? process.env;
    return { PATH: env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', TZ: 'UTC' };
  }

  /** Runs `pgbackrest <command>` and returns stdout; any failure becomes a clear PgBackRestError. */
  async run(
    command: string,
    options: string[] = [],
    timeoutSeconds = this.timeouts.short,
    positional: string[] = [],
  ): Promise<string> {
    timeoutSeconds = this.bounded(command, timeoutSeconds);
    const args = [
      `--config=${this.config.path}`,
      `--stanza=${this.settings.stanza}`,
      ...options,
      command,
      ...positional,
    ];
    const result = await runBounded(this.binary, args, {
      runAs: this.settings.runAs,
      timeoutSeconds,
      env: this.childEnv,
    });
    if (result.code !== 0) throw this.failure(command, result, timeoutSeconds);
    return result.stdout;
  }

  private failure(command: string, result: RunResult, timeoutSeconds: number): PgBackRestError {
    if (result.timedOut) {
      return new PgBackRestError(
        command,
        `pgbackrest ${command} did not finish within ${timeoutSeconds} s and was stopped`,
      );
    }
    const code = /ERROR: \[(\d{3})\]/.exec(result.stderr)?.[1];
    const message = toolMessage(result.stderr);
    if (looksLikeWrongPassphrase(result.stderr)) return this.wrongPassphrase(command);
    return new PgBackRestError(
      command,
      `pgbackrest ${command} failed (exit ${result.code}${code === undefined ? '' : `, pgBackRest error ${code}`}): ${message}`,
      code === undefined ? undefined : Number(code),
    );
  }

  private wrongPassphrase(command: string): WrongPassphraseError {
    return new WrongPassphraseError(
      command,
      `pgbackrest ${command}: the repository passphrase does not open the repository at ${jsonForLog(this.settings.repoPath)} ` +
        `(its encrypted info files could not be decrypted). Use the passphrase the stanza was created with.`,
    );
  }

  /** Creates the stanza in the repository (idempotent when it matches the cluster). */
  async stanzaCreate(): Promise<void> {
    await this.run('stanza-create');
  }

  /**
   * `pgbackrest check`: the cluster's archive_command reaches the repository (a WAL switch is
   * archived within archive-timeout) and the configuration matches. Throws PgBackRestError saying so.
   */
  async check(): Promise<void> {
    const timeout = (this.settings.archiveTimeoutSeconds ?? 60) + this.timeouts.check;
    try {
      await this.run('check', [], timeout);
    } catch (error) {
      if (
        error instanceof PgBackRestError &&
        !(error instanceof WrongPassphraseError) &&
        /archive|WAL segment/i.test(error.message)
      ) {
        throw new PgBackRestError(
          'check',
          `WAL archiving does not work: the cluster's archive_command did not get a WAL segment into the repository ` +
            `(see pg_stat_archiver and the server log on the cluster). ${error.message}`,
          error.code,
        );
      }
      throw error;
    }
  }

  /** Takes a backup and returns it as info lists it. An unknown type is refused before anything runs. */
  async backup(options: { type: string }): Promise<BackupInfo> {
    const type = options.type;
    if (!(BACKUP_TYPES as readonly string[]).includes(type)) {
      throw new InputError(
        'type',
        `is ${jsonForLog(type, 40)}, which is not a backup type pgBackRest takes (full, diff or incr)`,
        'incr',
      );
    }
    const before = new Set((await this.info()).backups.map((b) => b.label));
    await this.run('backup', [`--type=${type}`], this.timeouts.long);
    const after = (await this.info()).backups.filter((b) => !before.has(b.label));
    const made = after.at(-1);
    if (made === undefined)
      throw new PgBackRestError('backup', 'pgbackrest backup exited 0 but info lists no new backup');
    return made;
  }

  /** `pgbackrest info --output=json`, validated. */
  async info(): Promise<StanzaInfo> {
    const stdout = await this.run('info', ['--output=json']);
    let parsed: ReturnType<typeof parseInfo>;
    try {
      parsed = parseInfo(stdout, this.settings.stanza);
    } catch (error) {
      // A wrong passphrase decrypts info files into garbage that pgBackRest quotes, unescaped, in
      // its JSON status message, so the JSON itself is broken: recognise the message in the text.
      if (error instanceof InfoFormatError && looksLikeWrongPassphrase(stdout)) throw this.wrongPassphrase('info');
      if (error instanceof InfoFormatError) throw new PgBackRestError('info', error.message);
      throw error;
    }
    const { raw, info } = parsed;
    const repoFailure = raw.repo.find((repo) => repo.status.code !== 0 && repo.status.code !== 2);
    if (repoFailure && looksLikeWrongPassphrase(repoFailure.status.message)) throw this.wrongPassphrase('info');
    if (raw.status.code !== 0 && raw.status.code !== 2) {
      const detail = repoFailure?.status.message ?? raw.status.message;
      throw new PgBackRestError(
        'info',
        `pgbackrest info reports stanza ${jsonForLog(this.settings.stanza)} as not usable (status ${raw.status.code}): ${toolMessage(detail, 600)}`,
      );
    }
    return info;
  }

  /** The archived WAL segments of the current archive id, by name, with the time each was stored. */
  async archivedSegments(info?: StanzaInfo): Promise<ArchivedSegment[]> {
    const current = info ?? (await this.info());
    if (current.archiveId === null) return [];
    const stdout = await this.run('repo-ls', ['--recurse', '--output=json'], this.timeouts.short, [
      `archive/${this.settings.stanza}/${current.archiveId}`,
    ]);
    try {
      return parseArchiveListing(stdout);
    } catch (error) {
      if (error instanceof InfoFormatError) throw new PgBackRestError('repo-ls', error.message);
      throw error;
    }
  }

  /**
   * How fresh the newest recoverable point is, and whether the WAL archive has a gap. See
   * Freshness.recoverableUntil for what the time is read from.
   */
  async freshness(now: Date = new Date()): Promise<Freshness> {
    const info = await this.info();
    const segments = await this.archivedSegments(info);
    return computeFreshness(info, segments, now, this.walSegmentSize);
  }

  /**
   * Restores into a new or empty folder and starts the result on a free port, as runAs, waiting
   * (bounded) until recovery has finished and it accepts connections. Refuses, before anything is
   * written: a target in the future, before the oldest backup's end, or past the archived WAL; a gap
   * in the WAL the restore needs; a non-empty folder or one inside (or holding) the live cluster's.
   */
  async restore(options: RestoreOptions): Promise<RestoredCluster> {
    const now = options.now?.() ?? Date.now();
    const checked = this.checkDataDir(options.into);
    const info = await this.info();
    const segments = await this.archivedSegments(info);
    const fresh = computeFreshness(info, segments, new Date(now), this.walSegmentSize);
    const backup = chooseBackup(info, options.target, now);
    checkTargetReachable(options.target, backup, fresh, segments, info, this.walSegmentSize);
    const into = this.makeDataDir(checked);
    const tablespaces = this.makeTablespaceDir(checked.tablespaces, into);

    const startedAt = performance.now();
    // The restored cluster's socket and log: under RUNNER_TEMP (removed on cancellation too).
    const temp = makeTempDir('pgr');
    const work = temp.path;
    const owner = this.settings.runAs === undefined ? undefined : osUserIds(this.settings.runAs);
    const discardData = () => {
      if (into.created) rmSync(into.path, { recursive: true, force: true });
      else for (const entry of readdirSync(into.path)) rmSync(join(into.path, entry), { recursive: true, force: true });
      rmSync(tablespaces, { recursive: true, force: true });
    };
    try {
      if (owner) chownSync(work, owner.uid, owner.gid);
      // Every tablespace goes under a folder this run made next to the data folder, never to its
      // live location (--pg1-path remaps only the base folder).
      const restoreArgs = [
        `--pg1-path=${into.path}`,
        `--tablespace-map-all=${tablespaces}`,
        `--set=${backup.label}`,
        '--archive-mode=off',
      ];
      const target = options.target;
      if (target === 'latest') restoreArgs.push('--type=default');
      else if ('time' in target)
        restoreArgs.push('--type=time', `--target=${formatTarget(target.time)}`, '--target-action=promote');
      else restoreArgs.push('--type=immediate', '--target-action=promote');
      await this.run('restore', restoreArgs, this.timeouts.long);
      const hasTablespaces = readdirSync(tablespaces).length > 0;
      if (!hasTablespaces) rmSync(tablespaces, { recursive: true, force: true });
      const configArgs = ownConfigWhenMissing(into.path, work, this.settings.runAs, owner);
      const port = options.port ?? (await freeLoopbackPort());
      const binDir = this.settings.pgBinDir ?? `/usr/lib/postgresql/${info.pgVersion ?? ''}/bin`;
      const server = await startCluster({
        postgres: join(binDir, 'postgres'),
        dataDir: into.path,
        port,
        socketDir: work,
        logFile: join(work, 'postgres.log'),
        runAs: this.settings.runAs,
        env: this.childEnv,
        timeoutSeconds: this.bounded('restore', this.timeouts.recovery),
        extraArgs: configArgs,
      });
      const restoreSeconds = (performance.now() - startedAt) / 1000;
      const stop = async () => {
        await server.stop();
        temp.remove();
      };
      return {
        backup,
        dataDir: into.path,
        tablespaceDir: hasTablespaces ? tablespaces : null,
        port,
        socketDir: work,
        logFile: join(work, 'postgres.log'),
        restoreSeconds,
        stop,
        discard: async () => {
          await stop();
          discardData();
        },
      };
    } catch (error) {
      temp.remove();
      discardData();
      throw error;
    }
  }

  /** A new (or existing, empty) data folder for a restore, refused when it is or touches the live one. */
  private checkDataDir(path: string): { path: string; exists: boolean; tablespaces: string } {
    if (!isAbsolute(path)) throw new InputError('into', 'must be an absolute path', '/var/tmp/restore-drill/data');
    const target = resolve(path);
    const live = existsSync(this.settings.pgPath) ? realpathSync(this.settings.pgPath) : resolve(this.settings.pgPath);
    const real = existsSync(target)
      ? realpathSync(target)
      : join(existsSync(dirname(target)) ? realpathSync(dirname(target)) : dirname(target), target.split('/').at(-1)!);
    const inside = (child: string, parent: string) => {
      const rel = relative(parent, child);
      return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
    };
    if (inside(real, live) || inside(live, real)) {
      throw new InputError(
        'into',
        `${jsonForLog(path)} is or overlaps the live cluster's data folder; restore into a new folder`,
        '/var/tmp/restore-drill/data',
      );
    }
    const repo = existsSync(this.settings.repoPath)
      ? realpathSync(this.settings.repoPath)
      : resolve(this.settings.repoPath);
    const tablespaces = `${real}.tablespaces`;
    for (const folder of [real, tablespaces]) {
      if (inside(folder, repo) || inside(repo, folder)) {
        throw new InputError(
          'into',
          `${jsonForLog(path)} is or overlaps the pgBackRest repository ${jsonForLog(this.settings.repoPath)}; restore into a new folder`,
          '/var/tmp/restore-drill/data',
        );
      }
      if (inside(tablespaces, live) || inside(live, tablespaces)) {
        throw new InputError('into', `${jsonForLog(path)}: its tablespace folder overlaps the live data folder`);
      }
    }
    if (existsSync(tablespaces)) {
      throw new InputError(
        'into',
        `${jsonForLog(tablespaces)} exists; the restored tablespaces go into a new folder next to ${jsonForLog(path)} (remove it or choose another folder)`,
        '/var/tmp/restore-drill/data',
      );
    }
    if (existsSync(target)) {
      if (!statSync(target).isDirectory())
        throw new InputError('into', `${jsonForLog(path)} exists and is not a folder`);
      if (readdirSync(target).length > 0) {
        throw new InputError(
          'into',
          `${jsonForLog(path)} is not empty; a restore goes into a new or empty folder (nothing there is overwritten)`,
          '/var/tmp/restore-drill/data',
        );
      }
      return { path: target, exists: true, tablespaces };
    }
    return { path: target, exists: false, tablespaces };
  }

  /** Makes the (new) folder the restored tablespaces go into, 0700, handed to runAs. */
  private makeTablespaceDir(path: string, into: { path: string; created: boolean }): string {
    try {
      mkdirSync(path, { mode: 0o700 });
      if (this.settings.runAs !== undefined) {
        const owner = osUserIds(this.settings.runAs);
        chownSync(path, owner.uid, owner.gid);
      }
    } catch (error) {
      if (into.created) rmSync(into.path, { recursive: true, force: true });
      throw error;
    }
    return path;
  }

  /** Makes the checked folder (or re-checks the existing one is still empty) and hands it to runAs. */
  private makeDataDir(checked: { path: string; exists: boolean }): { path: string; created: boolean } {
    const target = checked.path;
    let created = false;
    if (checked.exists) {
      if (readdirSync(target).length > 0) throw new InputError('into', `${jsonForLog(target)} is not empty`);
    } else {
      mkdirSync(target, { mode: 0o700 });
      created = true;
    }
    if (this.settings.runAs !== undefined) {
      const owner = osUserIds(this.settings.runAs);
      chownSync(target, owner.uid, owner.gid);
    }
    return { path: target, created };
  }

  /**
   * `pgbackrest verify` (checksums and sizes of every backup file and archived WAL segment) plus
   * our own gap check of the archive, which verify does not report. ok only when both are clean.
   */
  async verify(now: Date = new Date()): Promise<VerifyReport> {
    const problems: string[] = [];
    let report = '';
    try {
      report = await this.run('verify', ['--output=text', '--verbose'], this.timeouts.verify);
    } catch (error) {
      if (!(error instanceof PgBackRestError) || error instanceof WrongPassphraseError || error.code === undefined)
        throw error;
      problems.push(error.message);
    }
    problems.push(...parseVerifyReport(report));
    const fresh = await this.freshness(now);
    if (fresh.gap !== null)
      problems.push(`WAL archive gap: segment ${fresh.gap.missing} is missing (after ${fresh.gap.after})`);
    return { ok: problems.length === 0, problems, report: toolMessage(report, 8000) };
  }
}

/** Opens a stanza: checks pgbackrest is installed, writes the private config. */
export function openPgBackRest(settings: PgBackRestSettings, options: PgBackRestOptions = {}): PgBackRest {
  return new PgBackRest(settings, options);
}

function looksLikeWrongPassphrase(stderr: string): boolean {
  return /unable to load info file/i.test(stderr) && /(FormatError|CryptoError|decrypt|cipher)/i.test(stderr);
}

/** pgBackRest's verify text: problems are the non-zero counts and any status other than ok/valid. */
export function parseVerifyReport(report: string): string[] {
  const problems: string[] = [];
  let subject = '';
  for (const line of report.split('\n')) {
    const trimmed = line.trim();
    const status = /^status: (.+)$/.exec(trimmed);
    if (status && status[1] !== 'ok') problems.push(`verify status: ${toolMessage(status[1]!, 200)}`);
    const head = /^(archiveId: [^,]+|backup: [^,]+)(?:, status: ([^,]+))?/.exec(trimmed);
    if (head) {
      subject = head[1]!;
      if (head[2] !== undefined && head[2] !== 'valid')
        problems.push(`${toolMessage(subject, 200)}: ${toolMessage(head[2], 200)}`);
    }
    const counts = /^missing: (\d+), checksum invalid: (\d+), size invalid: (\d+), other: (\d+)$/.exec(trimmed);
    if (counts && counts.slice(1).some((n) => n !== '0')) {
      problems.push(`${toolMessage(subject, 200)}: ${toolMessage(trimmed, 200)}`);
    }
  }
  return problems;
}

/**
 * The freshness gate's decision, failing closed: no recoverable point, an age that is not a
 * number, an age over the limit, or a gap in the archive each give a reason; ok only with none.
 */
export function freshnessVerdict(fresh: Freshness, maxAgeSeconds: number): { ok: boolean; reasons: string[] } {
  const reasons: string[] = [];
  if (!Number.isFinite(maxAgeSeconds) || maxAgeSeconds <= 0) reasons.push('the maximum age is not a positive number');
  if (fresh.recoverableUntil === null) reasons.push('nothing is recoverable: the repository holds no backup');
  else if (!Number.isFinite(fresh.ageSeconds)) reasons.push('the age of the newest recoverable point is unknown');
  else if (!(fresh.ageSeconds <= maxAgeSeconds)) {
    reasons.push(
      `the newest recoverable point (${fresh.recoverableUntil.toISOString()}) is ${fresh.ageSeconds} s old, over the ${maxAgeSeconds} s allowed`,
    );
  }
  if (fresh.gap !== null) reasons.push(`the WAL archive has a gap: segment ${fresh.gap.missing} is missing`);
  return { ok: reasons.length === 0, reasons };
}

export function computeFreshness(
  info: StanzaInfo,
  segments: ArchivedSegment[],
  now: Date,
  walSegmentSize = DEFAULT_WAL_SEGMENT_SIZE,
): Freshness {
  const newest = info.backups.at(-1);
  const oldest = info.backups[0];
  const max = info.archive.max;
  const timeline = max === null ? undefined : parseSegment(max, walSegmentSize).timeline;
  const onTimeline =
    timeline === undefined ? [] : segments.filter((s) => parseSegment(s.name, walSegmentSize).timeline === timeline);
  const from = oldest?.walStart ?? undefined;
  const gap =
    timeline === undefined
      ? undefined
      : findGap(
          onTimeline.map((s) => s.name),
          timeline,
          from ?? undefined,
          walSegmentSize,
        );
  const fromNumber = from === undefined || from === null ? undefined : parseSegment(from, walSegmentSize);
  const counted = onTimeline.filter(
    (s) =>
      fromNumber === undefined ||
      fromNumber.timeline !== timeline ||
      parseSegment(s.name, walSegmentSize).number >= fromNumber.number,
  );
  // WAL counts up to the last segment before any gap.
  const usable = gap === undefined ? counted : counted.filter((s) => s.name < gap.missing);
  const newestWal = usable.reduce<Date | undefined>(
    (a, s) => (a === undefined || s.storedAt > a ? s.storedAt : a),
    undefined,
  );
  let recoverableUntil: Date | null = null;
  let source: Freshness['source'] = null;
  if (newest !== undefined) {
    recoverableUntil = newest.stop;
    source = 'backup';
    if (newestWal !== undefined && newestWal > newest.stop) {
      recoverableUntil = newestWal;
      source = 'wal';
    }
  }
  return {
    ageSeconds:
      recoverableUntil === null
        ? Number.POSITIVE_INFINITY
        : Math.max(0, Math.round((now.getTime() - recoverableUntil.getTime()) / 1000)),
    newestLabel: newest?.label ?? null,
    newestBackupStop: newest?.stop ?? null,
    recoverableUntil,
    source,
    gap: gap ?? null,
    archive: info.archive,
    segmentsChecked: counted.length,
  };
}

function chooseBackup(info: StanzaInfo, target: RestoreTarget, now: number): BackupInfo {
  if (info.backups.length === 0)
    throw new RestoreTargetError('the repository holds no backup of this stanza to restore');
  if (target === 'latest') return info.backups.at(-1)!;
  if ('backup' in target) {
    const found = info.backups.find((b) => b.label === target.backup);
    if (!found)
      throw new RestoreTargetError(
        `no backup labelled ${jsonForLog(target.backup, 60)}; pgbackrest info lists ${info.backups.map((b) => b.label).join(', ')}`,
      );
    return found;
  }
  const time = target.time;
  if (!(time instanceof Date) || Number.isNaN(time.getTime()))
    throw new RestoreTargetError('the target time is not a valid time');
  if (time.getTime() > now) {
    throw new RestoreTargetError(
      `the target time ${time.toISOString()} is in the future (now ${new Date(now).toISOString()})`,
    );
  }
  const candidates = info.backups.filter((b) => b.stop.getTime() <= time.getTime());
  const chosen = candidates.at(-1);
  if (chosen === undefined) {
    const oldest = info.backups[0]!;
    throw new RestoreTargetError(
      `the target time ${time.toISOString()} is before the oldest backup (${oldest.label}, which ended ${oldest.stop.toISOString()}); ` +
        `the earliest time a restore reaches is its end`,
    );
  }
  return chosen;
}

function checkTargetReachable(
  target: RestoreTarget,
  backup: BackupInfo,
  fresh: Freshness,
  segments: ArchivedSegment[],
  info: StanzaInfo,
  walSegmentSize: number,
): void {
  // Every segment from the chosen backup's first one on must be present up to the target: the
  // backup's own WAL (start to stop) whatever the target, then all of it for latest, and up to
  // the target time for a time. The gap counted from this backup (not from the oldest one, whose
  // first gap may lie before this backup and hide a later one).
  const gap =
    backup.walStart === null
      ? undefined
      : findGap(
          segments.map((s) => s.name),
          parseSegment(backup.walStart, walSegmentSize).timeline,
          backup.walStart,
          walSegmentSize,
        );
  if (gap === undefined) {
    // No gap from the backup on: only the time checks below.
  } else if (
    backup.walStop === null ||
    parseSegment(gap.missing, walSegmentSize).number <= parseSegment(backup.walStop, walSegmentSize).number
  ) {
    throw gapError(gap, `backup ${backup.label} needs it to be consistent`);
  } else if (typeof target === 'object' && 'backup' in target) {
    return;
  } else if (target === 'latest') {
    throw gapError(gap, 'a restore to the latest point would stop silently at the gap');
  } else {
    const before = segments.find((s) => s.name === gap.after);
    // Fail closed: a target at or after the time the segment before the gap was stored needs the missing one.
    if (before === undefined || target.time.getTime() >= before.storedAt.getTime() - 1000) {
      throw gapError(gap, `a restore to ${target.time.toISOString()} needs WAL past it`);
    }
  }
  if (typeof target === 'object' && 'backup' in target) return;
  if (
    target !== 'latest' &&
    fresh.recoverableUntil !== null &&
    target.time.getTime() >= fresh.recoverableUntil.getTime()
  ) {
    throw new RestoreTargetError(
      `the target time ${target.time.toISOString()} is past the newest archived WAL (stored ${fresh.recoverableUntil.toISOString()}, ` +
        `archive ends at ${info.archive.max ?? 'none'}); PostgreSQL could not prove it reached the target. Wait for archiving ` +
        `(or run SELECT pg_switch_wal() on the cluster) and try again`,
    );
  }
}

function gapError(gap: ArchiveGap, why: string): ArchiveGapError {
  return new ArchiveGapError(
    `the WAL archive has a gap: segment ${gap.missing} is missing (the repository holds ${gap.after} and then ${gap.before}); ${why}. ` +
      `Nothing was restored. Take a new full backup to start a complete chain`,
    gap.missing,
  );
}

/** recovery_target_time as PostgreSQL reads it, in UTC with milliseconds. */
export function formatTarget(time: Date): string {
  const iso = time.toISOString(); // 2026-11-27T16:00:50.123Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}+00`;
}

async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', done);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

interface StartOptions {
  postgres: string;
  dataDir: string;
  port: number;
  socketDir: string;
  logFile: string;
  runAs: string | undefined;
  env: NodeJS.ProcessEnv;
  timeoutSeconds: number;
  /** More server options (`-c config_file=…` for a data folder without its config). */
  extraArgs: string[];
}

/**
 * The Debian layout keeps postgresql.conf, pg_hba.conf and pg_ident.conf in /etc/postgresql, outside
 * the data folder pgBackRest restores. When any of them is missing from the restored folder, a
 * minimal set written by this run (into `work`, 0600, owned by runAs) is used instead: no setting
 * of the source's (the restored postgresql.auto.conf still applies, with pgBackRest's
 * restore_command), local connections trusted for the OS user only (the socket folder is private
 * to it), password logins on 127.0.0.1 only. Returns the server options naming them, or none.
 */
export function ownConfigWhenMissing(
  dataDir: string,
  work: string,
  runAs: string | undefined,
  owner: { uid: number; gid: number } | undefined,
): string[] {
  const names = ['postgresql.conf', 'pg_hba.conf', 'pg_ident.conf'];
  if (names.every((name) => existsSync(join(dataDir, name)))) return [];
  const osUser = runAs ?? userInfo().username;
  const files: Record<string, string> = {
    'postgresql.conf': [
      '# Written for a restored copy: the source keeps its configuration outside the data folder.',
      "listen_addresses = '127.0.0.1'",
      '',
    ].join('\n'),
    'pg_hba.conf': [
      ...(/^[a-z_][a-z0-9_-]{0,31}$/.test(osUser) ? [`local all ${osUser} trust`] : []),
      'host all all 127.0.0.1/32 md5',
      '',
    ].join('\n'),
    'pg_ident.conf': '',
  };
  const args: string[] = [];
  for (const [name, text] of Object.entries(files)) {
    const path = join(work, name);
    writeFileSync(path, text, { mode: 0o600 });
    if (owner) chownSync(path, owner.uid, owner.gid);
    const setting = { 'postgresql.conf': 'config_file', 'pg_hba.conf': 'hba_file', 'pg_ident.conf': 'ident_file' }[
      name
    ]!;
    args.push('-c', `${setting}=${path}`);
  }
  return args;
}

/**
 * Starts `postgres` on a restored data folder (not through pg_ctl, whose -o goes through a shell),
 * archiving off so the copy never writes into the repository, without logical replication workers,
 * preloaded libraries or a primary to connect to, hot_standby off so it accepts
 * connections only once recovery has finished and it is promoted. Waits, bounded, for
 * pg_isready; a server that exits first (a recovery that could not reach its target) is reported
 * with the end of its log.
 */
async function startCluster(options: StartOptions): Promise<{ stop: () => Promise<void> }> {
  if (findExecutable(options.postgres, undefined) === undefined) {
    throw new PgBackRestError(
      'restore',
      `PostgreSQL's server binary ${jsonForLog(options.postgres)} was not found; set pgBinDir to the folder holding postgres of the backed-up major version`,
    );
  }
  const log = openSync(options.logFile, 'a', 0o600);
  if (options.runAs !== undefined) {
    const owner = osUserIds(options.runAs);
    chownSync(options.logFile, owner.uid, owner.gid);
  }
  const serverArgs = [
    '-D',
    options.dataDir,
    '-p',
    String(options.port),
    '-k',
    options.socketDir,
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'archive_mode=off',
    '-c',
    'hot_standby=off',
    // The copy must not act on the outside world: no subscription apply workers (they would
    // consume the live publisher's slot), no preloaded libraries (pg_cron and other background
    // workers), no replication connection to a primary, no wait for synchronous standbys.
    '-c',
    'max_logical_replication_workers=0',
    '-c',
    'shared_preload_libraries=',
    '-c',
    'primary_conninfo=',
    '-c',
    'primary_slot_name=',
    '-c',
    'synchronous_standby_names=',
    ...options.extraArgs,
  ];
  const runuser = options.runAs === undefined ? undefined : findExecutable('runuser', options.env.PATH, true);
  if (options.runAs !== undefined && runuser === undefined) throw new Error('runuser (util-linux) was not found');
  const [file, ...args] =
    runuser === undefined
      ? [options.postgres, ...serverArgs]
      : [runuser, '-u', options.runAs!, '--', options.postgres, ...serverArgs];
  const child = spawn(file, args, { env: options.env, stdio: ['ignore', log, log], detached: true });
  closeSync(log);
  const exited = new Promise<number>((done) => {
    child.on('error', () => done(-1));
    child.on('exit', (code, signal) => done(code ?? (signal ? 128 : -1)));
  });
  let alive = true;
  // A cancelled job (SIGINT/SIGTERM) must not leave a copy of production data serving on loopback:
  // immediate shutdown of the postmaster (it stops its children), then SIGKILL to what is left.
  const forget = onCleanup(() => {
    const pid = postmasterPid();
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGQUIT');
      } catch {
        // gone
      }
      waitGone(pid, 5000);
    }
    killTree(child.pid, 'SIGKILL');
  });
  void exited.then(() => {
    alive = false;
    forget();
  });
  const logTail = () => {
    try {
      return toolMessage(readFileSync(options.logFile, 'utf8').slice(-3000), 3000);
    } catch {
      return 'no log';
    }
  };
  const postmasterPid = (): number | undefined => {
    try {
      const pid = Number(readFileSync(join(options.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  };
  const stop = async () => {
    if (!alive) return;
    const pid = postmasterPid();
    const signal = (sig: NodeJS.Signals) => {
      try {
        if (pid !== undefined) process.kill(pid, sig);
        else child.kill(sig);
      } catch {
        // already gone
      }
    };
    signal('SIGINT'); // fast shutdown
    const escalate = setTimeout(() => signal('SIGQUIT'), 60_000);
    const last = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    }, 90_000);
    await exited;
    clearTimeout(escalate);
    clearTimeout(last);
  };
  const pgIsReady = join(dirname(options.postgres), 'pg_isready');
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  for (;;) {
    if (!alive) {
      throw new PgBackRestError(
        'restore',
        `the restored cluster stopped before it accepted connections (recovery failed): ${logTail()}`,
      );
    }
    const ready = await runBounded(pgIsReady, ['-q', '-h', options.socketDir, '-p', String(options.port)], {
      timeoutSeconds: 10,
      env: options.env,
    });
    if (ready.code === 0) return { stop };
    if (Date.now() > deadline) {
      await stop();
      throw new PgBackRestError(
        'restore',
        `the restored cluster did not accept connections within ${options.timeoutSeconds} s: ${logTail()}`,
      );
    }
    await new Promise((done) => setTimeout(done, 200));
  }
}
