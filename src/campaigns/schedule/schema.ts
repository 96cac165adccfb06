import { z } from 'zod';
import { signal } from './signal.ts';
import { isTimeZone, parseLocal, type LocalTime } from './zone-time.ts';

/**
 * The `schedule` of a campaign document: when its live runs start. Every frequency is a strict object
 * with its own keys, documented in docs/schedules.md. Local times ("09:00", "2026-12-01T09:00") are read
 * in `timezone`, so a schedule keeps its wall-clock time across daylight-saving changes.
 */
export const SCHEDULE_FREQUENCIES = [
  'asap',
  'once',
  'daily',
  'several-times-a-day',
  'weekly',
  'monthly',
  'signal',
] as const;
export type ScheduleFrequency = (typeof SCHEDULE_FREQUENCIES)[number];

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/**
 * The shortest time allowed between two launches. A run rebuilds its audiences from the full tables and
 * keeps its working tables for days, so runs closer than this pile up; event-driven sends use `signal`.
 */
export const MIN_INTERVAL_MINUTES = 15;

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Minutes since midnight of an "HH:MM" time. */
export function minutesOf(time: string): number {
  const m = TIME.exec(time);
  return m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
}

const time = z
  .string({ error: 'expected a time "HH:MM" such as "09:00"' })
  .regex(TIME, { error: 'expected a time "HH:MM" from 00:00 to 23:59, such as "09:00"' });

const localDateTime = z
  .string({ error: 'expected a local date-time "YYYY-MM-DDTHH:MM" such as "2026-12-01T09:00"' })
  .refine((s) => parseLocal(s)?.dateOnly === false, {
    error: (issue) =>
      `expected a date-time "YYYY-MM-DDTHH:MM" such as "2026-12-01T09:00", without an offset (timezone ` +
      `says where it is); got ${JSON.stringify(issue.input)}`,
  });

const localDateOrDateTime = z
  .string({ error: 'expected a local date "YYYY-MM-DD" or date-time "YYYY-MM-DDTHH:MM"' })
  .refine((s) => parseLocal(s) !== undefined, {
    error: (issue) =>
      `expected a date "YYYY-MM-DD" or a date-time "YYYY-MM-DDTHH:MM", without an offset (timezone says ` +
      `where it is); got ${JSON.stringify(issue.input)}`,
  });

const timezone = z
  .string({ error: 'expected an IANA time zone such as Europe/Rome' })
  .refine(isTimeZone, {
    error: (issue) =>
      `unknown time zone ${JSON.stringify(issue.input)}: use an IANA name such as Europe/Rome, ` +
      `America/New_York or UTC`,
  })
  .default('UTC');

function whole(min: number, max: number, error: string) {
  return z.int({ error }).min(min, { error }).max(max, { error });
}

const weekday = z.enum(WEEKDAYS, { error: `expected a day of the week: ${WEEKDAYS.join(', ')}` });

const dayList = z
  .array(weekday, { error: `expected a list of days such as [mon, wed, fri]` })
  .min(1, { error: 'name at least one day' })
  .refine((days) => new Set(days).size === days.length, { error: 'a day is listed twice' });

/** Which days of the week a daily or several-times-a-day schedule runs on. */
const days = z
  .union([z.literal('every'), z.literal('weekdays'), dayList], {
    error: `expected every, weekdays (monday to friday) or a list of days among ${WEEKDAYS.join(', ')}`,
  })
  .default('every');

/** The validity window: no launch before `validFrom` nor after `validUntil` (a date means the whole day). */
const window = {
  timezone,
  validFrom: localDateOrDateTime.optional(),
  validUntil: localDateOrDateTime.optional(),
};

type Context = z.core.$RefinementCtx;

function checkWindow(s: { validFrom?: string; validUntil?: string }, ctx: Context): void {
  const from = s.validFrom === undefined ? undefined : parseLocal(s.validFrom);
  const until = s.validUntil === undefined ? undefined : parseLocal(s.validUntil);
  if (!from || !until) return;
  const key = (t: LocalTime & { dateOnly: boolean }, end: boolean) =>
    Date.UTC(t.year, t.month - 1, t.day + (end && t.dateOnly ? 1 : 0), t.hour, t.minute);
  if (key(until, true) <= key(from, false))
    ctx.addIssue({
      code: 'custom',
      path: ['validUntil'],
      message: `the validity window ends (${s.validUntil}) before it starts (${s.validFrom})`,
    });
}

