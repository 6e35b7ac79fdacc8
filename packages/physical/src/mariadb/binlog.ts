import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { ConfigurationError, quoteUntrusted } from '@deploy-suite/kit';
import type { BackupStore, ManifestSigner, ManifestVerifier } from '@deploy-suite/storage';
import {
  BINLOG_FORMAT,
  BINLOG_NAME,
  binlogManifestKey,
  binlogManifestSchema,
  binlogsFolder,
  checkPrefix,
  objectSuffix,
  readSignedManifest,
  writeSignedManifest,
  type BinlogManifest,
} from './manifest.ts';
import { uploadObject, type PhysicalStoreSettings } from './objects.ts';
import {
  describeAccess,
  MariaDbToolError,
  querySql,
  resolveTools,
  startTool,
  type MariaDbAccess,
  type MariaDbTools,
} from './tools.ts';

const QUERY_TIMEOUT_MS = 60_000;
export const DEFAULT_ARCHIVE_TIMEOUT_MS = 30 * 60_000;

export interface ArchiveBinlogsOptions extends PhysicalStoreSettings {
  server: MariaDbAccess;
  signer: ManifestSigner;
  /** Verifies manifests already in the archive (a file archived before is skipped, not re-sent). */
  verifier: ManifestVerifier;
  /** Where the server's binary log files are; default: the folder of @@log_bin_basename. */
  binlogDir?: string;
  tools?: MariaDbTools;
  timeoutMs?: number;
  now?: () => Date;
}

export interface ArchiveBinlogsResult {
  /** Files copied by this run, oldest first. */
  archived: BinlogManifest[];
  /** Closed files already in the archive with the same size and content. */
  alreadyArchived: string[];
  /** The last event time of the newest archived file: the end of what a restore can reach. */
  recoverableUntil: string | undefined;
}

/** A line of `SHOW BINARY LOGS`: name and size, validated. */
function parseBinaryLogs(rows: string[][]): { name: string; bytes: number }[] {
  return rows.map((row) => {
    const [name, size] = row;
    const bytes = Number(size);
    if (
      name === undefined ||
      !BINLOG_NAME.test(name) ||
      !/^\d{1,15}$/.test(size ?? '') ||
      !Number.isSafeInteger(bytes)
    ) {
      throw new ConfigurationError(`SHOW BINARY LOGS returned an unexpected row: ${quoteUntrusted(row.join('\t'))}.`);
    }
    return { name, bytes };
  });
}

/**
 * Copies the server's closed binary logs to the store: `FLUSH BINARY LOGS` closes the current
 * file, `SHOW BINARY LOGS` lists them, and every file but the (new) active one that is not yet in
 * the archive is read from the binlog folder (exactly the size the server reported), its first and
 * last event times read with mariadb-binlog, then streamed through compression and encryption into
 * the store with a signed manifest written after the verified upload. Files go oldest first, so
 * a failure leaves the archive a contiguous prefix.
 */
