import * as core from '@actions/core';
import {
  ConfigurationError,
  formatDuration,
  GateClosedError,
  type JobSummary,
  quoteUntrusted,
  setOutput,
} from '@deploy-suite/kit';
import {
  archiveBinlogs,
  archiveCoverage,
  backupMariaDb,
  chainFor,
  checkChain,
  countRestoredRows,
  incrementalBase,
  listBinlogArchive,
  listMariaDbBackups,
  restoreMariaDb,
  type MariaDbBackupManifest,
} from '@deploy-suite/physical';
import { drillFigures } from '@deploy-suite/backup';
import type { Settings } from './settings.ts';
import type { MariaDbPhysicalSettings } from './physical-settings.ts';
import type { RestoredData } from './summary.ts';
import {
  describeMariaDbBackup,
  describeMariaDbCatalog,
  reportDrill,
  describePhysicalFreshness,
  describeRestoredData,
} from './summary.ts';

/**
 * The physical path on MariaDB: mariadb-backup full and incremental backups and the closed binary
 * logs, in the same store with the same age keys and signed manifests as the logical backups.
 */
export async function runMariaDbPhysical(
  settings: Settings,
  physical: MariaDbPhysicalSettings,
  summary: JobSummary,
): Promise<void> {
  const started = performance.now();
  const seconds = (): number => Math.round((performance.now() - started) / 10) / 100;
  const store = await settings.openStore();
  const { prefix, server } = physical;
  const listed = async () => {
    const result = await listMariaDbBackups(store, prefix, settings.verifier);
    for (const entry of result.rejected.slice(0, 20))
      core.warning(`Refused ${quoteUntrusted(`${entry.key}: ${entry.reason}`, 400)}`);
    return result.backups;
  };
  const storeSettings = {
    store,
    prefix,
    encryption: settings.encryption,
    compression: {
      algorithm: settings.compression,
      ...(settings.level === undefined ? {} : { level: settings.level }),
    },
  };

  switch (settings.command) {
    case 'backup': {
      let base: MariaDbBackupManifest | undefined;
      if (physical.type === 'incremental') {
        base = incrementalBase(await listed());
        if (base === undefined)
          throw new ConfigurationError(
            `An incremental backup builds on an earlier physical backup, and ${store.location} holds none under ${prefix}: take type full first.`,
          );
      }
      const { manifest } = await backupMariaDb({
        ...storeSettings,
        server,
        type: physical.type,
        ...(base === undefined ? {} : { base }),
        signer: settings.signer!,
      });
      // The binary logs closed so far (the backup flushed them): what a replay past this backup needs.
      const binlogs = await archiveBinlogs({
        ...storeSettings,
        server,
        signer: settings.signer!,
        verifier: settings.verifier,
        ...(physical.binlogDir === undefined ? {} : { binlogDir: physical.binlogDir }),
      });
      setOutput('backup-id', manifest.id);
      setOutput('location', store.urlOf(manifest.object));
      setOutput('size-bytes', manifest.stored.bytes);
      setOutput('sha256', manifest.stored.sha256);
      setOutput('duration-seconds', seconds());
      setOutput('verified', false);
      setOutput('recoverable-until', binlogs.recoverableUntil ?? manifest.consistentAt);
      core.info(
        `MariaDB ${manifest.type} backup ${manifest.id}: ${manifest.stored.bytes} bytes; ${binlogs.archived.length} binary log(s) archived`,
      );
      describeMariaDbBackup(summary, manifest, store.urlOf(manifest.object), binlogs, seconds());
      break;
    }
    case 'restore':
    case 'verify': {
      const backups = await listed();
      const target = physical.targetTime;
      const chosen =
        target === undefined
          ? backups.at(-1)
          : backups.filter((b) => Date.parse(b.consistentAt) <= target.getTime()).at(-1);
      if (chosen === undefined)
        throw new ConfigurationError(
          target === undefined
            ? `No verified physical backup under ${prefix} in ${store.location}.`
            : `No physical backup under ${prefix} whose data is at or before ${target.toISOString()}: the earliest point a restore reaches is the oldest backup's consistent point${backups[0] === undefined ? '' : ` (${backups[0].consistentAt})`}.`,
        );
      const chain = chainFor(backups, chosen.id);
      const binlogs = target === undefined ? undefined : await listBinlogArchive(store, prefix, settings.verifier);
      const restored = await restoreMariaDb({
        store,
        decryption: settings.decryption,
        chain,
        ...(binlogs === undefined ? {} : { binlogs }),
        ...(target === undefined ? {} : { targetTime: target }),
      });
      let data: RestoredData;
      try {
        data = verifyDatabase(settings.connection.database, chosen.id, await countRestoredRows(restored));
      } finally {
        await restored.stop();
      }
      const targetText = target === undefined ? `the end of ${chosen.id}` : target.toISOString();
      setOutput('backup-id', chosen.id);
      setOutput('duration-seconds', seconds());
      setOutput('verified', true);
      setOutput('row-counts', data.rows);
      describeRestoredData(
        summary,
        settings.command === 'verify'
          ? 'Drill: restored and verified in a scratch server (removed)'
          : 'Restored and verified in a scratch server (removed)',
        chain.map((b) => b.id).join(' → '),
        targetText,
        data,
        restored.durationSeconds,
        seconds(),
      );
      if (settings.command === 'restore') {
        setOutput('restore-duration-seconds', Math.round(restored.durationSeconds * 10) / 10);
        break;
      }
      // The data is as of mariadb-backup's end, not of the upload's (completedAt).
      const dataTime = target ?? new Date(chosen.consistentAt);
      const drill = drillFigures({
        restoreMs: seconds() * 1000,
        maxRtoMs: settings.maxRtoMs,
        dataAgeMs: Math.max(0, Date.now() - dataTime.getTime()),
        maxAgeMs: target === undefined ? settings.maxAgeMs : undefined,
        what: 'the newest recoverable point',
      });
      reportDrill(summary, drill, 'a restore to a chosen past time');
      break;
    }
    case 'check': {
      const backups = await listed();
      const newest = backups.at(-1);
      // The newest backup counts only with its whole chain (every base present, signed, in order):
      // otherwise nothing restores it, and the gate fails closed.
      let brokenChain: string | undefined;
      if (newest !== undefined) {
        try {
          checkChain(chainFor(backups, newest.id));
        } catch (error) {
          if (!(error instanceof ConfigurationError)) throw error;
          brokenChain = error.message;
        }
      }
      const archive = await listBinlogArchive(store, prefix, settings.verifier);
      for (const entry of archive.rejected.slice(0, 20))
        core.warning(`Refused binary log ${quoteUntrusted(`${entry.name}: ${entry.reason}`, 400)}`);
      const coverage = newest === undefined ? undefined : archiveCoverage(archive.binlogs, newest.binlog);
      const candidates = [newest?.consistentAt, coverage?.recoverableUntil]
        .filter((t): t is string => t !== undefined)
        .map((t) => new Date(t));
      const recoverableUntil = candidates.reduce<Date | null>((a, b) => (a === null || b > a ? b : a), null);
      const ageSeconds =
        recoverableUntil === null
          ? Number.POSITIVE_INFINITY
          : Math.max(0, Math.round((Date.now() - recoverableUntil.getTime()) / 1000));
      const reasons: string[] = [];
      if (brokenChain !== undefined) reasons.push(`the newest backup ${newest!.id} cannot be restored: ${brokenChain}`);
      if (recoverableUntil === null) reasons.push(`nothing is recoverable: no physical backup under ${prefix}`);
      else if (!(ageSeconds * 1000 <= settings.maxAgeMs))
        reasons.push(
          `the newest recoverable point (${recoverableUntil.toISOString()}) is ${formatDuration(ageSeconds * 1000)} old, over max-age ${formatDuration(settings.maxAgeMs)}`,
        );
      const gaps = coverage?.gaps ?? [];
      if (gaps.length > 0) reasons.push(`the binary log archive has a gap: ${gaps.join(', ')} missing`);
      setOutput('age-seconds', Number.isFinite(ageSeconds) ? ageSeconds : '');
      setOutput('newest-id', newest?.id ?? '');
      setOutput('recoverable-until', recoverableUntil?.toISOString() ?? '');
      describePhysicalFreshness(summary, `${settings.connection.database} (MariaDB, ${prefix})`, {
        ok: reasons.length === 0,
        newest: newest?.id ?? null,
        recoverableUntil,
        source:
          recoverableUntil === null
            ? null
            : coverage?.recoverableUntil !== undefined && new Date(coverage.recoverableUntil) >= recoverableUntil
              ? 'binary logs'
              : 'backup',
        ageSeconds,
        maxAgeMs: settings.maxAgeMs,
        gap: gaps[0] ?? null,
        extra: [['Archived binary logs', String(archive.binlogs.length)]],
        reasons,
      });
      if (reasons.length > 0) throw new GateClosedError(`The freshness gate failed: ${reasons.join('; ')}`);
      break;
    }
    case 'list': {
      const backups = await listed();
      setOutput(
        'backups',
        [...backups].reverse().map((b) => ({
          id: b.id,
          type: b.type,
          baseId: b.baseId,
          completedAt: b.completedAt,
          sizeBytes: b.stored.bytes,
        })),
      );
      describeMariaDbCatalog(summary, `Physical backups under ${prefix} in ${store.location}`, backups, store);
      break;
    }
    case 'prune':
      throw new ConfigurationError(
        'prune does not apply to method physical on MariaDB yet: a chain (a full and its increments) and the binary logs it replays must go together, which the logical retention does not know. Expire them by hand for now.',
      );
  }
  core.info(`${settings.command} (physical, MariaDB) done in ${formatDuration(seconds() * 1000)}`);
}

/** The restored copy must hold the database; its tables' exact counts are what the summary shows. */
function verifyDatabase(database: string, backup: string, all: Record<string, number>): RestoredData {
  const rows = Object.fromEntries(Object.entries(all).filter(([name]) => name.startsWith(`${database}.`)));
  if (Object.keys(rows).length === 0)
    throw new ConfigurationError(
      `The restored copy of ${backup} has no table in database ${database}: the backup does not hold it, or it was created after the target. Nothing was verified.`,
    );
  return { database, rows };
}
