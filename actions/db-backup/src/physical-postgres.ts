import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import * as core from '@actions/core';
import { ConfigurationError, formatDuration, GateClosedError, type JobSummary, setOutput } from '@deploy-suite/kit';
import { openEngine, type Connection } from '@deploy-suite/db';
import { freshnessVerdict, openPgBackRest, type RestoredCluster, type RestoreTarget } from '@deploy-suite/physical';
import { drillFigures } from '@deploy-suite/backup';
import type { Settings } from './settings.ts';
import type { PgPhysicalSettings } from './physical-settings.ts';
import {
  describePgBackup,
  describePgCatalog,
  reportDrill,
  describePhysicalFreshness,
  describeRestoredData,
} from './summary.ts';
import type { RestoredData } from './summary.ts';

/** The physical path on PostgreSQL: pgBackRest drives the copy; this wires its answers to outputs and the summary. */
export async function runPgPhysical(
  settings: Settings,
  physical: PgPhysicalSettings,
  summary: JobSummary,
): Promise<void> {
  const started = performance.now();
  const seconds = (): number => Math.round((performance.now() - started) / 10) / 100;
  const backrest = openPgBackRest(physical.backrest);
  try {
    switch (settings.command) {
      case 'backup': {
        // Idempotent: creates the stanza on first use, checks it matches the cluster afterwards.
        await backrest.stanzaCreate();
        const made = await backrest.backup({ type: physical.type });
        setOutput('backup-id', made.label);
        setOutput('location', `${physical.backrest.repoPath} (stanza ${physical.backrest.stanza})`);
        setOutput('size-bytes', made.repoDelta);
        setOutput('duration-seconds', seconds());
        setOutput('verified', false);
        core.info(`pgBackRest ${made.type} backup ${made.label}: ${made.repoDelta} bytes added to the repository`);
        describePgBackup(summary, made, physical.backrest, seconds());
        break;
      }
      case 'restore': {
        const target = restoreTarget(physical);
        const into =
          physical.targetDataDir ??
          join(process.env.RUNNER_TEMP ?? tmpdir(), `pg-restore-${randomBytes(4).toString('hex')}`);
        const restored = await backrest.restore({ target, into });
        let data: RestoredData;
        try {
          data = await verifyRestored(settings, restored);
        } catch (error) {
          // A copy that fails verification is not left behind (a named target is emptied, as we found it).
          await restored.discard();
          throw error;
        }
        if (physical.targetDataDir === undefined) await restored.discard();
        else await restored.stop();
        writeRestoreOutputs(restored, data, seconds());
        describeRestoredData(
          summary,
          physical.targetDataDir === undefined
            ? `Restored and verified in a scratch cluster (removed)`
            : `Restored into ${physical.targetDataDir} (left stopped)`,
          restored.backup.label,
          targetText(target),
          data,
          restored.restoreSeconds,
          seconds(),
        );
        break;
      }
      case 'verify': {
        const report = await backrest.verify();
        if (!report.ok) {
          summary.heading('❌ pgBackRest verify');
          summary.table(
            ['Problem'],
            report.problems.map((p) => [p]),
          );
          throw new ConfigurationError(`pgBackRest verify found problems: ${report.problems.join('; ')}`);
        }
        core.info('pgBackRest verify: every backup file and archived WAL segment checks out');
        const fresh = await backrest.freshness();
        const target = restoreTarget(physical);
        const restored = await backrest.restore({
          target,
          into: join(process.env.RUNNER_TEMP ?? tmpdir(), `pg-drill-${randomBytes(4).toString('hex')}`),
        });
        let data: RestoredData;
        try {
          data = await verifyRestored(settings, restored);
        } finally {
          await restored.discard();
        }
        writeRestoreOutputs(restored, data, seconds(), true);
        describeRestoredData(
          summary,
          'Drill: restored and verified in a scratch cluster (removed)',
          restored.backup.label,
          targetText(target),
          data,
          restored.restoreSeconds,
          seconds(),
        );
        const dataAgeSeconds =
          physical.targetTime === undefined
            ? fresh.ageSeconds
            : Math.max(0, Math.round((Date.now() - physical.targetTime.getTime()) / 1000));
        const drill = drillFigures({
          restoreMs: seconds() * 1000,
          maxRtoMs: settings.maxRtoMs,
          dataAgeMs: dataAgeSeconds * 1000,
          // A drill to a chosen past time is not judged against the RPO.
          maxAgeMs: physical.targetTime === undefined ? settings.maxAgeMs : undefined,
          what: 'the newest recoverable point',
        });
        reportDrill(summary, drill, 'a restore to a chosen past time');
        break;
      }
      case 'check': {
        const fresh = await backrest.freshness();
        const verdict = freshnessVerdict(fresh, Math.round(settings.maxAgeMs / 1000));
        setOutput('age-seconds', Number.isFinite(fresh.ageSeconds) ? fresh.ageSeconds : '');
        setOutput('newest-id', fresh.newestLabel ?? '');
        setOutput('recoverable-until', fresh.recoverableUntil?.toISOString() ?? '');
        let archiving: string | undefined;
        if (verdict.ok) {
          // The archive as found is fresh and whole; now prove the archive_command still works.
          try {
            await backrest.check();
          } catch (error) {
            archiving = (error as Error).message;
            verdict.reasons.push(archiving);
          }
        }
        const ok = verdict.reasons.length === 0;
        describePhysicalFreshness(summary, `stanza ${physical.backrest.stanza}`, {
          ok,
          newest: fresh.newestLabel,
          recoverableUntil: fresh.recoverableUntil,
          source: fresh.source,
          ageSeconds: fresh.ageSeconds,
          maxAgeMs: settings.maxAgeMs,
          gap: fresh.gap?.missing ?? null,
          extra: [
            [
              'Archived WAL',
              `${fresh.archive.min ?? '—'} … ${fresh.archive.max ?? '—'} (${fresh.segmentsChecked} segments checked)`,
            ],
            ['Archiving (pgbackrest check)', archiving === undefined ? (verdict.ok ? 'works' : 'not run') : '❌ fails'],
          ],
          reasons: verdict.reasons,
        });
        if (!ok) throw new GateClosedError(`The freshness gate failed: ${verdict.reasons.join('; ')}`);
        break;
      }
      case 'list': {
        const info = await backrest.info();
        setOutput(
          'backups',
          [...info.backups].reverse().map((b) => ({
            id: b.label,
            type: b.type,
            prior: b.prior,
            startedAt: b.start.toISOString(),
            completedAt: b.stop.toISOString(),
            sizeBytes: b.repoSize,
            addedBytes: b.repoDelta,
            walStart: b.walStart,
            walStop: b.walStop,
          })),
        );
        describePgCatalog(summary, physical.backrest, info);
        break;
      }
      case 'prune': {
        throw new ConfigurationError(
          `prune does not apply to method physical on PostgreSQL: pgBackRest expires old backups and their WAL itself after each backup, ` +
            `keeping repo1-retention-full = keep-daily (${physical.backrest.retentionFull ?? 2}) full backups. Set keep-daily on the backup step instead.`,
        );
      }
    }
    core.info(`${settings.command} (physical, pgBackRest) done in ${formatDuration(seconds() * 1000)}`);
  } finally {
    backrest.close();
  }
}

