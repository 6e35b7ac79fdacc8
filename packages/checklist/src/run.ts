import { checklistEvidenceHash } from '@deploy-suite/approval';
import type { ChecklistContext, ItemResult } from './item.ts';
import type { ConfiguredItem } from './rules.ts';
import type { Waiver, WaiverReading } from './waivers.ts';

export const EVIDENCE_VERSION = 1;

export interface JudgedItem extends ItemResult {
  /** pass, fail, or waived (a failed item with a valid waiver). */
  outcome: 'pass' | 'fail' | 'waived';
  waiver?: Waiver;
}

/** What the checklist hands on: about the exact SHA, stable between runs, hashed for the approval. */
export interface ChecklistEvidence {
  version: typeof EVIDENCE_VERSION;
  sha: string;
  artifactDigest: string | null;
  environment: string;
  pullRequest: number | null;
  verdict: 'pass' | 'fail';
  items: JudgedItem[];
}

export interface ChecklistOutcome {
  evidence: ChecklistEvidence;
  evidenceHash: string;
  refusedWaivers: WaiverReading['refused'];
}

/**
 * Every item evaluated (one failing to run is a fail with its reason, never skipped), waivers
 * applied to failed items they name, and the verdict: fail when any required item failed
 * without a waiver. The hash is approval-gate's checklist hash over exactly this evidence.
 */
export async function runChecklist(
  items: readonly ConfiguredItem[],
  context: ChecklistContext,
  waivers: WaiverReading,
): Promise<ChecklistOutcome> {
  const judged: JudgedItem[] = [];
  for (const { kind, rule } of items) {
    let results: ItemResult[];
    try {
      const result = await kind.evaluate(rule, context);
      results = Array.isArray(result) ? result : [result];
    } catch (error) {
      results = [
        {
          id: kind.id,
          name: kind.id,
          required: (rule as { required?: boolean }).required ?? true,
          status: 'fail',
          code: 'unavailable',
          reason: `Could not evaluate: ${error instanceof Error ? error.message.slice(0, 400) : String(error)}`,
          evidence: {},
        },
      ];
    }
    for (const result of results) {
      const waiver =
        result.status === 'fail'
          ? waivers.valid.find((w) => w.item.toLowerCase() === result.id.toLowerCase())
          : undefined;
      judged.push({ ...result, outcome: waiver ? 'waived' : result.status, ...(waiver ? { waiver } : {}) });
    }
  }
  const verdict = judged.some((item) => item.required && item.outcome === 'fail') ? 'fail' : 'pass';
  const evidence: ChecklistEvidence = {
    version: EVIDENCE_VERSION,
    sha: context.sha,
    artifactDigest: context.artifactDigest ?? null,
    environment: context.environment,
    pullRequest: context.pull?.number ?? null,
    verdict,
    items: judged,
  };
  return { evidence, evidenceHash: checklistEvidenceHash(evidence), refusedWaivers: waivers.refused };
}
