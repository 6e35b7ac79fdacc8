import { ConfigurationError } from '@deploy-suite/kit';
import { MANIFEST_FORMAT, manifestKey, type BackupManifest } from './manifest.ts';
import type { BackupStore } from './store.ts';

/**
 * The backups of one database, read from their manifests (never inferred from object names),
 * newest first by recorded completion time.
 */
export async function listBackups(store: BackupStore, database: string): Promise<BackupManifest[]> {
  const keys = (await store.list(`${database}/`)).filter((key) => key.endsWith('.manifest.json'));
  const manifests: BackupManifest[] = [];
  for (const key of keys) {
    const text = await store.readText(key);
    if (text === undefined) continue;
    try {
      const manifest = JSON.parse(text) as BackupManifest;
      if (manifest.format === MANIFEST_FORMAT && manifest.database === database) manifests.push(manifest);
    } catch {
      // A manifest that does not parse describes no usable backup.
    }
  }
  return manifests.sort((a, b) => Date.parse(b.completedAt) - Date.parse(a.completedAt));
}

export async function readManifest(store: BackupStore, database: string, id: string): Promise<BackupManifest> {
  const text = await store.readText(manifestKey(database, id));
  if (text === undefined) {
    throw new ConfigurationError(
      `Backup ${id} has no manifest in ${store.location}/${database}/: it never completed, or it was deleted. List the backups with command: list.`,
    );
  }
  return JSON.parse(text) as BackupManifest;
}

/** The newest backup carrying every one of the labels. */
export async function latestWithLabels(
  store: BackupStore,
  database: string,
  labels: string[],
): Promise<BackupManifest> {
  const match = (await listBackups(store, database)).find((m) => labels.every((label) => m.labels.includes(label)));
  if (match === undefined) {
    throw new ConfigurationError(
      `No backup of ${database} in ${store.location}${labels.length ? ` carries the labels ${labels.join(', ')}` : ''}.`,
    );
  }
  return match;
}

export async function writeManifest(store: BackupStore, manifest: BackupManifest): Promise<void> {
  await store.writeText(manifestKey(manifest.database, manifest.id), JSON.stringify(manifest, null, 2) + '\n');
}
