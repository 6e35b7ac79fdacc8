import { describe, expect, it } from '@jest/globals';
import {
  freezeAt,
  freezeDuring,
  nextWindowStart,
  parsePolicy,
  windowAt,
  windowsFrom,
  type Policy,
} from '../src/index.ts';

const HOUR = 3_600_000;

function policy(zone: string, on: string, time = '02:00-04:00', extra = ''): Policy {
  // Standard changes only: the once-a-month limit on planned windows does not bind them.
  return parsePolicy(`time-zone: ${zone}\nwindows:\n  - { on: "${on}", time: "${time}", for: [standard] }\n${extra}`);
}

/** The first window opening on or after `from`. */
function firstWindow(p: Policy, from: string) {
  for (const window of windowsFrom(p, new Date(from))) {
    if (window.start.getTime() >= Date.parse(from)) return window;
  }
  throw new Error('no window');
}

describe('windows across daylight-saving changes keep their real length', () => {
  it.each([
    // Spring forward: 02:00 does not exist, the window is an hour shorter.
    ['Europe/Berlin', 'last sunday', '2026-03-20T00:00:00Z', '2026-03-29T01:00:00.000Z', 1],
    ['America/New_York', 'second sunday', '2026-03-01T00:00:00Z', '2026-03-08T07:00:00.000Z', 1],
    ['Australia/Lord_Howe', 'first sunday', '2026-10-01T00:00:00Z', '2026-10-03T15:30:00.000Z', 1.5],
    // Fall back: Berlin repeats 02:00–03:00 (longer window); New York repeats 01:00–02:00 (unchanged).
    ['Europe/Berlin', 'last sunday', '2026-10-20T00:00:00Z', '2026-10-25T00:00:00.000Z', 3],
    ['America/New_York', 'first sunday', '2026-10-25T00:00:00Z', '2026-11-01T07:00:00.000Z', 2],
    ['Australia/Lord_Howe', 'first sunday', '2026-04-01T00:00:00Z', '2026-04-04T15:30:00.000Z', 2],
    // No daylight saving.
    // 02:00 on Sunday 1 March in Kolkata is still 28 February in UTC.
    ['Asia/Kolkata', 'first sunday', '2026-02-20T00:00:00Z', '2026-02-28T20:30:00.000Z', 2],
    ['UTC', 'last sunday', '2026-03-20T00:00:00Z', '2026-03-29T02:00:00.000Z', 2],
  ])('%s %s after %s opens %s for %f h', (zone, on, from, start, hours) => {
    const window = firstWindow(policy(zone, on), from);
    expect(window.start.toISOString()).toBe(start);
    expect((window.end.getTime() - window.start.getTime()) / HOUR).toBe(hours);
  });
});

describe('next window start across month ends, year ends and leap days', () => {
  it.each([
    ['year end', 'Europe/Berlin', 'first sunday', '2026-12-31T12:00:00Z', '2027-01-03T01:00:00.000Z'],
    ['year end in Kolkata', 'Asia/Kolkata', 'first sunday', '2026-12-31T12:00:00Z', '2027-01-02T20:30:00.000Z'],
    ['month end', 'UTC', 'last friday', '2026-02-27T12:00:00Z', '2026-03-27T02:00:00.000Z'],
    ['leap day', 'UTC', 'last tuesday', '2028-02-20T00:00:00Z', '2028-02-29T02:00:00.000Z'],
    ['no leap day', 'UTC', 'last saturday', '2027-02-20T00:00:00Z', '2027-02-27T02:00:00.000Z'],
    [
      'first of month on a Sunday',
      'America/New_York',
      'first sunday',
      '2026-02-15T00:00:00Z',
      '2026-03-01T07:00:00.000Z',
    ],
    ['weekly days', 'UTC', 'saturday, sunday', '2026-11-27T10:00:00Z', '2026-11-28T02:00:00.000Z'],
  ])('%s: %s %s after %s is %s', (_case, zone, on, now, expected) => {
    expect(nextWindowStart(policy(zone, on), new Date(now))?.toISOString()).toBe(expected);
  });

  it('skips the window open now and names the next one', () => {
    const p = policy('UTC', 'daily');
    expect(nextWindowStart(p, new Date('2026-11-27T03:00:00Z'))?.toISOString()).toBe('2026-11-28T02:00:00.000Z');
  });
});

