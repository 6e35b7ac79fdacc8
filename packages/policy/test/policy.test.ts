import { describe, expect, it } from '@jest/globals';
import { parseChangeType, parsePolicy, POLICY_EXAMPLE } from '../src/index.ts';
import { inputErrorOf } from '../../../test/helpers/expect-input-error.ts';

describe('a valid policy', () => {
  it('reads the example, which every error shows', () => {
    const policy = parsePolicy(POLICY_EXAMPLE);
    expect(policy.timeZone).toBe('Europe/Berlin');
    expect(policy.windows).toEqual([
      {
        label: 'first sunday 02:00-04:00',
        schedule: { kind: 'monthly', nth: 1, weekday: 0 },
        changeTypes: ['standard', 'normal'],
        startMinute: 120,
        endMinute: 240,
      },
      {
        label: 'tuesday, thursday 22:00-23:30',
        schedule: { kind: 'weekly', weekdays: [2, 4] },
        changeTypes: ['standard'],
        startMinute: 1320,
        endMinute: 1410,
      },
    ]);
    expect(policy.freezes).toEqual([
      { kind: 'yearly', from: { month: 12, day: 20 }, to: { month: 1, day: 2 }, reason: 'year end' },
    ]);
    expect(policy.noticeMs).toEqual({ standard: 86_400_000, normal: 7 * 86_400_000 });
    expect(policy.outsideWindow).toEqual({ standard: 'fail', normal: 'wait' });
    expect(policy.approvals).toEqual({ low: 1, medium: 1, high: 2 });
  });

  it('defaults to one 02:00–04:00 window on the first Sunday, 7 days notice, failing outside it', () => {
    const policy = parsePolicy('time-zone: America/New_York');
    expect(policy.windows).toHaveLength(1);
    expect(policy.windows[0]).toMatchObject({
      schedule: { kind: 'monthly', nth: 1, weekday: 0 },
      startMinute: 120,
      endMinute: 240,
    });
    expect(policy.noticeMs).toEqual({ standard: 7 * 86_400_000, normal: 7 * 86_400_000 });
    expect(policy.outsideWindow).toEqual({ standard: 'fail', normal: 'fail' });
    expect(policy.emergencyRollback).toEqual(['verified-backup', 'previous-colour']);
    expect(policy.freezes).toEqual([]);
  });

  it('reads JSON, weekly days, fixed freezes and a 4-hour window past midnight', () => {
    const policy = parsePolicy(
      JSON.stringify({
        'time-zone': 'Asia/Kolkata',
        windows: [{ on: 'Sat, sun', time: '22:00-02:00', for: ['standard'] }],
        notice: '36h',
        freezes: [{ from: '2026-11-26', to: '2026-11-30', reason: 'sale' }],
        emergency: { 'rollback-requires': ['previous-colour'] },
        risk: { 'risky-paths': ['infra/**'], diff: { medium: { files: 5, lines: 50 } } },
      }),
    );
    expect(policy.windows[0]).toMatchObject({
      schedule: { kind: 'weekly', weekdays: [0, 6] },
      startMinute: 1320,
      endMinute: 120,
    });
    expect(policy.noticeMs).toEqual({ standard: 36 * 3_600_000, normal: 36 * 3_600_000 });
    expect(policy.freezes[0]).toEqual({
      kind: 'dates',
      from: { year: 2026, month: 11, day: 26 },
      to: { year: 2026, month: 11, day: 30 },
      reason: 'sale',
    });
    expect(policy.emergencyRollback).toEqual(['previous-colour']);
    expect(policy.risk).toEqual({
      riskyPaths: ['infra/**'],
      diff: { medium: { files: 5, lines: 50 }, high: { files: 100, lines: 2000 } },
    });
  });
});

