import { formatDuration } from '@deploy-suite/kit';
import {
  listBackups,
  type BackupManifest,
  type BackupStore,
  type ManifestVerifier,
  type RejectedManifest,
} from '@deploy-suite/storage';

/** The operations policy: RPO under 1 hour, RTO under 4 hours. */
export const DEFAULT_MAX_AGE_MS = 3_600_000;
export const DEFAULT_MAX_RTO_MS = 4 * 3_600_000;

export interface Freshness {
  /** The newest backup that a restore has verified, or undefined when there is none. */
  newest: BackupManifest | undefined;
  /** How old its data is: from the moment the dump began (its snapshot) to now. */
  ageSeconds: number | undefined;
  /** The newest moment the data can be recovered to (the verified backup's snapshot time). */
  recoverableUntil: string | undefined;
  /** Newer backups not yet verified: they do not count until a restore has proved them. */
  unverifiedNewer: BackupManifest[];
  rejected: RejectedManifest[];
  /** Whether the newest verified backup is recent enough. */
  fresh: boolean;
}

/**
 * The freshness gate: the newest *verified* backup (a backup no restore has proved does not count
 * towards the RPO) and the age of its data, against `maxAgeMs`. A dump's data is as of the moment
 * it began, so the age counts from `startedAt`.
 */
export async function checkFreshness(options: {
  store: BackupStore;
  database: string;
  verifier: ManifestVerifier;
  maxAgeMs: number;
  now?: Date;
}): Promise<Freshness> {
  const now = options.now ?? new Date();
  const { backups, rejected } = await listBackups(options.store, options.database, options.verifier, now);
  const newestFirst = [...backups].sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt));
  const newest = newestFirst.find((manifest) => manifest.verified !== null);
  const unverifiedNewer =
    newest === undefined
      ? newestFirst
      : newestFirst.filter((m) => m.verified === null && Date.parse(m.startedAt) > Date.parse(newest.startedAt));
  const ageMs = newest === undefined ? undefined : Math.max(0, now.getTime() - Date.parse(newest.startedAt));
  return {
    newest,
    ageSeconds: ageMs === undefined ? undefined : Math.round(ageMs / 1000),
    recoverableUntil: newest?.startedAt,
    unverifiedNewer,
    rejected,
    fresh: ageMs !== undefined && ageMs <= options.maxAgeMs,
  };
}

/** A DR drill's figures: how long the restore took, and how old the restored data was. */
export interface DrillFigures {
  restoreSeconds: number;
  dataAgeSeconds: number;
  maxRtoSeconds: number;
  maxAgeSeconds: number | undefined;
  /** What the drill missed, in words; empty when it met both objectives. */
  missed: string[];
}

/**
 * A DR drill judged against its two objectives: the restore's time against the RTO, and the
 * restored data's age (a logical backup's snapshot, a physical restore's newest recoverable
 * point) against the RPO. An age that is not known fails the RPO: a drill fails closed.
 */
export function drillFigures(options: {
  restoreMs: number;
  maxRtoMs: number;
  dataAgeMs: number;
  /** Undefined when a chosen backup or past time was restored: that is not judged against the RPO. */
  maxAgeMs: number | undefined;
  /** What the data is, in the miss's words: "the newest backup's data", "the newest recoverable point". */
  what: string;
}): DrillFigures {
  const missed: string[] = [];
  if (!(options.restoreMs <= options.maxRtoMs)) {
    missed.push(
      `the restore took ${formatDuration(options.restoreMs)}, over the RTO of ${formatDuration(options.maxRtoMs)}`,
    );
  }
  if (options.maxAgeMs !== undefined && !(options.dataAgeMs <= options.maxAgeMs)) {
    missed.push(
      Number.isFinite(options.dataAgeMs)
        ? `${options.what} is ${formatDuration(options.dataAgeMs)} old, over the RPO of ${formatDuration(options.maxAgeMs)}`
        : `the age of ${options.what} is unknown`,
    );
  }
  return {
    restoreSeconds: Math.round(options.restoreMs / 100) / 10,
    dataAgeSeconds: Number.isFinite(options.dataAgeMs) ? Math.round(options.dataAgeMs / 1000) : Number.NaN,
    maxRtoSeconds: Math.round(options.maxRtoMs / 1000),
    maxAgeSeconds: options.maxAgeMs === undefined ? undefined : Math.round(options.maxAgeMs / 1000),
    missed,
  };
}