function targetText(target: RestoreTarget): string {
  if (target === 'latest') return 'the end of the archived WAL (latest)';
  return 'time' in target ? target.time.toISOString() : `the end of ${target.backup}`;
}

function restoreTarget(physical: PgPhysicalSettings): RestoreTarget {
  return physical.targetTime === undefined ? 'latest' : { time: physical.targetTime };
}

/**
 * Our own data check on the restored cluster: the database must be there, and every table in it
 * is counted exactly. The restored cluster has the source's roles and pg_hba.conf, so the
 * action's own user connects to it on loopback.
 */
async function verifyRestored(settings: Settings, restored: RestoredCluster): Promise<RestoredData> {
  const connection: Connection = {
    ...settings.connection,
    host: '127.0.0.1',
    port: restored.port,
    tls: { mode: 'prefer' },
  };
  const engine = await openEngine(connection, settings.pgBinDir === undefined ? {} : { pgBinDir: settings.pgBinDir });
  const database = settings.connection.database;
  if (!(await engine.databaseExists(database))) {
    throw new ConfigurationError(
      `The restored cluster (backup ${restored.backup.label}) has no database ${database}: the backup does not hold it, ` +
        `or it was created after the target. Nothing was verified.`,
    );
  }
  const rows = await engine.rowCounts(database);
  return { database, rows };
}

function writeRestoreOutputs(restored: RestoredCluster, data: RestoredData, seconds: number, drill = false): void {
  setOutput('backup-id', restored.backup.label);
  setOutput('duration-seconds', seconds);
  // A drill's figure is the whole restore and verification (set with the drill's verdict).
  if (!drill) setOutput('restore-duration-seconds', Math.round(restored.restoreSeconds * 10) / 10);
  setOutput('verified', true);
  setOutput('row-counts', data.rows);
}
