import { formatDuration, type JobSummary } from '@deploy-suite/kit';
import type { DrillFigures, Freshness, PruneResult } from '@deploy-suite/backup';
import type { BackupManifest, RejectedManifest } from '@deploy-suite/storage';

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

/** A DR drill's two objectives and how this restore met them. */
export function describeDrill(summary: JobSummary, drill: DrillFigures): void {
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
        formatDuration(drill.dataAgeSeconds * 1000),
        drill.maxAgeSeconds === undefined
          ? 'not judged: a backup chosen by id'
          : formatDuration(drill.maxAgeSeconds * 1000),
      ],
    ],
  );
}
