import { formatDuration } from '@deploy-suite/kit';
import type { DrillFigures } from '@deploy-suite/backup';

/** What a physical restore held: the database checked and its exact row counts per table. */
export interface RestoredData {
  database: string;
  rows: Record<string, number>;
}

/**
 * A physical drill's figures, judged as the logical drill's (drillFigures in @deploy-suite/backup),
 * but from the age of the newest recoverable point rather than a manifest's snapshot time.
 * An unknown age fails the RPO (fail closed).
 */
export function physicalDrill(options: {
  restoreSeconds: number;
  maxRtoMs: number;
  dataAgeSeconds: number;
  maxAgeMs: number | undefined;
}): DrillFigures {
  const missed: string[] = [];
  if (options.restoreSeconds * 1000 > options.maxRtoMs)
    missed.push(
      `the restore took ${formatDuration(options.restoreSeconds * 1000)}, over the RTO of ${formatDuration(options.maxRtoMs)}`,
    );
  if (options.maxAgeMs !== undefined && !(options.dataAgeSeconds * 1000 <= options.maxAgeMs))
    missed.push(
      Number.isFinite(options.dataAgeSeconds)
        ? `the newest recoverable point is ${formatDuration(options.dataAgeSeconds * 1000)} old, over the RPO of ${formatDuration(options.maxAgeMs)}`
        : 'the age of the newest recoverable point is unknown',
    );
  return {
    restoreSeconds: Math.round(options.restoreSeconds * 10) / 10,
    dataAgeSeconds: options.dataAgeSeconds,
    maxRtoSeconds: Math.round(options.maxRtoMs / 1000),
    maxAgeSeconds: options.maxAgeMs === undefined ? undefined : Math.round(options.maxAgeMs / 1000),
    missed,
  };
}
