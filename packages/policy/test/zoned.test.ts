import { describe, expect, it } from '@jest/globals';
import { addDays, isTimeZone, offsetMs, zonedInstant, zonedParts } from '../src/index.ts';

const iso = (instant: number) => new Date(instant).toISOString();
const HOUR = 3_600_000;

describe('local time to instant', () => {
  it.each([
    // Ordinary winter and summer times.
    ['Europe/Berlin', { year: 2026, month: 1, day: 15 }, 120, '2026-01-15T01:00:00.000Z'],
    ['Europe/Berlin', { year: 2026, month: 7, day: 15 }, 120, '2026-07-15T00:00:00.000Z'],
    // Spring-forward gaps: a skipped time moves forward by the gap.
    ['Europe/Berlin', { year: 2026, month: 3, day: 29 }, 150, '2026-03-29T01:30:00.000Z'],
    ['America/New_York', { year: 2026, month: 3, day: 8 }, 150, '2026-03-08T07:30:00.000Z'],
    ['Australia/Lord_Howe', { year: 2026, month: 10, day: 4 }, 135, '2026-10-03T15:45:00.000Z'],
    // Fall-back repeats: the first occurrence.
    ['Europe/Berlin', { year: 2026, month: 10, day: 25 }, 150, '2026-10-25T00:30:00.000Z'],
    ['America/New_York', { year: 2026, month: 11, day: 1 }, 90, '2026-11-01T05:30:00.000Z'],
    // Half-hour zones, and a day that is another date in UTC.
    ['Asia/Kolkata', { year: 2027, month: 1, day: 1 }, 120, '2026-12-31T20:30:00.000Z'],
    ['UTC', { year: 2028, month: 2, day: 29 }, 0, '2028-02-29T00:00:00.000Z'],
  ])('%s %o minute %i is %s', (zone, date, minute, expected) => {
    expect(iso(zonedInstant(date, minute, zone))).toBe(expected);
  });

  it('reads the zone back as the wall time it was given', () => {
    const instant = zonedInstant({ year: 2026, month: 4, day: 5 }, 150, 'Australia/Lord_Howe');
    expect(zonedParts(instant, 'Australia/Lord_Howe')).toMatchObject({
      year: 2026,
      month: 4,
      day: 5,
      hour: 2,
      minute: 30,
    });
  });

  it("knows Lord Howe's half-hour daylight saving", () => {
    expect(offsetMs(Date.parse('2026-07-01T00:00:00Z'), 'Australia/Lord_Howe')).toBe(10.5 * HOUR);
    expect(offsetMs(Date.parse('2026-12-01T00:00:00Z'), 'Australia/Lord_Howe')).toBe(11 * HOUR);
  });
});

describe('calendar', () => {
  it.each([
    [{ year: 2028, month: 2, day: 28 }, 1, { year: 2028, month: 2, day: 29 }],
    [{ year: 2027, month: 2, day: 28 }, 1, { year: 2027, month: 3, day: 1 }],
    [{ year: 2026, month: 12, day: 31 }, 1, { year: 2027, month: 1, day: 1 }],
    [{ year: 2027, month: 1, day: 1 }, -1, { year: 2026, month: 12, day: 31 }],
  ])('%o plus %i day(s) is %o', (date, days, expected) => expect(addDays(date, days)).toEqual(expected));

  it.each([
    ['Europe/Berlin', true],
    ['Australia/Lord_Howe', true],
    ['UTC', true],
    ['Mars/Olympus_Mons', false],
    ['', false],
  ])('time zone %p known: %p', (zone, known) => expect(isTimeZone(zone)).toBe(known));
});
