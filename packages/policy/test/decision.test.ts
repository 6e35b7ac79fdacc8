import { describe, expect, it } from '@jest/globals';
import { decideChange, parsePolicy, POLICY_EXAMPLE, type ChangeRequest, type Decision } from '../src/index.ts';

const DAY = 86_400_000;

// Windows on the first Sunday, 02:00–04:00 Berlin time: 6 Dec 2026 is 01:00–03:00 UTC,
// 3 Jan 2027 the same; a yearly freeze over the year end and a fixed one over 7 Feb 2027.
const policy = parsePolicy(`
time-zone: Europe/Berlin
notice: 7d
freezes:
  - { from: "12-20", to: "01-05", reason: year end }
  - { from: "2027-02-05", to: "2027-02-08", reason: trade fair }
outside-window: { standard: fail, normal: wait }
approvals: { low: 1, medium: 2, high: 3 }
`);

const DEC_WINDOW = new Date('2026-12-06T01:00:00Z');
const JAN_WINDOW = new Date('2027-01-03T01:00:00Z');
const MAR_WINDOW = new Date('2027-03-07T01:00:00Z');

const at = (iso: string) => new Date(iso);
const daysBefore = (instant: Date, days: number) => new Date(instant.getTime() - days * DAY);

function request(overrides: Partial<ChangeRequest> = {}): ChangeRequest {
  return { type: 'normal', openedAt: daysBefore(DEC_WINDOW, 10), risk: 'low', ...overrides };
}

const fullPlan = { backupId: 'b-20261127', backupVerified: true, previousColour: 'blue', previousColourRunning: true };

function text(decision: Decision): string {
  return decision.reasons.join('\n');
}

