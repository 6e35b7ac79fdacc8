import { InputError, parseDuration, parseStructured, type Inputs } from '@deploy-suite/kit';
import { z } from 'zod';
import { daysInMonth, isTimeZone, type LocalDate } from './zoned.ts';

export const CHANGE_TYPES = ['standard', 'normal', 'emergency'] as const;
export type ChangeType = (typeof CHANGE_TYPES)[number];
/** The change types that are planned into a window; an emergency is not. */
export type PlannedChangeType = Exclude<ChangeType, 'emergency'>;

export const RISK_LEVELS = ['low', 'medium', 'high'] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

export type OutsideWindow = 'fail' | 'wait';
export type RollbackItem = 'verified-backup' | 'previous-colour';

/** The operations policy: at most 4 hours a window, 02:00–04:00 local by default. */
export const MAX_WINDOW_MINUTES = 240;
export const DEFAULT_WINDOW = '02:00-04:00';
/** One planned window a month, as the operations policy asks. */
export const DEFAULT_SCHEDULE = 'first sunday';
export const DEFAULT_NOTICE = '7d';

/** Days a window recurs on: the nth weekday of each month (-1 = last), or weekdays every week. */
export type Schedule = { kind: 'monthly'; nth: number; weekday: number } | { kind: 'weekly'; weekdays: number[] };

export interface WindowRule {
  /** As written, e.g. "first sunday 02:00-04:00", for messages. */
  label: string;
  schedule: Schedule;
  /** The planned change types that may use this window. */
  changeTypes: PlannedChangeType[];
  /** Minutes after local midnight; the end is on the next day when it is not after the start. */
  startMinute: number;
  endMinute: number;
}

/** Whole local days in the policy's zone, both ends included. */
export type Freeze =
  | { kind: 'dates'; from: LocalDate; to: LocalDate; reason: string }
  /** Every year; `from` after `to` spans the year end (20 Dec – 2 Jan). Month and day only. */
  | { kind: 'yearly'; from: { month: number; day: number }; to: { month: number; day: number }; reason: string };

export interface DiffLimits {
  files: number;
  lines: number;
}

export interface Policy {
  timeZone: string;
  windows: WindowRule[];
  /** Per planned type, how long before the window it uses a change request must have been opened. */
  noticeMs: Record<PlannedChangeType, number>;
  freezes: Freeze[];
  outsideWindow: Record<PlannedChangeType, OutsideWindow>;
  /** What an emergency's rollback plan must show before it may bypass windows and freezes. */
  emergencyRollback: RollbackItem[];
  approvals: Record<RiskLevel, number>;
  risk: { riskyPaths: string[]; diff: { medium: DiffLimits; high: DiffLimits } };
}

export const POLICY_EXAMPLE = `
time-zone: Europe/Berlin
windows:
  - on: first sunday
    time: "02:00-04:00"
  - { on: "tuesday, thursday", time: "22:00-23:30", for: [standard] }
notice: { standard: 1d, normal: 7d }
freezes:
  - { from: "12-20", to: "01-02", reason: year end }
outside-window: { standard: fail, normal: wait }
approvals: { low: 1, medium: 1, high: 2 }`;

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const ORDINALS: Record<string, number> = { first: 1, second: 2, third: 3, fourth: 4, last: -1 };

function weekdayNumber(name: string): number | undefined {
  const lower = name.toLowerCase();
  const index = WEEKDAYS.findIndex((day) => day === lower || day.slice(0, 3) === lower);
  return index === -1 ? undefined : index;
}

type Parsed<T> = { value: T } | { error: string };