/** `every: n` (days or weeks) counts from validFrom, so a period longer than one needs it. */
function checkAnchor(s: { every: number; validFrom?: string }, unit: string, ctx: Context): void {
  if (s.every > 1 && s.validFrom === undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['validFrom'],
      message:
        unit === 'days'
          ? `every ${s.every} days counts from a first day: set validFrom to it`
          : `every ${s.every} weeks counts from a first week: set validFrom to a day of it`,
    });
}

const asap = z.strictObject({ frequency: z.literal('asap') });

const once = z.strictObject({ frequency: z.literal('once'), at: localDateTime, timezone });

const daily = z
  .strictObject({
    frequency: z.literal('daily'),
    at: time,
    days,
    every: whole(1, 365, 'expected a number of days from 1 to 365').default(1),
    ...window,
  })
  .superRefine((s, ctx) => {
    checkWindow(s, ctx);
    checkAnchor(s, 'days', ctx);
    if (s.every > 1 && s.days !== 'every')
      ctx.addIssue({
        code: 'custom',
        path: ['every'],
        message: `every ${s.every} days counts calendar days and cannot be combined with days; for chosen days of the week use a weekly schedule`,
      });
  });

/** The slots of a periodic schedule: from the window's start, every `step` minutes, up to its end. */
export function periodicTimes(from: number, to: number, step: number): number[] {
  const times: number[] = [];
  for (let t = from; t <= to; t += step) times.push(t);
  return times;
}

