import { formatDuration, GateClosedError, setOutput, type JobSummary } from '@deploy-suite/kit';
import type { DrillFigures, Freshness, PruneResult } from '@deploy-suite/backup';
import type { BackupManifest, RejectedManifest } from '@deploy-suite/storage';
import type { BackupInfo, MariaDbBackupManifest, PgBackRestSettings, StanzaInfo } from '@deploy-suite/physical';
import type { BackupStore } from '@deploy-suite/storage';

/** One backup at a glance. What the manifest seals (tables, row counts) shows only once opened. */
export function describeBackup(
  summary: JobSummary,
  manifest: BackupManifest,
  location: string,
  title: string,
  seconds: number,
  rows?: Record<string, number>,
): void {
  summary.heading(`${title}: ${manifest.id}`);
  summary.table(
    ['', ''],
    [
      ['Database', `${manifest.engine} ${manifest.database}`],
      ['Location', location],
      ['Size', `${manifest.stored.bytes} bytes stored`],
      [
        'Compression',
        `${manifest.compression.algorithm}${manifest.compression.level === null ? '' : ` level ${manifest.compression.level}`}`,
      ],
      [
        'Encryption',
        manifest.encryption.method === 'none'
          ? '⚠️ none'
          : `${manifest.encryption.method} ${manifest.encryption.recipients.join(', ')}`,
      ],
      ['SHA-256 (stored)', manifest.stored.sha256],
      ...(rows === undefined
        ? []
        : [['Tables', `${Object.keys(rows).length} (${Object.values(rows).reduce((a, b) => a + b, 0)} rows)`]]),
      ['Labels', manifest.labels.join(', ') || '—'],
      ['Verified', manifest.verified ? `yes, ${manifest.verified.at}` : 'no'],
      ['Duration', formatDuration(seconds * 1000)],
    ],
  );
}

export function describeCatalog(
  summary: JobSummary,
  title: string,
  backups: BackupManifest[],
  rejected: RejectedManifest[],
): void {
  summary.heading(title);
  summary.table(
    ['Backup', 'Completed', 'Size', 'Labels', 'Verified'],
    backups.map((m) => [m.id, m.completedAt, m.stored.bytes, m.labels.join(', '), m.verified ? m.verified.at : 'no']),
  );
  describeRejected(summary, rejected);
}

export function describePrune(summary: JobSummary, database: string, result: PruneResult, dryRun: boolean): void {
  summary.heading(`Retention for ${database}${dryRun ? ' (dry run: nothing deleted)' : ''}`);
  summary.table(
    ['Backup', 'Completed', 'Labels', 'Verdict'],
    [
      ...result.keep.map(({ manifest, reasons }) => [
        manifest.id,
        manifest.completedAt,
        manifest.labels.join(', '),
        `kept: ${reasons.join('; ')}`,
      ]),
      ...result.remove.map((m) => [m.id, m.completedAt, m.labels.join(', '), dryRun ? 'would be deleted' : 'deleted']),
      ...result.orphans.map((key) => [
        key,
        '—',
        '—',
        `object without a manifest: ${dryRun ? 'would be swept' : 'swept'}`,
      ]),
    ],
  );
  describeRejected(summary, result.rejected);
}

function describeRejected(summary: JobSummary, rejected: RejectedManifest[]): void {
  if (rejected.length === 0) return;
  summary.paragraph(
    `⚠️ ${rejected.length} manifest(s) in the store were refused (unsigned, forged, malformed or inconsistent) and were neither used nor deleted:`,
  );
  summary.table(
    ['Manifest', 'Why'],
    rejected.slice(0, 50).map((r) => [r.key, r.reason]),
  );
}