export async function archiveBinlogs(options: ArchiveBinlogsOptions): Promise<ArchiveBinlogsResult> {
  checkPrefix(options.prefix);
  const now = options.now ?? (() => new Date());
  const timeoutMs = options.timeoutMs ?? DEFAULT_ARCHIVE_TIMEOUT_MS;
  const tools = resolveTools(['mariadb', 'mariadb-binlog'], options.tools);
  const query = (sql: string, what: string) =>
    querySql(tools.mariadb, options.server, sql, { what: `mariadb (${what})`, timeoutMs: QUERY_TIMEOUT_MS });

  const basenameRows = await query('SELECT @@log_bin, @@log_bin_basename', 'reading log_bin');
  const [logBin, logBinBasename] = basenameRows[0] ?? [];
  if (logBin !== '1' || logBinBasename === undefined || logBinBasename === 'NULL') {
    throw new ConfigurationError(
      'The server does not write binary logs (log_bin is off): there is nothing to archive. Start it with log_bin and binlog_format=ROW for point-in-time recovery.',
    );
  }
  const folder = options.binlogDir ?? dirname(logBinBasename);
  if (!isAbsolute(folder))
    throw new ConfigurationError(`The binary log folder ${quoteUntrusted(folder)} is not an absolute path.`);
  const files = parseBinaryLogs(await query('FLUSH BINARY LOGS; SHOW BINARY LOGS', 'flushing and listing binary logs'));
  const closed = files.slice(0, -1);

  const archived: BinlogManifest[] = [];
  const alreadyArchived: string[] = [];
  let recoverableUntil: string | undefined;
  for (const file of closed) {
    const manifestKey = binlogManifestKey(options.prefix, file.name);
    const existing = await readSignedManifest(
      options.store,
      manifestKey,
      binlogManifestSchema,
      options.verifier,
      (m) => m.name === file.name,
    );
    if (existing !== undefined) {
      if (existing.plain.bytes !== file.bytes) {
        throw new ConfigurationError(
          `The archive already holds a different ${file.name} (${existing.plain.bytes} bytes, the server's has ${file.bytes}): was the binary log reset (RESET MASTER)? Archive this server under a new prefix.`,
        );
      }
      alreadyArchived.push(file.name);
      recoverableUntil = existing.lastEventAt;
      continue;
    }
    const path = join(folder, file.name);
    const times = await eventTimes(tools['mariadb-binlog'], path, timeoutMs);
    // O_NOFOLLOW: the file is read as the server wrote it, never through a planted link.
    const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    const stat = await handle.stat();
    if (!stat.isFile() || stat.size < file.bytes) {
      await handle.close();
      throw new ConfigurationError(`${path} holds ${stat.size} bytes, the server reported ${file.bytes}.`);
    }
    const source = handle.createReadStream({ start: 0, end: file.bytes - 1 });
    const key = `${binlogsFolder(options.prefix)}${file.name}${objectSuffix(options.compression?.algorithm ?? 'zstd', options.encryption.kind !== 'none')}`;
    const stored = await uploadObject(options, key, source, Promise.resolve(), timeoutMs);
    if (stored.plain.bytes !== file.bytes) {
      await options.store.remove(key);
      throw new ConfigurationError(
        `${file.name}: ${stored.plain.bytes} bytes were read, the server reported ${file.bytes}.`,
      );
    }
    const manifest = binlogManifestSchema.parse({
      format: BINLOG_FORMAT,
      kind: 'mariadb-binlog',
      name: file.name,
      firstEventAt: times.first,
      lastEventAt: times.last,
      source: describeAccess(options.server),
      archivedAt: now().toISOString(),
      ...stored,
    } satisfies BinlogManifest);
    await writeSignedManifest(options.store, manifestKey, manifest, options.signer);
    archived.push(manifest);
    recoverableUntil = manifest.lastEventAt;
  }
  return { archived, alreadyArchived, recoverableUntil };
}

/**
 * The times of a binary log's first and last events, from mariadb-binlog's event headers
 * (`#YYMMDD HH:MM:SS server id …`, printed in UTC as the tool runs with TZ=UTC). The output is
 * untrusted and may be large: it is scanned as it streams, keeping only a bounded tail.
 */
export async function eventTimes(
  mariadbBinlog: string,
  path: string,
  timeoutMs: number,
): Promise<{ first: string; last: string }> {
  const running = startTool(mariadbBinlog, ['--no-defaults', '--base64-output=decode-rows', path], {
    what: `mariadb-binlog (reading the event times of ${basename(path)})`,
    timeoutMs,
  });
  return collectTimes(running, path);
}

async function collectTimes(
  running: ReturnType<typeof startTool>,
  path: string,
): Promise<{ first: string; last: string }> {
  let first: string | undefined;
  let last: string | undefined;
  let carry = '';
  const scan = (line: string): void => {
    const time = headerTime(line);
    if (time === undefined) return;
    first ??= time;
    last = time;
  };
  for await (const chunk of running.stdout as AsyncIterable<Buffer>) {
    const lines = (carry + chunk.toString('latin1')).split('\n');
    carry = (lines.pop() ?? '').slice(0, 4096);
    for (const line of lines) if (line.startsWith('#')) scan(line);
  }
  scan(carry);
  await running.done;
  if (first === undefined || last === undefined) {
    throw new MariaDbToolError(`mariadb-binlog printed no event in ${basename(path)}: is it a binary log?`);
  }
  return { first, last };
}

/** `#261127 16:01:29 server id 1 …` → ISO time, or undefined for any other line. */
export function headerTime(line: string): string | undefined {
  const match = /^#(\d{2})(\d{2})(\d{2}) ([ \d]\d):(\d{2}):(\d{2}) server id \d+/.exec(line);
  if (match === null) return undefined;
  const [, yy, mo, dd, hh, mi, ss] = match;
  const iso = `20${yy}-${mo}-${dd}T${hh!.trim().padStart(2, '0')}:${mi}:${ss}.000Z`;
  const time = new Date(iso);
  return Number.isFinite(time.getTime()) && time.toISOString() === iso ? iso : undefined;
}

export const binlogSequence = (name: string): number => Number(BINLOG_NAME.exec(name)![1]);
const binlogStem = (name: string): string => name.slice(0, name.lastIndexOf('.'));