describe('a bad policy is an InputError naming the input, with a valid example', () => {
  const zone = 'time-zone: Europe/Berlin\n';
  it.each([
    ['a window at 25:00', `${zone}windows: [{ time: "25:00-04:00" }]`, 'windows.0.time: must be a local time range'],
    [
      'a window over 4 hours',
      `${zone}windows: [{ time: "01:00-05:30" }]`,
      'must be at most 4 hours long, got "01:00-05:30" (4.5 hours)',
    ],
    ['a window past midnight over 4 hours', `${zone}windows: [{ time: "22:00-03:00" }]`, 'at most 4 hours long'],
    ['an empty window', `${zone}windows: [{ time: "02:00-02:00" }]`, 'must not start and end at the same time'],
    ['an unknown time zone', 'time-zone: Europe/Atlantis', 'is not a time zone Intl knows: "Europe/Atlantis"'],
    ['no time zone', 'windows: [{ on: first sunday }]', 'time-zone'],
    ['a misspelt key', 'timezone: Europe/Berlin', 'timezone'],
    [
      'a weekly window for normal changes',
      `${zone}windows: [{ on: sunday }]`,
      'must give normal changes at most one planned window a month',
    ],
    [
      'two planned windows a month',
      `${zone}windows: [{ on: first sunday }, { on: third sunday }]`,
      '"first sunday 02:00-04:00", "third sunday 02:00-04:00"',
    ],
    ['a window for an emergency', `${zone}windows: [{ on: sunday, for: [emergency] }]`, 'windows.0.for.0'],
    [
      'a fifth Sunday',
      `${zone}windows: [{ on: fifth sunday }]`,
      'windows.0.on: must be "<first|second|third|fourth|last> <weekday>"',
    ],
    ['an unknown weekday', `${zone}windows: [{ on: "saturday, caturday" }]`, 'got "saturday, caturday"'],
    ['no windows', `${zone}windows: []`, 'windows'],
    ['a notice that is no duration', `${zone}notice: a week`, 'notice: must be a duration such as 7d'],
    ['a notice per type that is no duration', `${zone}notice: { normal: soon }`, 'notice.normal: must be a duration'],
    ['a notice for an emergency', `${zone}notice: { emergency: 1d }`, 'emergency'],
    [
      'a day the calendar lacks',
      `${zone}freezes: [{ from: "2027-02-29", to: "2027-03-01", reason: x }]`,
      'is not a day of the calendar: "2027-02-29"',
    ],
    [
      'a freeze ending before it starts',
      `${zone}freezes: [{ from: "2026-12-20", to: "2026-12-01", reason: x }]`,
      'freezes.0.to: ends before it starts',
    ],
    [
      'a freeze mixing dates and yearly days',
      `${zone}freezes: [{ from: "2026-12-20", to: "01-02", reason: x }]`,
      'both be dates',
    ],
    ['a freeze without a reason', `${zone}freezes: [{ from: "12-20", to: "01-02" }]`, 'freezes.0.reason'],
    ['an unknown outside-window mode', `${zone}outside-window: { normal: skip }`, 'outside-window.normal'],
    ['fewer approvals for higher risk', `${zone}approvals: { medium: 3, high: 2 }`, 'low ≤ medium ≤ high'],
    ['zero approvals', `${zone}approvals: { low: 0 }`, 'approvals.low'],
    ['an empty rollback requirement', `${zone}emergency: { rollback-requires: [] }`, 'emergency.rollback-requires'],
    ['YAML that does not parse', `${zone}windows: [{ time: "02:00-04:00"`, 'is not valid YAML'],
    ['a duplicate key', `${zone}time-zone: UTC`, 'is not valid YAML'],
    ['an empty document', '  \n', 'is empty'],
    ['a list instead of a map', '- Europe/Berlin', 'is not valid'],
  ])('%s', (_case, text, problem) => {
    const error = inputErrorOf(() => parsePolicy(text));
    expect(error.input).toBe('policy');
    expect(error.message).toContain(problem);
    expect(error.example).toBe(POLICY_EXAMPLE);
    expect(error.message).toContain('Example: \ntime-zone: Europe/Berlin');
  });

  it('names the input it was given', () => {
    const error = inputErrorOf(() => parsePolicy('time-zone: Nowhere/Town', 'policy-file'));
    expect(error.input).toBe('policy-file');
    expect(error.message).toMatch(/^Input 'policy-file' is not valid: at time-zone: /);
  });
});

describe('change types', () => {
  it.each(['standard', 'normal', 'emergency', ' Normal '])('reads %p', (value) => {
    expect(parseChangeType(value)).toBe(value.trim().toLowerCase());
  });

  it('refuses an unknown change type with the allowed ones', () => {
    const error = inputErrorOf(() => parseChangeType('urgent'));
    expect(error.input).toBe('change-type');
    expect(error.message).toBe(
      `Input 'change-type' must be one of standard, normal, emergency, got "urgent". Example: change-type: normal`,
    );
  });
});