/** The freshness gate: the newest verified backup, its data's age, and the newer ones not yet proved. */
export function describeFreshness(summary: JobSummary, database: string, freshness: Freshness, maxAgeMs: number): void {
  summary.heading(`${freshness.fresh ? '✅' : '❌'} Backup freshness of ${database}`);
  summary.table(
    ['', ''],
    [
      ['Newest verified backup', freshness.newest?.id ?? 'none'],
      ['Recoverable until', freshness.recoverableUntil ?? '—'],
      ['Data age', freshness.ageSeconds === undefined ? '—' : formatDuration(freshness.ageSeconds * 1000)],
      ['Allowed (max-age, the RPO)', formatDuration(maxAgeMs)],
      ['Newer, not yet verified', freshness.unverifiedNewer.map((m) => m.id).join(', ') || 'none'],
    ],
  );
  describeRejected(summary, freshness.rejected);
}

/**
 * A DR drill's two objectives and how this restore met them: the outputs, the summary, and the
 * step failed when it missed either. `notJudged` says why the RPO was not judged, when it was not.
 */
export function reportDrill(summary: JobSummary, drill: DrillFigures, notJudged: string): void {
  const known = Number.isFinite(drill.dataAgeSeconds);
  setOutput('restore-duration-seconds', drill.restoreSeconds);
  setOutput('age-seconds', known ? drill.dataAgeSeconds : '');
  summary.heading(`${drill.missed.length === 0 ? '✅' : '❌'} DR drill`, 3);
  summary.table(
    ['Objective', 'Measured', 'Allowed'],
    [
      [
        'RTO (restore and verify)',
        formatDuration(drill.restoreSeconds * 1000),
        formatDuration(drill.maxRtoSeconds * 1000),
      ],
      [
        'RPO (age of the data)',
        known ? formatDuration(drill.dataAgeSeconds * 1000) : 'unknown',
        drill.maxAgeSeconds === undefined ? `not judged: ${notJudged}` : formatDuration(drill.maxAgeSeconds * 1000),
      ],
    ],
  );
  if (drill.missed.length > 0) throw new GateClosedError(`The drill missed its objectives: ${drill.missed.join('; ')}`);
}

export function describePgBackup(
  summary: JobSummary,
  made: BackupInfo,
  settings: PgBackRestSettings,
  seconds: number,
): void {
  summary.heading(`pgBackRest ${made.type} backup taken: ${made.label}`);
  summary.table(
    ['', ''],
    [
      ['Stanza', settings.stanza],
      ['Repository', `${settings.repoPath} (aes-256-cbc)`],
      ['Type', made.type],
      ['Builds on', made.prior ?? '— (full)'],
      ['Database size', `${made.size} bytes`],
      ['Added to the repository', `${made.repoDelta} bytes`],
      ['Started', made.start.toISOString()],
      ['Ended (earliest restore point)', made.stop.toISOString()],
      ['WAL', `${made.walStart ?? '—'} … ${made.walStop ?? '—'}`],
      ['Kept (repo1-retention-full)', `${settings.retentionFull ?? 2} full backups and what builds on them`],
      ['Duration', formatDuration(seconds * 1000)],
    ],
  );
}

export function describePgCatalog(summary: JobSummary, settings: PgBackRestSettings, info: StanzaInfo): void {
  summary.heading(`pgBackRest backups of stanza ${settings.stanza} in ${settings.repoPath}`);
  summary.table(
    ['Backup', 'Type', 'Builds on', 'Ended', 'Stored', 'Added'],
    [...info.backups]
      .reverse()
      .map((b) => [b.label, b.type, b.prior ?? '—', b.stop.toISOString(), b.repoSize, b.repoDelta]),
  );
  summary.paragraph(
    `PostgreSQL ${info.pgVersion ?? '?'}; archived WAL ${info.archive.min ?? '—'} … ${info.archive.max ?? '—'} (archive ${info.archiveId ?? '—'}).`,
  );
}