/**
 * Every archived binary log whose manifest verifies, in sequence order; manifests that do not
 * verify are listed apart (a restore that needs one of them reports it by name).
 */
export async function listBinlogArchive(
  store: BackupStore,
  prefix: string,
  verifier: ManifestVerifier,
): Promise<{ binlogs: BinlogManifest[]; rejected: { name: string; reason: string }[] }> {
  checkPrefix(prefix);
  const binlogs: BinlogManifest[] = [];
  const rejected: { name: string; reason: string }[] = [];
  for (const key of await store.list(binlogsFolder(prefix))) {
    const match = /^([^/]+)\.manifest\.json$/.exec(key.slice(binlogsFolder(prefix).length));
    if (match === null || !BINLOG_NAME.test(match[1]!)) continue;
    try {
      const manifest = await readSignedManifest(store, key, binlogManifestSchema, verifier, (m) => m.name === match[1]);
      if (manifest !== undefined) binlogs.push(manifest);
    } catch (error) {
      if (!(error instanceof ConfigurationError)) throw error;
      rejected.push({ name: match[1]!, reason: error.message });
    }
  }
  binlogs.sort((a, b) => binlogSequence(a.name) - binlogSequence(b.name));
  return { binlogs, rejected };
}

/** A restore needs a binary log the archive lacks. */
export class BinlogGapError extends ConfigurationError {
  override name = 'BinlogGapError';
}

/**
 * The archived files a replay from `start` up to `target` reads, checked before anything starts:
 * from the backup's own file, every following sequence number present, up to the first file whose
 * last event is at or past the target. A missing file is a BinlogGapError naming it.
 */
export function planReplay(
  binlogs: BinlogManifest[],
  start: { file: string },
  target: Date,
  rejected: { name: string; reason: string }[] = [],
): BinlogManifest[] {
  const stem = binlogStem(start.file);
  const byName = new Map(binlogs.filter((b) => binlogStem(b.name) === stem).map((b) => [b.name, b]));
  const width = start.file.length - stem.length - 1;
  const plan: BinlogManifest[] = [];
  const newest = [...byName.values()].reduce((max, b) => Math.max(max, binlogSequence(b.name)), 0);
  for (let sequence = binlogSequence(start.file); ; sequence += 1) {
    const name = `${stem}.${String(sequence).padStart(width, '0')}`;
    const entry = byName.get(name);
    if (entry === undefined) {
      if (sequence > newest) {
        const end = plan.at(-1)?.lastEventAt;
        throw new BinlogGapError(
          `The binary log archive ends ${end === undefined ? `before ${name}` : `at ${end} (${plan.at(-1)!.name})`}, before the target time ${target.toISOString()}: archive newer binary logs first, or choose an earlier time.`,
        );
      }
      const why = rejected.find((r) => r.name === name);
      throw new BinlogGapError(
        `The binary log archive has a gap: ${name} is ${why === undefined ? 'missing' : `not usable (${why.reason})`}, and the replay from ${start.file} to ${target.toISOString()} needs it. Nothing was restored.`,
      );
    }
    plan.push(entry);
    if (new Date(entry.lastEventAt).getTime() >= target.getTime()) return plan;
  }
}

/**
 * What the archive covers from a backup's binary log position, for a freshness gate: the newest
 * instant a restore can reach without a gap (`recoverableUntil`, the last event of the last file
 * in an unbroken run from the backup's own file), and every file missing inside the archive's
 * range. A gap caps `recoverableUntil`; with the backup's own file missing there is no point
 * beyond the backup itself (undefined).
 */
export function archiveCoverage(
  binlogs: BinlogManifest[],
  start: { file: string },
): { recoverableUntil: string | undefined; newest: string | undefined; gaps: string[] } {
  const stem = binlogStem(start.file);
  const width = start.file.length - stem.length - 1;
  const sequences = new Map(binlogs.filter((b) => binlogStem(b.name) === stem).map((b) => [binlogSequence(b.name), b]));
  const first = binlogSequence(start.file);
  const newestSequence = Math.max(first, ...sequences.keys());
  const gaps: string[] = [];
  let recoverableUntil: string | undefined;
  for (let sequence = first; sequence <= newestSequence; sequence += 1) {
    const entry = sequences.get(sequence);
    if (entry === undefined) gaps.push(`${stem}.${String(sequence).padStart(width, '0')}`);
    else if (gaps.length === 0) recoverableUntil = entry.lastEventAt;
  }
  return { recoverableUntil, newest: sequences.get(newestSequence)?.lastEventAt, gaps };
}
