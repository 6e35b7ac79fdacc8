import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { checklistEvidenceHash, evidenceHash } from '../src/index.ts';

const sha256 = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;
const full = {
  sha: 'a'.repeat(40),
  artifactDigest: 'sha256:' + '1'.repeat(64),
  migrationPlanHash: 'sha256:' + '2'.repeat(64),
  checklistEvidence: { passed: true, items: [{ name: 'tests', ok: true }] },
};

describe('evidence hash', () => {
  it('is SHA-256 over the canonical JSON of exactly the four fields, absent ones as null', () => {
    expect(evidenceHash({ sha: 'abc' })).toBe(
      sha256('{"artifactDigest":null,"checklistEvidence":null,"migrationPlanHash":null,"sha":"abc"}'),
    );
    expect(evidenceHash({ sha: 'abc', extra: 'ignored' } as never)).toBe(evidenceHash({ sha: 'abc' }));
    expect(evidenceHash(full)).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('does not depend on the order the checklist evidence lists its keys in', () => {
    const reordered = { ...full, checklistEvidence: { items: [{ ok: true, name: 'tests' }], passed: true } };
    expect(evidenceHash(reordered)).toBe(evidenceHash(full));
  });

  it.each(['sha', 'artifactDigest', 'migrationPlanHash'] as const)('changes when %s changes or goes', (field) => {
    expect(evidenceHash({ ...full, [field]: `${full[field]}0` })).not.toBe(evidenceHash(full));
    expect(evidenceHash({ ...full, [field]: undefined })).not.toBe(evidenceHash(full));
  });

  it('changes when any checklist item changes, and tells a string from the JSON it spells', () => {
    const failed = { ...full, checklistEvidence: { passed: true, items: [{ name: 'tests', ok: false }] } };
    expect(evidenceHash(failed)).not.toBe(evidenceHash(full));
    expect(evidenceHash({ checklistEvidence: '{"a":1}' })).not.toBe(evidenceHash({ checklistEvidence: { a: 1 } }));
    expect(checklistEvidenceHash(full.checklistEvidence)).toBe(
      sha256('{"items":[{"name":"tests","ok":true}],"passed":true}'),
    );
  });

  it('refuses evidence JSON cannot hold, rather than hashing it as something else', () => {
    expect(() => evidenceHash({ checklistEvidence: { ratio: Number.NaN } })).toThrow(
      /\$\.checklistEvidence\.ratio is NaN/,
    );
    expect(() => evidenceHash({ checklistEvidence: [1n] })).toThrow(/bigint/);
  });
});