describe('windows per change type', () => {
  const p = parsePolicy(`
time-zone: Europe/Berlin
windows:
  - { on: first sunday, time: "02:00-04:00" }
  - { on: "tuesday, thursday", time: "22:00-23:30", for: [standard] }
`);
  // Tuesday 1 December 2026, 22:30 in Berlin.
  const tuesdayEvening = new Date('2026-12-01T21:30:00Z');

  it('opens the weekly window to standard changes only', () => {
    expect(windowAt(p, tuesdayEvening, 'standard')?.rule.label).toBe('tuesday, thursday 22:00-23:30');
    expect(windowAt(p, tuesdayEvening, 'normal')).toBeUndefined();
    expect(windowAt(p, tuesdayEvening)).toBeDefined();
  });

  it('names the next window each type may use', () => {
    expect(nextWindowStart(p, tuesdayEvening, 'standard')?.toISOString()).toBe('2026-12-03T21:00:00.000Z');
    expect(nextWindowStart(p, tuesdayEvening, 'normal')?.toISOString()).toBe('2026-12-06T01:00:00.000Z');
  });
});

describe('windowAt', () => {
  const p = policy('Europe/Berlin', 'first sunday');

  it('includes the start and excludes the end', () => {
    expect(windowAt(p, new Date('2026-12-06T01:00:00Z'))?.start.toISOString()).toBe('2026-12-06T01:00:00.000Z');
    expect(windowAt(p, new Date('2026-12-06T02:59:59.999Z'))).toBeDefined();
    expect(windowAt(p, new Date('2026-12-06T03:00:00Z'))).toBeUndefined();
    expect(windowAt(p, new Date('2026-12-06T00:59:59.999Z'))).toBeUndefined();
  });

  it('finds a window opened the evening before, past midnight', () => {
    const late = policy('America/New_York', 'friday', '23:00-01:00');
    // Saturday 00:30 New York time belongs to Friday's window.
    const window = windowAt(late, new Date('2026-11-28T05:30:00Z'));
    expect(window?.date).toEqual({ year: 2026, month: 11, day: 27 });
    expect(window?.end.toISOString()).toBe('2026-11-28T06:00:00.000Z');
  });

  it('ends a window at 24:00 on the next local midnight', () => {
    const evening = policy('Europe/Berlin', 'saturday', '22:00-24:00');
    const window = windowAt(evening, new Date('2026-11-28T22:30:00Z'));
    expect(window?.end.toISOString()).toBe('2026-11-28T23:00:00.000Z');
  });
});

describe('freezes', () => {
  const p = policy(
    'Australia/Lord_Howe',
    'first sunday',
    '02:00-04:00',
    'freezes:\n  - { from: "12-20", to: "01-02", reason: year end }\n  - { from: "2028-02-29", to: "2028-02-29", reason: leap day }',
  );

  it.each([
    // Local days in Lord Howe (UTC+11 in summer): 19 Dec 13:00Z is already 20 Dec there.
    ['2026-12-19T12:59:59Z', undefined],
    ['2026-12-19T13:00:00Z', 'year end'],
    ['2026-12-31T23:00:00Z', 'year end'],
    ['2027-01-02T12:59:59Z', 'year end'],
    ['2027-01-02T13:00:00Z', undefined],
    ['2028-02-29T12:00:00Z', 'leap day'],
    ['2028-03-01T12:00:00Z', undefined],
  ])('at %s the freeze is %p', (instant, reason) => {
    expect(freezeAt(p, new Date(instant))?.reason).toBe(reason);
  });

  it('a yearly freeze on 02-29 covers up to 28 February in other years', () => {
    const leap = policy(
      'UTC',
      'daily',
      '02:00-04:00',
      'freezes:\n  - { from: "02-20", to: "02-29", reason: quarter close }',
    );
    expect(freezeAt(leap, new Date('2027-02-28T12:00:00Z'))?.reason).toBe('quarter close');
    expect(freezeAt(leap, new Date('2027-03-01T00:00:00Z'))).toBeUndefined();
  });

  it('a freeze starting at midnight takes the window that runs into it', () => {
    const late = policy(
      'UTC',
      'daily',
      '23:00-01:00',
      'freezes:\n  - { from: "2026-12-02", to: "2026-12-02", reason: launch }',
    );
    const intoFreeze = windowAt(late, new Date('2026-12-01T23:30:00Z'))!;
    expect(freezeAt(late, intoFreeze.start)).toBeUndefined();
    expect(freezeDuring(late, intoFreeze)?.reason).toBe('launch');
    expect(freezeDuring(late, windowAt(late, new Date('2026-11-30T23:30:00Z'))!)).toBeUndefined();
  });
});