/** "first sunday", "last friday", "saturday, sunday", "daily". */
export function parseSchedule(text: string): Parsed<Schedule> {
  const value = text.trim().toLowerCase();
  const expected = `must be "<first|second|third|fourth|last> <weekday>", weekdays such as "saturday, sunday", or "daily", got "${text}"`;
  if (value === 'daily') return { value: { kind: 'weekly', weekdays: [0, 1, 2, 3, 4, 5, 6] } };
  const monthly = /^(first|second|third|fourth|last)\s+([a-z]+)$/.exec(value);
  if (monthly !== null) {
    const weekday = weekdayNumber(monthly[2]!);
    return weekday === undefined
      ? { error: expected }
      : { value: { kind: 'monthly', nth: ORDINALS[monthly[1]!]!, weekday } };
  }
  const weekdays = value.split(/\s*,\s*/).map(weekdayNumber);
  if (weekdays.length === 0 || weekdays.some((day) => day === undefined)) return { error: expected };
  return { value: { kind: 'weekly', weekdays: [...new Set(weekdays as number[])].sort((a, b) => a - b) } };
}

/** "02:00-04:00" in local time; the end may be "24:00" or past midnight ("23:00-01:00"). */
export function parseWindowTime(text: string): Parsed<{ startMinute: number; endMinute: number }> {
  const match = /^(\d{2}):(\d{2})\s*-\s*(\d{2}):(\d{2})$/.exec(text.trim());
  const shape = `must be a local time range HH:MM-HH:MM such as "${DEFAULT_WINDOW}", got "${text}"`;
  if (match === null) return { error: shape };
  const [startHour, startMin, endHour, endMin] = match.slice(1).map(Number) as [number, number, number, number];
  const validStart = startHour <= 23 && startMin <= 59;
  const validEnd = (endHour <= 23 && endMin <= 59) || (endHour === 24 && endMin === 0);
  if (!validStart || !validEnd) return { error: `${shape} (hours 00-23, minutes 00-59)` };
  const startMinute = startHour * 60 + startMin;
  const endMinute = endHour * 60 + endMin;
  const length = (endMinute - startMinute + 1440) % 1440;
  if (length === 0) return { error: `must not start and end at the same time, got "${text}"` };
  if (length > MAX_WINDOW_MINUTES) {
    return { error: `must be at most ${MAX_WINDOW_MINUTES / 60} hours long, got "${text}" (${length / 60} hours)` };
  }
  return { value: { startMinute, endMinute } };
}

/** "2026-12-20" (a fixed date) or "12-20" (every year); a day the calendar does not have is refused. */
function parseFreezeDate(text: string): Parsed<{ year?: number; month: number; day: number }> {
  const match = /^(?:(\d{4})-)?(\d{2})-(\d{2})$/.exec(text.trim());
  if (match === null) return { error: `must be a date YYYY-MM-DD or, every year, MM-DD, got "${text}"` };
  const year = match[1] === undefined ? undefined : Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  // A yearly date is checked against a leap year so that 02-29 is allowed.
  const lastDay = month >= 1 && month <= 12 ? daysInMonth(year ?? 2028, month) : 0;
  if (day < 1 || day > lastDay) return { error: `is not a day of the calendar: "${text}"` };
  return { value: year === undefined ? { month, day } : { year, month, day } };
}

function parsedString<T>(parse: (text: string) => Parsed<T>) {
  return z.string().transform((text, ctx): T => {
    const result = parse(text);
    if ('error' in result) {
      ctx.issues.push({ code: 'custom', message: result.error, input: text });
      return z.NEVER;
    }
    return result.value;
  });
}

const duration = z.union([z.string(), z.number()]).transform((raw, ctx) => {
  const ms = parseDuration(String(raw));
  if (ms === undefined) {
    ctx.issues.push({ code: 'custom', message: `must be a duration such as 7d or 36h, got "${raw}"`, input: raw });
    return z.NEVER;
  }
  return ms;
});

const noticePerType = z.strictObject({ standard: duration.optional(), normal: duration.optional() });

