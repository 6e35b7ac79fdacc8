import type { BackupManifest } from './manifest.ts';

export interface RetentionPolicy {
  keepDaily: number;
  keepWeekly: number;
  keepMonthly: number;
  keepYearly: number;
  /** Backups labelled pre-deploy are kept this many days whatever else applies. */
  keepPreDeployDays: number;
}

export interface RetentionPlan {
  keep: { manifest: BackupManifest; reasons: string[] }[];
  remove: BackupManifest[];
}

function isoWeek(date: Date): string {
  const day = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const weekday = day.getUTCDay() || 7;
  day.setUTCDate(day.getUTCDate() + 4 - weekday);
  const yearStart = new Date(Date.UTC(day.getUTCFullYear(), 0, 1));
  const week = Math.ceil(((day.getTime() - yearStart.getTime()) / 86_400_000 + 1) / 7);
  return `${day.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

const PERIODS: [keyof RetentionPolicy, string, (d: Date) => string][] = [
  ['keepDaily', 'daily', (d) => d.toISOString().slice(0, 10)],
  ['keepWeekly', 'weekly', isoWeek],
  ['keepMonthly', 'monthly', (d) => d.toISOString().slice(0, 7)],
  ['keepYearly', 'yearly', (d) => d.toISOString().slice(0, 4)],
];

/**
 * Grandfather-father-son retention over recorded completion times (UTC): the newest backup of
 * each of the last N days, weeks, months and years is kept, and pre-deploy backups for their
 * window. The newest verified backup and the newest backup are never deleted.
 */
export function planRetention(backups: BackupManifest[], policy: RetentionPolicy, now: Date): RetentionPlan {
  const ordered = [...backups].sort((a, b) => Date.parse(b.completedAt) - Date.parse(a.completedAt));
  const reasons = new Map<string, string[]>(ordered.map((m) => [m.id, []]));
  const add = (manifest: BackupManifest, reason: string): void => void reasons.get(manifest.id)!.push(reason);

  for (const [field, name, bucketOf] of PERIODS) {
    const limit = policy[field];
    const seen = new Set<string>();
    for (const manifest of ordered) {
      if (seen.size >= limit) break;
      const bucket = bucketOf(new Date(manifest.completedAt));
      if (seen.has(bucket)) continue;
      seen.add(bucket);
      add(manifest, `${name} ${bucket}`);
    }
  }
  const preDeployCutoff = now.getTime() - policy.keepPreDeployDays * 86_400_000;
  for (const manifest of ordered) {
    if (manifest.labels.includes('pre-deploy') && Date.parse(manifest.completedAt) >= preDeployCutoff) {
      add(manifest, `pre-deploy within ${policy.keepPreDeployDays} days`);
    }
  }
  const newestVerified = ordered.find((m) => m.verified !== null);
  if (newestVerified) add(newestVerified, 'newest verified backup');
  if (ordered[0]) add(ordered[0], 'newest backup');

  return {
    keep: ordered
      .filter((m) => reasons.get(m.id)!.length > 0)
      .map((manifest) => ({ manifest, reasons: reasons.get(manifest.id)! })),
    remove: ordered.filter((m) => reasons.get(m.id)!.length === 0),
  };
}
