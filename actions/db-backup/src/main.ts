import * as core from '@actions/core';
import {
  formatDuration,
  GateClosedError,
  Inputs,
  JobSummary,
  quoteUntrusted,
  readRunContext,
  runAction,
  setOutput,
} from '@deploy-suite/kit';
import { describeConnection, openEngine } from '@deploy-suite/db';
import {
  latestWithLabels,
  listBackups,
  openDetails,
  readManifest,
  type BackupManifest,
  type BackupStore,
  type RejectedManifest,
} from '@deploy-suite/storage';
import {
  checkFreshness,
  drillFigures,
  pruneBackups,
  restoreBackup,
  takeBackup,
  verifyBackup,
} from '@deploy-suite/backup';
import { readSettings, type Settings } from './settings.ts';
import { describeBackup, describeCatalog, reportDrill, describeFreshness, describePrune } from './summary.ts';

const summary = new JobSummary();

await runAction(async () => {
  const settings = readSettings(new Inputs());
  if (settings.physical?.engine === 'postgres') {
    const { runPgPhysical } = await import('./physical-postgres.ts');
    return runPgPhysical(settings, settings.physical, summary);
  }
  if (settings.physical?.engine === 'mysql') {
    const { runMariaDbPhysical } = await import('./physical-mariadb.ts');
    return runMariaDbPhysical(settings, settings.physical, summary);
  }
  const context = readRunContext();
  const provenance = { sha: context.sha, runUrl: context.runUrl };
  const engine = await openEngine(
    settings.connection,
    settings.pgBinDir === undefined ? {} : { pgBinDir: settings.pgBinDir },
  );
  const started = performance.now();
  const seconds = (): number => Math.round((performance.now() - started) / 10) / 100;
  const store = await settings.openStore();
  const database = settings.connection.database;

  switch (settings.command) {
    case 'backup': {
      let manifest = await takeBackup({
        ...settings,
        signer: settings.signer!,
        provenance,
        engine,
        store,
        log: (m) => core.info(m),
      });
      core.info(`Backup ${manifest.id}: ${manifest.stored.bytes} bytes at ${store.urlOf(manifest.object)}`);
      if (settings.verifyAfterBackup)
        manifest = await verifyBackup({
          ...verifyOptions(settings, provenance),
          engine,
          store,
          manifest,
          // This run just encrypted it: its own keys decide, not the restore-side expectations.
          allowUnencrypted: manifest.encryption.method === 'none',
        });
      writeBackupOutputs(store, manifest, seconds());
      describeBackup(summary, manifest, store.urlOf(manifest.object), 'Backup taken', seconds());
      if (manifest.encryption.method === 'none')
        core.warning('This backup is not encrypted (allow-unencrypted is true).');
      break;
    }
    case 'restore': {
      const manifest = await selectBackup(settings, store);
      const result = await restoreBackup({
        engine,
        store,
        manifest,
        decryption: settings.decryption,
        allowUnencrypted: settings.allowUnencrypted,
        target: settings.target,
        confirm: settings.confirm,
        jobs: settings.dump.jobs,
        privileges: settings.privileges,
        terminateSessions: settings.terminateSessions,
        dropReplaced: settings.dropReplaced,
        log: (message) => core.info(message),
      });
      if (result.keptAs !== undefined) setOutput('replaced-database', result.keptAs);
      writeBackupOutputs(store, manifest, seconds());
      const details = await openDetails(manifest, settings.decryption);
      describeBackup(
        summary,
        manifest,
        store.urlOf(manifest.object),
        result.replaced
          ? `Replaced ${settings.target}${result.keptAs === undefined ? ' (the old one dropped on request)' : ` (the old one kept as ${result.keptAs})`}`
          : `Restored into ${settings.target}`,
        seconds(),
        details.rowCounts,
      );
      break;
    }
    case 'verify': {
      const manifest = await verifyBackup({
        ...verifyOptions(settings, provenance),
        engine,
        store,
        manifest: await selectBackup(settings, store),
        allowUnencrypted: settings.allowUnencrypted,
      });
      writeBackupOutputs(store, manifest, seconds());
      describeBackup(summary, manifest, store.urlOf(manifest.object), 'Backup verified', seconds());
      // A verify is the DR drill: the restore's time against the RTO, and (for the latest backup)
      // its data's age against the RPO; missing either fails it.
      const drill = drillFigures({
        restoreMs: seconds() * 1000,
        maxRtoMs: settings.maxRtoMs,
        dataAgeMs: Math.max(0, Date.now() - Date.parse(manifest.startedAt)),
        maxAgeMs: settings.backupId === 'latest' ? settings.maxAgeMs : undefined,
        what: "the newest backup's data",
      });
      reportDrill(summary, drill, 'a backup chosen by id');
      break;
    }
    case 'check': {
      const freshness = await checkFreshness({
        store,
        database,
        verifier: settings.verifier,
        maxAgeMs: settings.maxAgeMs,
      });
      warnRejected(freshness.rejected);
      setOutput('age-seconds', freshness.ageSeconds ?? '');
      setOutput('newest-id', freshness.newest?.id ?? '');
      setOutput('recoverable-until', freshness.recoverableUntil ?? '');
      describeFreshness(summary, database, freshness, settings.maxAgeMs);
      if (!freshness.fresh) {
        throw new GateClosedError(
          freshness.newest === undefined
            ? `No verified backup of ${database} in ${store.location}${freshness.unverifiedNewer.length > 0 ? ` (${freshness.unverifiedNewer.length} not verified yet)` : ''}: nothing proves the data can be recovered`
            : `The newest verified backup of ${database} (${freshness.newest.id}) holds data ${formatDuration((freshness.ageSeconds ?? 0) * 1000)} old, over max-age ${formatDuration(settings.maxAgeMs)}`,
        );
      }
      break;
    }
    case 'prune': {
      const result = await pruneBackups({
        store,
        database,
        verifier: settings.verifier,
        policy: settings.policy,
        dryRun: settings.dryRun,
      });
      warnRejected(result.rejected);
      setOutput(
        'deleted',
        result.remove.map((m) => m.id),
      );
      setOutput(
        'backups',
        result.keep.map(({ manifest, reasons }) => ({ id: manifest.id, completedAt: manifest.completedAt, reasons })),
      );
      setOutput('duration-seconds', seconds());
      describePrune(summary, database, result, settings.dryRun);
      core.info(
        `${settings.dryRun ? 'Would delete' : 'Deleted'} ${result.remove.length} of ${result.keep.length + result.remove.length} backups` +
          (result.orphans.length ? ` and sweep ${result.orphans.length} object(s) without a manifest` : ''),
      );
      break;
    }
    case 'list': {
      const { backups, rejected } = await listBackups(store, database, settings.verifier);
      warnRejected(rejected);
      setOutput(
        'backups',
        backups.map((m) => ({
          id: m.id,
          completedAt: m.completedAt,
          labels: m.labels,
          sizeBytes: m.stored.bytes,
          verified: m.verified !== null,
        })),
      );
      describeCatalog(summary, `Backups of ${database} in ${store.location}`, backups, rejected);
      break;
    }
  }
  core.info(
    `${settings.command} of ${describeConnection(settings.connection)} done in ${formatDuration(seconds() * 1000)}`,
  );
}, summary);