describe('planned changes and windows', () => {
  it('allows a normal change inside its window with the notice met', () => {
    const decision = decideChange(policy, request(), at('2026-12-06T01:30:00Z'));
    expect(decision.outcome).toBe('allowed');
    expect(decision.window?.start).toEqual(DEC_WINDOW);
    expect(decision.approvals).toEqual({ count: 1, when: 'before' });
    expect(decision.reasons).toEqual([
      'normal change inside window "first sunday 02:00-04:00" 2026-12-06 02:00 Europe/Berlin – 2026-12-06 04:00 Europe/Berlin (2026-12-06T01:00:00.000Z)',
      '7d notice met: request opened 10d before the window',
    ]);
  });

  it('allows a standard change inside its window with no approvals', () => {
    const decision = decideChange(policy, request({ type: 'standard', risk: undefined }), at('2026-12-06T02:59:00Z'));
    expect(decision.outcome).toBe('allowed');
    expect(decision.approvals).toEqual({ count: 0, when: 'none' });
  });

  it('counts the notice to the minute: exactly 7 days is enough, one minute less is not', () => {
    const now = at('2026-12-06T01:30:00Z');
    expect(decideChange(policy, request({ openedAt: daysBefore(DEC_WINDOW, 7) }), now).outcome).toBe('allowed');
    const late = decideChange(
      policy,
      request({ openedAt: new Date(daysBefore(DEC_WINDOW, 7).getTime() + 60_000) }),
      now,
    );
    expect(late.outcome).toBe('wait');
    expect(text(late)).toContain('lacks 7d notice: request opened 6d 23h 59m before the window');
  });

  it('asks no notice when the policy gives none: a request opened inside the window may use it', () => {
    const none = parsePolicy('time-zone: Europe/Berlin\nnotice: 0s\n');
    const now = at('2026-12-06T01:30:00Z');
    const opened = at('2026-12-06T01:20:00Z');
    const allowed = decideChange(none, request({ openedAt: opened }), now);
    expect(allowed.outcome).toBe('allowed');
    expect(allowed.reasons).toContain('the policy asks no notice');
    expect(decideChange(policy, request({ openedAt: opened }), now).outcome).toBe('wait');
  });

  it('makes a normal change opened too late wait for the next window that has the notice', () => {
    // Opened 3 days before December's window; January's window is frozen (year end), so March
    // is next: February's (7 Feb) falls in the trade fair.
    const decision = decideChange(policy, request({ openedAt: daysBefore(DEC_WINDOW, 3) }), at('2026-12-06T01:30:00Z'));
    expect(decision).toMatchObject({ outcome: 'wait', until: MAR_WINDOW, nextWindowStart: MAR_WINDOW });
    expect(decision.reasons).toEqual([
      expect.stringContaining('lacks 7d notice: request opened 3d before the window'),
      '2 later window(s) skipped: inside a freeze',
      expect.stringContaining(
        'normal changes wait outside a window: next usable window "first sunday 02:00-04:00" 2027-03-07 02:00',
      ),
    ]);
  });

  it('refuses a standard change outside a window and names the next window', () => {
    const decision = decideChange(policy, request({ type: 'standard' }), at('2026-11-27T10:00:00Z'));
    expect(decision.outcome).toBe('refused');
    expect(decision.nextWindowStart).toEqual(DEC_WINDOW);
    expect(decision.reasons).toEqual([
      'outside every maintenance window standard changes may use',
      expect.stringContaining(
        'standard changes fail outside a window: next usable window "first sunday 02:00-04:00" 2026-12-06 02:00',
      ),
    ]);
  });

  it('makes a normal change outside a window wait until the window opens', () => {
    const decision = decideChange(policy, request(), at('2026-11-27T10:00:00Z'));
    expect(decision).toMatchObject({ outcome: 'wait', until: DEC_WINDOW });
    // Once the window opens, the same request is allowed.
    expect(decideChange(policy, request(), DEC_WINDOW).outcome).toBe('allowed');
  });

  it('lets a standard change use its weekly window while a normal change waits for the monthly one', () => {
    const example = parsePolicy(POLICY_EXAMPLE);
    // Tuesday 1 December 2026, 22:30 in Berlin.
    const tuesdayEvening = at('2026-12-01T21:30:00Z');
    const opened = daysBefore(tuesdayEvening, 8);
    const standard = decideChange(example, request({ type: 'standard', openedAt: opened }), tuesdayEvening);
    expect(standard.outcome).toBe('allowed');
    expect(standard.window?.rule.label).toBe('tuesday, thursday 22:00-23:30');
    const normal = decideChange(example, request({ openedAt: opened }), tuesdayEvening);
    expect(normal).toMatchObject({ outcome: 'wait', until: DEC_WINDOW });
    expect(normal.reasons[0]).toBe('outside every maintenance window normal changes may use');
  });

  it('counts the notice each planned type asks for', () => {
    const example = parsePolicy(POLICY_EXAMPLE); // standard 1d, normal 7d
    const thursdayEvening = at('2026-12-03T21:30:00Z');
    const opened = daysBefore(thursdayEvening, 2);
    expect(decideChange(example, request({ type: 'standard', openedAt: opened }), thursdayEvening).outcome).toBe(
      'allowed',
    );
    const normal = decideChange(example, request({ openedAt: opened }), at('2026-12-06T01:30:00Z'));
    expect(normal.outcome).toBe('wait');
    expect(text(normal)).toContain('lacks 7d notice');
  });

  it('skips windows that come before the notice is met', () => {
    const decision = decideChange(
      policy,
      request({ openedAt: at('2026-12-01T00:00:00Z') }),
      at('2026-12-02T00:00:00Z'),
    );
    expect(decision).toMatchObject({ outcome: 'wait', until: MAR_WINDOW });
    expect(text(decision)).toContain('1 later window(s) skipped: less than 7d notice after the request');
  });
});

describe('freezes win over windows', () => {
  it('refuses the frozen January window even with the notice met, and waits past it', () => {
    const decision = decideChange(
      policy,
      request({ openedAt: daysBefore(JAN_WINDOW, 30) }),
      at('2027-01-03T01:30:00Z'),
    );
    expect(decision.outcome).toBe('wait');
    expect(decision.reasons[0]).toContain('is frozen: "year end"');
    // February (trade fair) is skipped as well.
    expect(decision).toMatchObject({ until: MAR_WINDOW });
  });

  it('a standard change in a frozen window is refused', () => {
    const decision = decideChange(
      policy,
      request({ type: 'standard', openedAt: daysBefore(JAN_WINDOW, 30) }),
      JAN_WINDOW,
    );
    expect(decision.outcome).toBe('refused');
    expect(text(decision)).toContain('is frozen: "year end" (every 12-20 to 01-05)');
  });

  it('refuses when no window within reach escapes the freezes', () => {
    const frozen = parsePolicy(
      'time-zone: UTC\noutside-window: { normal: wait }\nfreezes: [{ from: "2026-01-01", to: "2028-12-31", reason: moratorium }]',
    );
    const decision = decideChange(
      frozen,
      request({ openedAt: at('2026-11-01T00:00:00Z') }),
      at('2026-11-27T00:00:00Z'),
    );
    expect(decision.outcome).toBe('refused');
    expect(decision.nextWindowStart).toBeUndefined();
    expect(text(decision)).toContain('no usable maintenance window within reach');
  });
});