/** A physical restore: what it reached and what the restored database holds, table by table. */
export function describeRestoredData(
  summary: JobSummary,
  title: string,
  backup: string,
  recoveredTo: string,
  data: RestoredData,
  restoreSeconds: number,
  seconds: number,
): void {
  const rows = Object.entries(data.rows);
  summary.heading(`${title}: ${data.database}`);
  summary.table(
    ['', ''],
    [
      ['From backup', backup],
      ['Recovered to', recoveredTo],
      ['Tables', `${rows.length} (${rows.reduce((a, [, n]) => a + n, 0)} rows, counted exactly)`],
      ['Restore until it accepted connections', formatDuration(restoreSeconds * 1000)],
      ['Duration', formatDuration(seconds * 1000)],
    ],
  );
  summary.table(
    ['Table', 'Rows'],
    rows.map(([table, n]) => [table, n]),
  );
}

/** The physical freshness gate: the newest recoverable point (end of the archived WAL or binary logs). */
export function describePhysicalFreshness(
  summary: JobSummary,
  what: string,
  gate: {
    ok: boolean;
    newest: string | null;
    recoverableUntil: Date | null;
    source: string | null;
    ageSeconds: number;
    maxAgeMs: number;
    gap: string | null;
    extra: [string, string][];
    reasons: string[];
  },
): void {
  summary.heading(`${gate.ok ? '✅' : '❌'} Recoverability of ${what}`);
  summary.table(
    ['', ''],
    [
      ['Newest backup', gate.newest ?? 'none'],
      [
        'Recoverable until',
        gate.recoverableUntil === null
          ? '—'
          : `${gate.recoverableUntil.toISOString()}${gate.source === null ? '' : ` (from the ${gate.source})`}`,
      ],
      ['Data age', Number.isFinite(gate.ageSeconds) ? formatDuration(gate.ageSeconds * 1000) : '—'],
      ['Allowed (max-age, the RPO)', formatDuration(gate.maxAgeMs)],
      ['Archive gap', gate.gap === null ? 'none' : `❌ missing ${gate.gap}`],
      ...gate.extra,
    ],
  );
  if (gate.reasons.length > 0) summary.paragraph(`Failed: ${gate.reasons.join('; ')}`);
}

export function describeMariaDbBackup(
  summary: JobSummary,
  manifest: MariaDbBackupManifest,
  location: string,
  binlogs: { archived: { name: string }[]; alreadyArchived: string[]; recoverableUntil: string | undefined },
  seconds: number,
): void {
  summary.heading(`MariaDB ${manifest.type} backup taken: ${manifest.id}`);
  summary.table(
    ['', ''],
    [
      ['Location', location],
      ['Builds on', manifest.baseId ?? '— (full)'],
      ['LSN', `${manifest.fromLsn} … ${manifest.toLsn}`],
      ['Binary log position', `${manifest.binlog.file}:${manifest.binlog.position}`],
      ['Size', `${manifest.stored.bytes} bytes stored (${manifest.plain.bytes} before compression)`],
      [
        'Encryption',
        manifest.encryption.method === 'none'
          ? '⚠️ none'
          : `${manifest.encryption.method} ${manifest.encryption.recipients.join(', ')}`,
      ],
      ['SHA-256 (stored)', manifest.stored.sha256],
      [
        'Binary logs archived',
        `${binlogs.archived.map((b) => b.name).join(', ') || 'none new'}${binlogs.alreadyArchived.length > 0 ? ` (${binlogs.alreadyArchived.length} already there)` : ''}`,
      ],
      ['Recoverable until', binlogs.recoverableUntil ?? manifest.completedAt],
      ['Duration', formatDuration(seconds * 1000)],
    ],
  );
}

export function describeMariaDbCatalog(
  summary: JobSummary,
  title: string,
  backups: MariaDbBackupManifest[],
  store: BackupStore,
): void {
  summary.heading(title);
  summary.table(
    ['Backup', 'Type', 'Builds on', 'Completed', 'Size', 'Location'],
    [...backups]
      .reverse()
      .map((b) => [b.id, b.type, b.baseId ?? '—', b.completedAt, b.stored.bytes, store.urlOf(b.object)]),
  );
}

/** What a physical restore held: the database checked and its exact row counts per table. */
export interface RestoredData {
  database: string;
  rows: Record<string, number>;
}