const hhmm = (minutes: number) =>
  `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

/** Times of a day (sorted minutes) must be MIN_INTERVAL_MINUTES apart, across midnight too. */
function checkSpacing(times: number[], key: 'hours' | 'every', ctx: Context): void {
  const tooClose = `launches must be at least ${MIN_INTERVAL_MINUTES} minutes apart`;
  for (let i = 1; i < times.length; i++) {
    const [a, b] = [times[i - 1]!, times[i]!];
    if (a === b) ctx.addIssue({ code: 'custom', path: [key], message: `${hhmm(a)} is listed twice` });
    else if (b - a < MIN_INTERVAL_MINUTES)
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: `${hhmm(a)} and ${hhmm(b)} are ${b - a} minutes apart; ${tooClose}`,
      });
  }
  const [first, last] = [times[0], times[times.length - 1]];
  if (
    first !== undefined &&
    last !== undefined &&
    last !== first &&
    first + 1440 - last < MIN_INTERVAL_MINUTES
  )
    ctx.addIssue({
      code: 'custom',
      path: [key],
      message: `the last launch of a day (${hhmm(last)}) and the first of the next (${hhmm(first)}) are ${first + 1440 - last} minutes apart; ${tooClose}`,
    });
}

const severalTimesADay = z
  .strictObject({
    frequency: z.literal('several-times-a-day'),
    /** Selected times of day. */
    hours: z
      .array(time, { error: 'expected a list of times such as ["09:00", "12:30"]' })
      .min(1, { error: 'name at least one time' })
      .optional(),
    /** Or periodic: every n minutes or hours, from the start of `between` to its end. */
    every: z
      .strictObject(
        {
          minutes: whole(
            MIN_INTERVAL_MINUTES,
            720,
            `expected a number of minutes from ${MIN_INTERVAL_MINUTES} (the shortest interval) to 720`,
          ).optional(),
          hours: whole(1, 12, 'expected a number of hours from 1 to 12').optional(),
        },
        { error: 'expected { minutes: n } or { hours: n }' },
      )
      .refine((e) => (e.minutes === undefined) !== (e.hours === undefined), {
        error: 'give either minutes or hours',
      })
      .optional(),
    between: z
      .tuple([time, time], { error: 'expected [start, end] times such as ["08:00", "20:00"]' })
      .optional(),
    days,
    ...window,
  })
  .superRefine((s, ctx) => {
    checkWindow(s, ctx);
    if ((s.hours === undefined) === (s.every === undefined))
      ctx.addIssue({
        code: 'custom',
        path: ['hours'],
        message: 'give either hours (a list of times) or every (a period, with between), one of the two',
      });
    if (s.between && s.every === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['between'],
        message: 'between bounds a periodic schedule (every)',
      });
    if (s.between && minutesOf(s.between[0]) >= minutesOf(s.between[1]))
      ctx.addIssue({
        code: 'custom',
        path: ['between'],
        message: `the window must start before it ends (${s.between[0]} – ${s.between[1]}), within one day`,
      });
    const step = s.every?.minutes ?? (s.every?.hours === undefined ? undefined : s.every.hours * 60);
    const [from, to] = (s.between ?? ['00:00', '23:59']).map(minutesOf) as [number, number];
    const times = s.hours
      ? s.hours.filter((t) => TIME.test(t)).map(minutesOf)
      : Number.isInteger(step) && step! >= MIN_INTERVAL_MINUTES && from < to
        ? periodicTimes(from, to, step!)
        : [];
    checkSpacing(
      times.sort((a, b) => a - b),
      s.hours ? 'hours' : 'every',
      ctx,
    );
  });

const weekly = z
  .strictObject({
    frequency: z.literal('weekly'),
    at: time,
    days: dayList,
    every: whole(1, 52, 'expected a number of weeks from 1 to 52').default(1),
    ...window,
  })
  .superRefine((s, ctx) => {
    checkWindow(s, ctx);
    checkAnchor(s, 'weeks', ctx);
  });

const monthDay = z.union(
  [
    whole(1, 31, 'expected a day of the month from 1 to 31'),
    z.literal('last'),
    z.literal('every'),
    z.strictObject({
      nth: z.union([whole(1, 5, 'expected 1 to 5, or last'), z.literal('last')], {
        error: 'expected 1 to 5, or last',
      }),
      weekday,
    }),
  ],
  {
    error:
      'expected a day of the month (1 to 31), last, every, or { nth: 1 to 5 or last, weekday } such as { nth: 1, weekday: mon }',
  },
);

const monthly = z
  .strictObject({
    frequency: z.literal('monthly'),
    at: time,
    months: z
      .array(whole(1, 12, 'expected months as numbers, 1 (January) to 12 (December)'), {
        error: 'expected a list of months, 1 (January) to 12 (December)',
      })
      .min(1, { error: 'name at least one month' })
      .refine((m) => new Set(m).size === m.length, { error: 'a month is listed twice' })
      .default([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]),
    /** A day of the month, the last one, every day, or the nth (or last) given weekday. */
    day: monthDay.optional(),
    /** Or every one of these days of the week in the chosen months. */
    weekdays: dayList.optional(),
    ...window,
  })
  .superRefine((s, ctx) => {
    checkWindow(s, ctx);
    if ((s.day === undefined) === (s.weekdays === undefined))
      ctx.addIssue({
        code: 'custom',
        path: ['day'],
        message:
          'give either day (a day of the month, last, every or an nth weekday) or weekdays, one of the two',
      });
    const day = s.day;
    if (typeof day === 'number' && day <= 31 && s.months.every((m) => DAYS_IN_MONTH[m - 1]! < day))
      ctx.addIssue({
        code: 'custom',
        path: ['day'],
        message: `none of the chosen months has a day ${day}; use day: last for the last day of each month`,
      });
  });

export const scheduleSchema = z.discriminatedUnion('frequency', [
  asap,
  once,
  daily,
  severalTimesADay,
  weekly,
  monthly,
  signal,
]);

/** A checked schedule, defaults filled in. */
export type Schedule = z.output<typeof scheduleSchema>;

/** The keys each frequency takes, for "unknown key" messages. */
export const SCHEDULE_KEYS: Record<ScheduleFrequency, string[]> = Object.fromEntries(
  scheduleSchema.options.map((o) => [o.shape.frequency.value, Object.keys(o.shape)]),
) as Record<ScheduleFrequency, string[]>;