/** One period for both planned types ("7d"), or one each ({ standard: 1d, normal: 7d }). */
const noticeSchema = z.unknown().transform((raw, ctx): number | z.infer<typeof noticePerType> => {
  if (typeof raw !== 'object' || raw === null) {
    const single = duration.safeParse(raw);
    if (single.success) return single.data;
    ctx.issues.push({
      code: 'custom',
      message: `must be a duration such as 7d or 36h, got "${String(raw)}"`,
      input: raw,
    });
    return z.NEVER;
  }
  const perType = noticePerType.safeParse(raw);
  if (perType.success) return perType.data;
  for (const issue of perType.error.issues) {
    ctx.issues.push({ code: 'custom', message: issue.message, path: issue.path, input: raw });
  }
  return z.NEVER;
});

const windowSchema = z
  .strictObject({
    on: z.string().default(DEFAULT_SCHEDULE),
    time: z.string().default(DEFAULT_WINDOW),
    for: z
      .array(z.enum(['standard', 'normal']))
      .min(1)
      .default(['standard', 'normal']),
  })
  .transform((raw, ctx): WindowRule => {
    const schedule = parseSchedule(raw.on);
    const time = parseWindowTime(raw.time);
    if ('error' in schedule) ctx.issues.push({ code: 'custom', message: schedule.error, path: ['on'], input: raw.on });
    if ('error' in time) ctx.issues.push({ code: 'custom', message: time.error, path: ['time'], input: raw.time });
    if ('error' in schedule || 'error' in time) return z.NEVER;
    const changeTypes = [...new Set(raw.for)];
    return { label: `${raw.on} ${raw.time}`, schedule: schedule.value, changeTypes, ...time.value };
  });

const freezeSchema = z
  .strictObject({ from: parsedString(parseFreezeDate), to: parsedString(parseFreezeDate), reason: z.string().min(1) })
  .transform((raw, ctx): Freeze => {
    const { from, to, reason } = raw;
    if (from.year !== undefined && to.year !== undefined) {
      const fixed = {
        kind: 'dates' as const,
        from: { ...from, year: from.year },
        to: { ...to, year: to.year },
        reason,
      };
      const order =
        fixed.from.year - fixed.to.year || fixed.from.month - fixed.to.month || fixed.from.day - fixed.to.day;
      if (order > 0) {
        ctx.issues.push({ code: 'custom', message: 'ends before it starts', path: ['to'], input: raw });
        return z.NEVER;
      }
      return fixed;
    }
    if (from.year === undefined && to.year === undefined) return { kind: 'yearly', from, to, reason };
    ctx.issues.push({
      code: 'custom',
      message: 'from and to must both be dates (2026-12-20) or both be yearly days (12-20)',
      input: raw,
    });
    return z.NEVER;
  });

const outsideWindow = z.enum(['fail', 'wait']);
const count = z.number().int().min(0).max(1_000_000);
const approvalCount = z.number().int().min(1).max(20);
const diffLimits = z.strictObject({ files: count, lines: count });

const policySchema = z
  .strictObject({
    'time-zone': z.string().refine(isTimeZone, {
      error: (issue) =>
        `is not a time zone Intl knows: "${String(issue.input)}"; use an IANA name such as Europe/Berlin`,
    }),
    windows: z.array(windowSchema).min(1).optional(),
    notice: noticeSchema.optional(),
    freezes: z.array(freezeSchema).default([]),
    'outside-window': z
      .strictObject({ standard: outsideWindow.default('fail'), normal: outsideWindow.default('fail') })
      .default({ standard: 'fail', normal: 'fail' }),
    emergency: z
      .strictObject({
        'rollback-requires': z
          .array(z.enum(['verified-backup', 'previous-colour']))
          .min(1)
          .default(['verified-backup', 'previous-colour']),
      })
      .default({ 'rollback-requires': ['verified-backup', 'previous-colour'] }),
    approvals: z
      .strictObject({ low: approvalCount.default(1), medium: approvalCount.default(1), high: approvalCount.default(2) })
      .default({ low: 1, medium: 1, high: 2 })
      .refine((a) => a.low <= a.medium && a.medium <= a.high, {
        error: 'must not ask fewer approvals for a higher risk (low ≤ medium ≤ high)',
      }),
    risk: z
      .strictObject({
        'risky-paths': z.array(z.string().min(1)).default([]),
        diff: z
          .strictObject({
            medium: diffLimits.default({ files: 20, lines: 300 }),
            high: diffLimits.default({ files: 100, lines: 2000 }),
          })
          .default({ medium: { files: 20, lines: 300 }, high: { files: 100, lines: 2000 } }),
      })
      .default({ 'risky-paths': [], diff: { medium: { files: 20, lines: 300 }, high: { files: 100, lines: 2000 } } }),
  })
  .transform((raw, ctx): Policy => {
    const windows = raw.windows ?? [defaultWindow()];
    const problem = plannedWindowProblem(windows);
    if (problem !== undefined) {
      ctx.issues.push({ code: 'custom', message: problem, path: ['windows'], input: raw.windows });
      return z.NEVER;
    }
    return {
      timeZone: raw['time-zone'],
      windows,
      noticeMs: noticePeriods(raw.notice),
      freezes: raw.freezes,
      outsideWindow: raw['outside-window'],
      emergencyRollback: [...new Set(raw.emergency['rollback-requires'])],
      approvals: raw.approvals,
      risk: { riskyPaths: raw.risk['risky-paths'], diff: raw.risk.diff },
    };
  });

