/**
 * Incident severities of the operations policy (P1: down, data loss, breach), for a production
 * deployment that failed or was rolled back. No GitHub in here: the caller gathers the facts from
 * the notification thread's stages, the deployment record and its inputs.
 */
export const INCIDENT_SEVERITIES = ['P1', 'P2', 'P3', 'P4'] as const;
export type IncidentSeverity = (typeof INCIDENT_SEVERITIES)[number];

/**
 * What is known about a deployment that ended badly. Each fact is true only when something says
 * so; a caller that cannot tell (a record it could not read) leaves it at what it does know.
 */
export interface IncidentFacts {
  /** How the deployment ended: `failed`, or `rolled-back` (the previous release put back). */
  status: 'failed' | 'rolled-back';
  /**
   * Traffic moved to the new release: a `switched` stage in the thread, or a switch record with a
   * success or failure status (a switch fails only after it began routing).
   */
  trafficMoved: boolean;
  /** A rollback put the previous release back: a `rolled-back` stage, or a record saying so. */
  rolledBack: boolean;
  /** A rollback was tried and failed or did not verify (a rollback's own record ended in failure). */
  rollbackFailed: boolean;
  /** The pre-deploy backup was restored: whatever was written since it is lost. */
  databaseRestored: boolean;
  /** Migrations ran: a `migrated` stage, or a plan hash given. */
  migrated: boolean;
  /** The pre-deploy backup was taken: a `backed-up` stage, or a backup id given. */
  backedUp: boolean;
}

export interface IncidentAssessment {
  severity: IncidentSeverity;
  /** One line: the fact that decided the severity. */
  reason: string;
}

/**
 * The incident severity the policy gives a failed or rolled-back production deployment, the
 * first rule that holds deciding:
 *
 * - **P1** — production is left broken or data is lost: the database was restored from the
 *   pre-deploy backup; or a rollback failed; or the deployment `failed` after traffic moved and
 *   no rollback succeeded.
 * - **P2** — users were served by the failed release and it was rolled back (`rolled-back`, or a
 *   failure after traffic moved that a rollback undid).
 * - **P3** — it failed after it changed something (migrations ran, or the backup was taken and the
 *   deployment was under way) but before traffic moved.
 * - **P4** — it failed before changing anything.
 *
 * A fact that is unknown counts as absent, so the severity rests on what the thread and record
 * show; give the `database-restored` fact whenever the restore happened outside the thread.
 */
export function incidentSeverity(facts: IncidentFacts): IncidentAssessment {
  if (facts.databaseRestored) {
    return {
      severity: 'P1',
      reason: 'the database was restored from the pre-deploy backup: data written since the backup is lost',
    };
  }
  if (facts.rollbackFailed) return { severity: 'P1', reason: 'the rollback failed: production is left broken' };
  if (facts.status === 'failed' && facts.trafficMoved && !facts.rolledBack) {
    return {
      severity: 'P1',
      reason: 'the deployment failed after traffic moved and no rollback succeeded: production is left broken',
    };
  }
  if (facts.status === 'rolled-back' || (facts.trafficMoved && facts.rolledBack)) {
    return { severity: 'P2', reason: 'users were served by the failed release, and it was rolled back' };
  }
  if (facts.migrated) {
    return { severity: 'P3', reason: 'the deployment failed after its migrations ran, before traffic moved' };
  }
  if (facts.backedUp) {
    return {
      severity: 'P3',
      reason: 'the deployment failed after it began changing production (the backup was taken), before traffic moved',
    };
  }
  return { severity: 'P4', reason: 'the deployment failed before it changed anything' };
}

/** P1..P4 (any case) as a severity, or undefined. */
export function parseIncidentSeverity(text: string): IncidentSeverity | undefined {
  const upper = text.trim().toUpperCase();
  return (INCIDENT_SEVERITIES as readonly string[]).includes(upper) ? (upper as IncidentSeverity) : undefined;
}