describe('emergency changes', () => {
  const inFreeze = at('2026-12-24T15:00:00Z');

  it('deploys at once with a complete rollback plan, recording the window and freeze bypasses', () => {
    const decision = decideChange(
      policy,
      request({ type: 'emergency', risk: 'high', openedAt: daysBefore(inFreeze, 0), rollbackPlan: fullPlan }),
      inFreeze,
    );
    expect(decision.outcome).toBe('allowed');
    expect(decision.approvals).toEqual({ count: 3, when: 'after' });
    expect(decision.bypassed).toEqual([
      { rule: 'window', detail: 'outside every maintenance window (next opens 2027-01-03 02:00 Europe/Berlin)' },
      { rule: 'freeze', detail: 'inside the freeze "year end" (every 12-20 to 01-05)' },
    ]);
    expect(decision.reasons).toEqual([
      'emergency change with a complete rollback plan: deploy now, approve afterwards',
      'rollback: backup b-20261127, verified',
      'rollback: previous colour blue still running',
      'bypassed window: outside every maintenance window (next opens 2027-01-03 02:00 Europe/Berlin)',
      'bypassed freeze: inside the freeze "year end" (every 12-20 to 01-05)',
    ]);
  });

  it('records no bypass when already inside an open window', () => {
    const decision = decideChange(
      policy,
      request({ type: 'emergency', openedAt: DEC_WINDOW, rollbackPlan: fullPlan }),
      DEC_WINDOW,
    );
    expect(decision.outcome).toBe('allowed');
    expect(decision.bypassed).toEqual([]);
  });

  it('refuses without a rollback plan, giving every missing part', () => {
    const decision = decideChange(policy, request({ type: 'emergency', openedAt: inFreeze }), inFreeze);
    expect(decision.outcome).toBe('refused');
    expect(decision.reasons).toEqual([
      'emergency change refused, rollback plan incomplete: no backup id',
      'emergency change refused, rollback plan incomplete: no previous colour',
    ]);
  });

  it('refuses a plan that names but does not confirm its parts', () => {
    const plan = { backupId: 'b-1', backupVerified: false, previousColour: 'green', previousColourRunning: false };
    const decision = decideChange(
      policy,
      request({ type: 'emergency', openedAt: inFreeze, rollbackPlan: plan }),
      inFreeze,
    );
    expect(decision.outcome).toBe('refused');
    expect(decision.reasons).toEqual([
      'emergency change refused, rollback plan incomplete: backup b-1 is not verified',
      'emergency change refused, rollback plan incomplete: previous colour green is not running',
    ]);
  });

  it('asks only what the policy requires of the plan', () => {
    const colourOnly = parsePolicy('time-zone: UTC\nemergency: { rollback-requires: [previous-colour] }');
    const plan = { previousColour: 'green', previousColourRunning: true };
    const decision = decideChange(
      colourOnly,
      request({ type: 'emergency', openedAt: inFreeze, rollbackPlan: plan }),
      inFreeze,
    );
    expect(decision.outcome).toBe('allowed');
  });
});

describe('fails closed on what it cannot decide', () => {
  const now = at('2026-12-06T01:30:00Z');
  it.each<[string, ChangeRequest, Date, string]>([
    ['an invalid now', request(), new Date(Number.NaN), 'the current time is not a valid date'],
    ['an invalid opening time', request({ openedAt: new Date('not a date') }), now, 'opening time is not a valid date'],
    ['an unknown change type', request({ type: 'urgent' }), now, 'unknown change type "urgent"'],
    [
      'a request opened in the future',
      request({ openedAt: at('2026-12-07T00:00:00Z') }),
      now,
      'opened after the current time',
    ],
  ])('%s', (_case, changeRequest, instant, reason) => {
    const decision = decideChange(policy, changeRequest, instant);
    expect(decision.outcome).toBe('refused');
    expect(text(decision)).toContain(reason);
  });

  it('counts approvals for a normal change of unassessed risk as for high risk', () => {
    const decision = decideChange(policy, request({ risk: undefined }), now);
    expect(decision.approvals).toEqual({ count: 3, when: 'before' });
    expect(decision.reasons).toContain('risk not assessed: approvals counted as for high risk');
  });
});
