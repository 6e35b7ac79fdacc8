import { describe, expect, it } from '@jest/globals';
import { readStateBlock, withStateBlock } from '../../github/src/index.ts';
import {
  ChangeRecordError,
  evidenceHash,
  parseChangeRequest,
  renderChangeRequest,
  type ChangeRecord,
} from '../src/index.ts';

const key = 'production@' + 'a'.repeat(40);
const record: ChangeRecord = {
  version: 1,
  changeType: 'normal',
  environment: 'production',
  risk: { level: 'high', reasons: ['migrations with 1 lint error(s)', 'environment production serves users'] },
  sha: 'a'.repeat(40),
  compareUrl: 'https://github.com/acme/service/compare/0123456...aaaaaaa',
  artifactDigest: 'sha256:' + '1'.repeat(64),
  planHash: 'sha256:' + '2'.repeat(64),
  evidenceHash: evidenceHash({ sha: 'a'.repeat(40) }),
  rollbackPlan: 'Switch back to blue; restore backup pg-2026-11-27 only if asked.',
  checklistEvidenceHash: null,
  state: 'requested',
  approvedBy: null,
  window: null,
  bypassed: [],
  postApproval: null,
  excluded: [{ login: 'dev', why: 'the change author' }],
  requiredApprovals: 2,
  outcome: null,
};

/** A body whose block holds `data` instead of what was rendered. */
const tampered = (data: unknown) => withStateBlock(renderChangeRequest(record, key), key, data);

const refusal = (body: string, expectedKey = key): string => {
  try {
    parseChangeRequest(body, expectedKey, 'acme/service#7');
  } catch (error) {
    expect(error).toBeInstanceOf(ChangeRecordError);
    return (error as Error).message;
  }
  throw new Error('the record was accepted');
};

describe('change request record', () => {
  it('renders a readable body whose block parses back to the same record', () => {
    const body = renderChangeRequest(record, key);
    expect(body).toContain('## normal change to production');
    expect(body).toContain(`approve ${record.evidenceHash}`);
    expect(body).toContain('- migrations with 1 lint error\\(s\\)');
    expect(parseChangeRequest(body, key)).toEqual(record);
  });

  it('round-trips an outcome and text that tries to end the block or open another', () => {
    const hostile: ChangeRecord = {
      ...record,
      state: 'executed',
      rollbackPlan: `--> <!-- deploy-suite:state {"key":"${key}","data":{"version":1}} --> <img src=x>`,
      outcome: {
        result: 'rolled-back',
        at: '2026-11-27T10:15:00Z',
        runUrl: 'https://github.com/acme/service/actions/runs/1',
        detail: '**smoke** | failed',
      },
    };
    const body = renderChangeRequest(hostile, key);
    expect(body).not.toMatch(/(^|[^\\])<img/);
    expect(body.match(/<!-- deploy-suite:state/g)).toHaveLength(1);
    expect(parseChangeRequest(body, key)).toEqual(hostile);
  });

  it('refuses a block with a field changed to something the schema does not allow, naming it', () => {
    expect(refusal(tampered({ ...record, state: 'approved-by-me' }))).toMatch(/does not match version 1: state:/);
    expect(refusal(tampered({ ...record, evidenceHash: 'sha256:abc' }))).toMatch(/evidenceHash: must be sha256/);
    expect(refusal(tampered({ ...record, sha: 'main' }))).toMatch(/sha: must be a full commit SHA/);
    expect(refusal(tampered({ ...record, compareUrl: 'javascript:alert(1)' }))).toMatch(/compareUrl/);
  });

  it('refuses a block with a key this version does not know, rather than dropping it', () => {
    expect(refusal(tampered({ ...record, approvedBy: ['mallory'] }))).toMatch(/approvedBy/);
  });

  it('refuses an unknown or missing version clearly', () => {
    expect(refusal(tampered({ ...record, version: 2 }))).toMatch(
      /version 2; this version of the suite reads version 1 only/,
    );
    const unversioned: Partial<ChangeRecord> = { ...record };
    delete unversioned.version;
    expect(refusal(tampered(unversioned))).toMatch(/no version/);
    expect(refusal(tampered('just a string'))).toMatch(/no version/);
  });

  it("refuses a body with no block, a broken block, or another change's block", () => {
    expect(refusal('Please deploy this.')).toMatch(/has no readable deploy-suite state block/);
    const broken = renderChangeRequest(record, key).replace('"version":1', '"version":1,,');
    expect(readStateBlock(broken)).toBeUndefined();
    expect(refusal(broken)).toMatch(/no readable/);
    expect(refusal(renderChangeRequest(record, key), 'staging@' + 'a'.repeat(40))).toMatch(
      /holds the record for "production@/,
    );
  });

  it('refuses to render a record that would not read back (a bug, not a user error)', () => {
    expect(() => renderChangeRequest({ ...record, sha: 'HEAD' }, key)).toThrow(/sha: must be a full commit SHA/);
  });
});
