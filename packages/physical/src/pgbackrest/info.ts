import { z } from 'zod';
import { jsonForLog } from '@deploy-suite/kit';

/**
 * `pgbackrest info --output=json` and `repo-ls --output=json` as read back: untrusted input, so
 * every field we use is checked for type and shape (labels, segment names, whole non-negative
 * numbers). Fields we do not use are ignored rather than refused, so a newer pgBackRest adding
 * one does not stop backups; a field we use that changes shape fails closed.
 */

export const BACKUP_LABEL = /^\d{8}-\d{6}F(?:_\d{8}-\d{6}[DI])?$/;
export const WAL_SEGMENT = /^[0-9A-F]{24}$/;

const count = z.number().int().nonnegative();
const epochSeconds = z.number().int().positive();
const segment = z.string().regex(WAL_SEGMENT);
const label = z.string().regex(BACKUP_LABEL);

const backupSchema = z.object({
  label,
  type: z.enum(['full', 'diff', 'incr']),
  prior: label.nullable(),
  error: z.boolean().optional(),
  timestamp: z.object({ start: epochSeconds, stop: epochSeconds }),
  archive: z.object({ start: segment.nullable(), stop: segment.nullable() }),
  info: z.object({ size: count, repository: z.object({ size: count, delta: count }) }),
  database: z.object({ id: count }),
});

const stanzaSchema = z.object({
  name: z.string(),
  status: z.object({ code: count, message: z.string() }),
  cipher: z.string(),
  repo: z.array(z.object({ key: count, cipher: z.string(), status: z.object({ code: count, message: z.string() }) })),
  db: z.array(z.object({ id: count, version: z.string().regex(/^\d{1,3}(?:\.\d{1,3})?$/) })),
  archive: z.array(
    z.object({
      id: z.string().regex(/^\d{1,3}(?:\.\d{1,3})?-\d{1,6}$/),
      database: z.object({ id: count }),
      min: segment.nullable(),
      max: segment.nullable(),
    }),
  ),
  backup: z.array(backupSchema),
});

export const infoSchema = z.array(stanzaSchema);
export type RawStanzaInfo = z.infer<typeof stanzaSchema>;

export type BackupType = 'full' | 'diff' | 'incr';

export interface BackupInfo {
  /** pgBackRest's label: 20261127-160050F, or 20261127-160050F_20261127-160055I for an incremental. */
  label: string;
  type: BackupType;
  start: Date;
  /** When the backup ended: the earliest time a restore of it reaches. */
  stop: Date;
  /** The database's size at the backup. */
  size: number;
  /** The backup's size in the repository (compressed, encrypted), its references included. */
  repoSize: number;
  /** What this backup itself added to the repository. */
  repoDelta: number;
  /** The WAL segments the backup needs to be consistent. */
  walStart: string | null;
  walStop: string | null;
  /** The backup a diff or incr builds on; null for a full. */
  prior: string | null;
}

export interface StanzaInfo {
  stanza: string;
  /** PostgreSQL's major version of the current database (15). */
  pgVersion: string | null;
  /** The current archive id (`15-1`): the folder under archive/<stanza>/ holding its WAL. */
  archiveId: string | null;
  /** Oldest first. Backups pgBackRest marked as errored are left out. */
  backups: BackupInfo[];
  /** The range of WAL segments pgBackRest reports for the current archive id. */
  archive: { min: string | null; max: string | null };
}

export class InfoFormatError extends Error {
  override name = 'InfoFormatError';
}

/** Parses `info --output=json` for one stanza; throws InfoFormatError on anything unexpected. */
export function parseInfo(stdout: string, stanza: string): { info: StanzaInfo; raw: RawStanzaInfo } {
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    throw new InfoFormatError(`pgbackrest info did not answer JSON: ${jsonForLog(stdout.slice(0, 200))}`);
  }
  const parsed = infoSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InfoFormatError(
      `pgbackrest info answered an unexpected shape at ${jsonForLog(issue?.path.join('.') ?? '')}: ${jsonForLog(issue?.message ?? '')}`,
    );
  }
  const matching = parsed.data.filter((entry) => entry.name === stanza);
  if (matching.length !== 1) {
    throw new InfoFormatError(
      `pgbackrest info listed ${matching.length} entries for stanza ${jsonForLog(stanza)}, expected 1`,
    );
  }
  const raw = matching[0]!;
  const currentDb = raw.db.reduce<(typeof raw.db)[number] | undefined>(
    (a, b) => (a === undefined || b.id > a.id ? b : a),
    undefined,
  );
  const archive = currentDb === undefined ? undefined : raw.archive.find((entry) => entry.database.id === currentDb.id);
  const backups = raw.backup
    .filter((b) => b.error !== true)
    .map((b): BackupInfo => ({
      label: b.label,
      type: b.type,
      start: new Date(b.timestamp.start * 1000),
      stop: new Date(b.timestamp.stop * 1000),
      size: b.info.size,
      repoSize: b.info.repository.size,
      repoDelta: b.info.repository.delta,
      walStart: b.archive.start,
      walStop: b.archive.stop,
      prior: b.prior,
    }))
    .sort((a, b) => a.stop.getTime() - b.stop.getTime());
  return {
    raw,
    info: {
      stanza,
      pgVersion: currentDb?.version ?? null,
      archiveId: archive?.id ?? null,
      backups,
      archive: { min: archive?.min ?? null, max: archive?.max ?? null },
    },
  };
}

const repoLsSchema = z.record(
  z.string(),
  z.object({
    type: z.enum(['file', 'path', 'link', 'special']),
    size: count.optional(),
    time: epochSeconds.optional(),
  }),
);

export interface ArchivedSegment {
  /** The 24-hex-digit segment name. */
  name: string;
  /** When pgBackRest stored it in the repository (its modification time there), to the second. */
  storedAt: Date;
}

/**
 * The archived WAL segments in `repo-ls --recurse --output=json archive/<stanza>/<archiveId>`:
 * files named `<segment>-<sha1>[.<ext>]`; backup history files, timeline history files and partial
 * segments are left out.
 */
export function parseArchiveListing(stdout: string): ArchivedSegment[] {
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    throw new InfoFormatError(`pgbackrest repo-ls did not answer JSON: ${jsonForLog(stdout.slice(0, 200))}`);
  }
  const parsed = repoLsSchema.safeParse(json);
  if (!parsed.success) throw new InfoFormatError(`pgbackrest repo-ls answered an unexpected shape`);
  const segments = new Map<string, ArchivedSegment>();
  for (const [path, entry] of Object.entries(parsed.data)) {
    if (entry.type !== 'file') continue;
    const match = /(?:^|\/)([0-9A-F]{24})-[0-9a-f]{40}(?:\.[a-z0-9]+)?$/.exec(path);
    if (!match) continue;
    if (entry.time === undefined) throw new InfoFormatError(`pgbackrest repo-ls gave no time for ${jsonForLog(path)}`);
    segments.set(match[1]!, { name: match[1]!, storedAt: new Date(entry.time * 1000) });
  }
  return [...segments.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
