import { describe, expect, it } from '@jest/globals';
import type { ChecklistContext, ItemKind } from '../src/item.ts';
import { runChecklist } from '../src/run.ts';

const failing: ItemKind<unknown> = {
  id: 'custom',
  schema: undefined as never,
  evaluate: () =>
    Promise.resolve([
      {
        id: 'custom:Security.Review',
        name: 'Security review',
        required: true,
        status: 'fail',
        code: 'label-missing',
        reason: 'no label',
        evidence: {},
      },
      {
        id: 'custom:docs',
        name: 'Docs',
        required: true,
        status: 'fail',
        code: 'label-missing',
        reason: 'no label',
        evidence: {},
      },
    ]),
};
const context = {
  sha: 'a'.repeat(40),
  environment: 'production',
  artifactDigest: undefined,
  pull: undefined,
} as unknown as ChecklistContext;
const waiver = (item: string) => ({
  item,
  reason: 'agreed',
  grantedBy: 'lead',
  expires: '2099-01-01T00:00:00.000Z',
  url: 'https://github.test/c/1',
});

describe('runChecklist', () => {
  it('applies a waiver to the item it names, whatever the case and with dots in the name, and to no other', async () => {
    const outcome = await runChecklist([{ kind: failing, rule: {} }], context, {
      valid: [waiver('custom:security.review')],
      refused: [],
    });
    expect(outcome.evidence.items.map((item) => [item.id, item.outcome])).toEqual([
      ['custom:Security.Review', 'waived'],
      ['custom:docs', 'fail'],
    ]);
    expect(outcome.evidence.verdict).toBe('fail');
  });

  it('fails an item that throws, with its reason, instead of leaving it out', async () => {
    const broken: ItemKind<unknown> = {
      id: 'tests-passing',
      schema: undefined as never,
      evaluate: () => Promise.reject(new Error('boom')),
    };
    const outcome = await runChecklist([{ kind: broken, rule: { required: true } }], context, {
      valid: [],
      refused: [],
    });
    expect(outcome.evidence.items).toEqual([
      expect.objectContaining({ id: 'tests-passing', outcome: 'fail', code: 'unavailable' }),
    ]);
    expect(outcome.evidence.verdict).toBe('fail');
  });
});
