import type { Freeze, PlannedChangeType, Policy, Schedule, WindowRule } from './policy.ts';
import { addDays, compareDates, daysInMonth, localDateOf, weekdayOf, zonedInstant, type LocalDate } from './zoned.ts';

/** One occurrence of a window rule, as real instants (its length follows the zone's clock changes). */
export interface WindowOccurrence {
  rule: WindowRule;
  /** The local date the window opens on. */
  date: LocalDate;
  start: Date;
  end: Date;
}

const MINUTES_A_DAY = 1440;

/** How far ahead windows are searched: a monthly window always falls inside it, a long freeze may not. */
export const SEARCH_HORIZON_DAYS = 400;

function occursOn(schedule: Schedule, date: LocalDate): boolean {
  const weekday = weekdayOf(date);
  if (schedule.kind === 'weekly') return schedule.weekdays.includes(weekday);
  if (weekday !== schedule.weekday) return false;
  if (schedule.nth === -1) return date.day + 7 > daysInMonth(date.year, date.month);
  return Math.ceil(date.day / 7) === schedule.nth;
}

function occurrence(rule: WindowRule, date: LocalDate, timeZone: string): WindowOccurrence {
  // "24:00" and ends past midnight fall on the next local day.
  const sameDay = rule.endMinute > rule.startMinute && rule.endMinute < MINUTES_A_DAY;
  const endDate = sameDay ? date : addDays(date, 1);
  return {
    rule,
    date,
    start: new Date(zonedInstant(date, rule.startMinute, timeZone)),
    end: new Date(zonedInstant(endDate, rule.endMinute % MINUTES_A_DAY, timeZone)),
  };
}

/**
 * Window occurrences that end after `from`, in order of opening, up to the search horizon;
 * with `changeType`, only the windows that type may use. Starts a day early so a window opened
 * yesterday evening and still open is found.
 */
export function* windowsFrom(policy: Policy, from: Date, changeType?: PlannedChangeType): Generator<WindowOccurrence> {
  const rules = policy.windows.filter((rule) => changeType === undefined || rule.changeTypes.includes(changeType));
  const first = addDays(localDateOf(from.getTime(), policy.timeZone), -1);
  for (let offset = 0; offset <= SEARCH_HORIZON_DAYS && rules.length > 0; offset++) {
    const date = addDays(first, offset);
    const today = rules
      .filter((rule) => occursOn(rule.schedule, date))
      .map((rule) => occurrence(rule, date, policy.timeZone))
      .filter((window) => window.end.getTime() > from.getTime())
      .sort((a, b) => a.start.getTime() - b.start.getTime());
    yield* today;
  }
}

/** The window open at `now` (start included, end excluded), freezes aside. */
export function windowAt(policy: Policy, now: Date, changeType?: PlannedChangeType): WindowOccurrence | undefined {
  for (const window of windowsFrom(policy, now, changeType)) {
    if (window.start.getTime() > now.getTime()) return undefined;
    return window;
  }
  return undefined;
}

/** The start of the first window opening at or after `now`, freezes aside. */
export function nextWindowStart(policy: Policy, now: Date, changeType?: PlannedChangeType): Date | undefined {
  for (const window of windowsFrom(policy, now, changeType)) {
    if (window.start.getTime() >= now.getTime()) return window.start;
  }
  return undefined;
}

function inFreeze(freeze: Freeze, date: LocalDate): boolean {
  if (freeze.kind === 'dates') return compareDates(freeze.from, date) <= 0 && compareDates(date, freeze.to) <= 0;
  const day = { year: 0, month: date.month, day: date.day };
  const from = { year: 0, ...freeze.from };
  const to = { year: 0, ...freeze.to };
  if (compareDates(from, to) <= 0) return compareDates(from, day) <= 0 && compareDates(day, to) <= 0;
  // Spans the year end: on or after `from`, or on or before `to`.
  return compareDates(from, day) <= 0 || compareDates(day, to) <= 0;
}

/** The freeze covering the local day of `instant`, if any. */
export function freezeAt(policy: Policy, instant: Date): Freeze | undefined {
  const date = localDateOf(instant.getTime(), policy.timeZone);
  return policy.freezes.find((freeze) => inFreeze(freeze, date));
}

/** A freeze touching any part of the window: a freeze wins over a window. */
export function freezeDuring(policy: Policy, window: WindowOccurrence): Freeze | undefined {
  return freezeAt(policy, window.start) ?? freezeAt(policy, new Date(window.end.getTime() - 1));
}
