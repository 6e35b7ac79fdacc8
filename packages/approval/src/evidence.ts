import { createHash } from 'node:crypto';

/** What an approval is bound to: exactly what will run. */
export interface Evidence {
  sha?: string | undefined;
  artifactDigest?: string | undefined;
  migrationPlanHash?: string | undefined;
  /** verify-checklist's JSON output, parsed (or its text, hashed as that text). */
  checklistEvidence?: unknown;
}

export const EVIDENCE_HASH = /^sha256:[0-9a-f]{64}$/;

/**
 * JSON with object keys sorted at every level, so the same evidence always gives the same
 * text whatever order its producer wrote the keys in. Values JSON cannot hold exactly (NaN,
 * Infinity, undefined inside an array, functions, bigints) are refused rather than silently
 * changed, since two different evidences must never share a hash.
 */
export function canonicalJson(value: unknown, path = '$'): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`${path} is ${value}, which JSON cannot hold`);
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((item, i) => canonicalJson(item, `${path}[${i}]`)).join(',')}]`;
      const entries = Object.entries(value as Record<string, unknown>)
        .filter(([, item]) => item !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item, `${path}.${key}`)}`).join(',')}}`;
    }
    default:
      throw new TypeError(`${path} is a ${typeof value}, which JSON cannot hold`);
  }
}

/**
 * SHA-256 over the canonical JSON of exactly {sha, artifactDigest, migrationPlanHash,
 * checklistEvidence} (an absent field as null), as `sha256:<hex>`. Anything else a caller
 * passes is left out, so the hash means the same thing in every step that computes it.
 */
export function evidenceHash(evidence: Evidence): string {
  const bound = {
    sha: evidence.sha ?? null,
    artifactDigest: evidence.artifactDigest ?? null,
    migrationPlanHash: evidence.migrationPlanHash ?? null,
    checklistEvidence: evidence.checklistEvidence ?? null,
  };
  return `sha256:${createHash('sha256').update(canonicalJson(bound), 'utf8').digest('hex')}`;
}

/** The checklist evidence alone, hashed the same way, for the change request record. */
export function checklistEvidenceHash(checklistEvidence: unknown): string {
  return `sha256:${createHash('sha256')
    .update(canonicalJson(checklistEvidence ?? null), 'utf8')
    .digest('hex')}`;
}