function verifyOptions(settings: Settings, provenance: { sha: string; runUrl: string }) {
  return {
    decryption: settings.decryption,
    signer: settings.signer!,
    provenance,
    jobs: settings.dump.jobs,
    log: (message: string) => core.info(message),
    ...(settings.pgBinDir === undefined ? {} : { pgBinDir: settings.pgBinDir }),
    ...(settings.scratchServer === undefined ? {} : { scratchServer: settings.scratchServer }),
  };
}

/** Refused manifests are reported, never used: their text came from the store, so it is quoted. */
function warnRejected(rejected: RejectedManifest[]): void {
  for (const entry of rejected.slice(0, 20)) core.warning(`Refused ${quoteUntrusted(entry.reason, 400)}`);
}

async function selectBackup(settings: Settings, store: BackupStore): Promise<BackupManifest> {
  const { connection, backupId, labels, verifier } = settings;
  if (backupId !== 'latest') return readManifest(store, connection.database, backupId, verifier);
  const { manifest, rejected } = await latestWithLabels(store, connection.database, labels, verifier);
  warnRejected(rejected);
  return manifest;
}

function writeBackupOutputs(store: BackupStore, manifest: BackupManifest, seconds: number): void {
  setOutput('backup-id', manifest.id);
  setOutput('location', store.urlOf(manifest.object));
  setOutput('size-bytes', manifest.stored.bytes);
  setOutput('sha256', manifest.stored.sha256);
  setOutput('duration-seconds', seconds);
  setOutput('verified', manifest.verified !== null);
}
