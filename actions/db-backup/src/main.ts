import * as core from '@actions/core';
import { formatDuration, Inputs, JobSummary, runAction, setOutput } from '@deploy-suite/kit';
import { describeConnection, openEngine } from '@deploy-suite/db';
import {
  latestWithLabels,
  listBackups,
  readManifest,
  type BackupManifest,
  type BackupStore,
} from '@deploy-suite/storage';
import { pruneBackups, restoreBackup, takeBackup, verifyBackup } from '@deploy-suite/backup';
import { readSettings, type Settings } from './settings.ts';

const summary = new JobSummary();

await runAction(async () => {
  const settings = readSettings(new Inputs());
  const engine = await openEngine(
    settings.connection,
    settings.pgBinDir === undefined ? {} : { pgBinDir: settings.pgBinDir },
  );
  const started = performance.now();
  const seconds = (): number => Math.round((performance.now() - started) / 10) / 100;
  const store = await settings.openStore();

  switch (settings.command) {
    case 'backup': {
      let manifest = await takeBackup({ ...settings, engine, store, log: (m) => core.info(m) });
      core.info(`Backup ${manifest.id}: ${manifest.sizes.storedBytes} bytes at ${store.urlOf(manifest.object)}`);
      if (settings.verifyAfterBackup)
        manifest = await verifyBackup({
          engine,
          store,
          manifest,
          decryption: settings.decryption,
          jobs: settings.dump.jobs,
        });
      writeBackupOutputs(store, manifest, seconds());
      describeBackup(manifest, store, 'Backup taken', seconds());
      if (manifest.encryption.method === 'none')
        core.warning('This backup is not encrypted (allow-unencrypted is true).');
      break;
    }
    case 'restore': {
      const manifest = await selectBackup(settings, store);
      await restoreBackup({
        engine,
        store,
        manifest,
        decryption: settings.decryption,
        target: settings.target,
        confirm: settings.confirm,
        jobs: settings.dump.jobs,
      });
      writeBackupOutputs(store, manifest, seconds());
      describeBackup(manifest, store, `Restored into ${settings.target}`, seconds());
      break;
    }
    case 'verify': {
      const manifest = await verifyBackup({
        engine,
        store,
        manifest: await selectBackup(settings, store),
        decryption: settings.decryption,
        jobs: settings.dump.jobs,
      });
      writeBackupOutputs(store, manifest, seconds());
      describeBackup(manifest, store, 'Backup verified', seconds());
      break;
    }
    case 'prune': {
      const plan = await pruneBackups({
        store,
        database: settings.connection.database,
        policy: settings.policy,
        dryRun: settings.dryRun,
      });
      setOutput(
        'deleted',
        plan.remove.map((m) => m.id),
      );
      setOutput(
        'backups',
        plan.keep.map(({ manifest, reasons }) => ({ id: manifest.id, completedAt: manifest.completedAt, reasons })),
      );
      setOutput('duration-seconds', seconds());
      summary.heading(
        `Retention for ${settings.connection.database}${settings.dryRun ? ' (dry run: nothing deleted)' : ''}`,
      );
      summary.table(
        ['Backup', 'Completed', 'Labels', 'Verdict'],
        [
          ...plan.keep.map(({ manifest, reasons }) => [
            manifest.id,
            manifest.completedAt,
            manifest.labels.join(', '),
            `kept: ${reasons.join('; ')}`,
          ]),
          ...plan.remove.map((m) => [
            m.id,
            m.completedAt,
            m.labels.join(', '),
            settings.dryRun ? 'would be deleted' : 'deleted',
          ]),
        ],
      );
      core.info(
        `${settings.dryRun ? 'Would delete' : 'Deleted'} ${plan.remove.length} of ${plan.keep.length + plan.remove.length} backups`,
      );
      break;
    }
    case 'list': {
      const backups = await listBackups(store, settings.connection.database);
      setOutput(
        'backups',
        backups.map((m) => ({
          id: m.id,
          completedAt: m.completedAt,
          labels: m.labels,
          sizeBytes: m.sizes.storedBytes,
          verified: m.verified !== null,
        })),
      );
      summary.heading(`Backups of ${settings.connection.database} in ${store.location}`);
      summary.table(
        ['Backup', 'Completed', 'Size', 'Labels', 'Verified'],
        backups.map((m) => [
          m.id,
          m.completedAt,
          m.sizes.storedBytes,
          m.labels.join(', '),
          m.verified ? m.verified.at : 'no',
        ]),
      );
      break;
    }
  }
  core.info(
    `${settings.command} of ${describeConnection(settings.connection)} done in ${formatDuration(seconds() * 1000)}`,
  );
}, summary);

function selectBackup(settings: Settings, store: BackupStore): Promise<BackupManifest> {
  const { connection, backupId, labels } = settings;
  return backupId === 'latest'
    ? latestWithLabels(store, connection.database, labels)
    : readManifest(store, connection.database, backupId);
}

function writeBackupOutputs(store: BackupStore, manifest: BackupManifest, seconds: number): void {
  setOutput('backup-id', manifest.id);
  setOutput('location', store.urlOf(manifest.object));
  setOutput('size-bytes', manifest.sizes.storedBytes);
  setOutput('sha256', manifest.sha256.stored);
  setOutput('duration-seconds', seconds);
  setOutput('verified', manifest.verified !== null);
}

function describeBackup(manifest: BackupManifest, store: BackupStore, title: string, seconds: number): void {
  summary.heading(`${title}: ${manifest.id}`);
  summary.table(
    ['', ''],
    [
      ['Database', `${manifest.engine} ${manifest.database} (server ${manifest.serverVersion})`],
      ['Location', store.urlOf(manifest.object)],
      ['Size', `${manifest.sizes.storedBytes} bytes stored, ${manifest.sizes.plainBytes} bytes of dump`],
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
      ['SHA-256 (stored)', manifest.sha256.stored],
      [
        'Tables',
        `${Object.keys(manifest.rowCounts).length} (${Object.values(manifest.rowCounts).reduce((a, b) => a + b, 0)} rows)`,
      ],
      ['Labels', manifest.labels.join(', ') || '—'],
      ['Verified', manifest.verified ? `yes, ${manifest.verified.at}` : 'no'],
      ['Duration', formatDuration(seconds * 1000)],
    ],
  );
}