/**
 * The operations policy allows at most one planned maintenance window a month: normal changes
 * get a single monthly rule, while more frequent windows are for standard changes only.
 */
function plannedWindowProblem(windows: WindowRule[]): string | undefined {
  const planned = windows.filter((rule) => rule.changeTypes.includes('normal'));
  if (planned.length <= 1 && planned.every((rule) => rule.schedule.kind === 'monthly')) return undefined;
  const labels = planned.map((rule) => `"${rule.label}"`).join(', ');
  return `must give normal changes at most one planned window a month (a single monthly window such as "first sunday"), got ${labels}; mark more frequent windows "for: [standard]"`;
}

function noticePeriods(
  raw: number | { standard?: number | undefined; normal?: number | undefined } | undefined,
): Record<PlannedChangeType, number> {
  const fallback = parseDuration(DEFAULT_NOTICE)!;
  if (typeof raw === 'number') return { standard: raw, normal: raw };
  return { standard: raw?.standard ?? fallback, normal: raw?.normal ?? fallback };
}

function defaultWindow(): WindowRule {
  const schedule = parseSchedule(DEFAULT_SCHEDULE) as { value: Schedule };
  const time = parseWindowTime(DEFAULT_WINDOW) as { value: { startMinute: number; endMinute: number } };
  const changeTypes: PlannedChangeType[] = ['standard', 'normal'];
  return { label: `${DEFAULT_SCHEDULE} ${DEFAULT_WINDOW}`, schedule: schedule.value, changeTypes, ...time.value };
}

/**
 * Reads a policy document (YAML or JSON). Anything that does not parse or validate is an
 * InputError naming `input` and showing a valid policy.
 */
export function parsePolicy(text: string, input = 'policy'): Policy {
  if (text.trim() === '')
    throw new InputError(input, 'is empty; a policy needs at least its time-zone', POLICY_EXAMPLE);
  return parseStructured(input, text, policySchema, POLICY_EXAMPLE);
}

/** A change type from an input, refused with the allowed values when unknown. */
export function parseChangeType(value: string, input = 'change-type'): ChangeType {
  const type = value.trim().toLowerCase();
  if ((CHANGE_TYPES as readonly string[]).includes(type)) return type as ChangeType;
  throw new InputError(input, `must be one of ${CHANGE_TYPES.join(', ')}, got "${value}"`, `${input}: normal`);
}

/**
 * The policy from the `policy` input or the file `policy-file` names (relative to `base`, the
 * workspace), or undefined when neither was given.
 */
export function readPolicyInput(inputs: Inputs, base: string): Policy | undefined {
  const given = inputs.textOrFile('policy', 'policy-file', {
    example: POLICY_EXAMPLE,
    fileExample: 'policy-file: .github/change-policy.yml',
    base,
  });
  return given === undefined ? undefined : parsePolicy(given.text, given.input);
}
