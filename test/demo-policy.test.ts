// The demo's change policy is placed around the moment the demo runs, so that its normal and
// standard changes are inside a window whatever the hour or the day of the month.
import { describe, expect, it } from '@jest/globals';
import { decideChange, parsePolicy } from '../packages/policy/src/index.ts';
import { demoPolicy } from '../scripts/demo/repository.ts';

const moments = [
  '2026-11-27T18:13:00Z', // a fourth Friday
  '2026-11-29T00:10:00Z', // the window starts the day before, passing midnight
  '2026-12-31T23:59:00Z', // a fifth weekday: "last"
  '2027-01-01T00:30:00Z', // a first Friday whose window began on the last Thursday of December
  '2027-02-28T12:00:00Z',
  '2027-03-07T03:00:00Z',
];

describe('the demo policy', () => {
  it.each(moments)(
    'lets a normal and a standard change through at %s, opened a minute later, running up to 2 h',
    (iso) => {
      const now = new Date(iso);
      const policy = parsePolicy(demoPolicy(now));
      const openedAt = new Date(now.getTime() + 60_000);
      for (const offset of [60_000, 30 * 60_000, 2 * 3600_000]) {
        const at = new Date(now.getTime() + offset);
        for (const type of ['normal', 'standard'] as const) {
          const decision = decideChange(policy, { type, openedAt, risk: 'low' }, at);
          expect({ type, at: at.toISOString(), outcome: decision.outcome, reasons: decision.reasons }).toMatchObject({
            outcome: 'allowed',
          });
        }
      }
    },
  );
});
