import { Cron } from 'croner';
import { minutesOf, periodicTimes, type Schedule, type Weekday } from './schema.ts';
import { dateOfEpochDay, epochDay, instantOf, isoWeekday, localTimeAt, parseLocal } from './zone-time.ts';

type Recurring = Extract<Schedule, { frequency: 'daily' | 'several-times-a-day' | 'weekly' | 'monthly' }>;

const CRON_DAY: Record<Weekday, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };

function dayOfWeekField(days: 'every' | 'weekdays' | Weekday[]): string {
  if (days === 'every') return '*';
  if (days === 'weekdays') return '1-5';
  return days.map((d) => CRON_DAY[d]).join(',');
}

function hourAndMinute(time: string): [number, number] {
  const minutes = minutesOf(time);
  return [Math.floor(minutes / 60), minutes % 60];
}

/**
 * The times of day a several-times-a-day schedule launches at, in minutes since midnight. A periodic one
 * counts from the start of its window again each day, so its slots keep their wall-clock times.
 */
function timesOfDay(s: Extract<Schedule, { frequency: 'several-times-a-day' }>): number[] {
  if (s.hours) return s.hours.map(minutesOf).sort((a, b) => a - b);
  const [from, to] = (s.between ?? ['00:00', '23:59']).map(minutesOf) as [number, number];
  return periodicTimes(from, to, s.every!.minutes ?? s.every!.hours! * 60);
}

/**
 * Cron patterns (minute hour day-of-month month day-of-week) whose union is the schedule, before the
 * every-n-days or weeks filter. A cron pattern is a product of minutes and hours, so a list of times becomes
 * one pattern per distinct set of minutes.
 */
function cronPatterns(s: Recurring): string[] {
  switch (s.frequency) {
    case 'daily':
    case 'weekly': {
      const [hour, minute] = hourAndMinute(s.at);
      return [`${minute} ${hour} * * ${dayOfWeekField(s.days)}`];
    }
    case 'several-times-a-day': {
      const minutesByHour = new Map<number, number[]>();
      for (const t of timesOfDay(s)) {
        const hour = Math.floor(t / 60);
        minutesByHour.set(hour, [...(minutesByHour.get(hour) ?? []), t % 60]);
      }
      const hoursByMinutes = new Map<string, number[]>();
      for (const [hour, minutes] of minutesByHour) {
        const key = minutes.join(',');
        hoursByMinutes.set(key, [...(hoursByMinutes.get(key) ?? []), hour]);
      }
      const dow = dayOfWeekField(s.days);
      return [...hoursByMinutes].map(([minutes, hours]) => `${minutes} ${hours.join(',')} * * ${dow}`);
    }
    case 'monthly': {
      const [hour, minute] = hourAndMinute(s.at);
      const months = s.months.join(',');
      let dom = '*';
      let dow = '*';
      if (s.weekdays) dow = dayOfWeekField(s.weekdays);
      else if (s.day === 'last') dom = 'L';
      else if (typeof s.day === 'number') dom = String(s.day);
      else if (typeof s.day === 'object')
        dow = `${CRON_DAY[s.day.weekday]}#${s.day.nth === 'last' ? 'L' : s.day.nth}`;
      return [`${minute} ${hour} ${dom} ${months} ${dow}`];
    }
  }
}

/**
 * The every-n-days or every-n-weeks phase croner cannot express, counted from validFrom's day or week: the
 * first day from `day` on (days since 1970) that is in phase.
 */
function periodFilter(s: Recurring): ((day: number) => number) | undefined {
  if ((s.frequency !== 'daily' && s.frequency !== 'weekly') || s.every === 1) return undefined;
  const anchor = epochDay(parseLocal(s.validFrom!)!);
  const every = s.every;
  if (s.frequency === 'daily') return (day) => day + ((every - ((day - anchor) % every)) % every);
  // Weeks start on Monday (ISO 8601).
  const monday = anchor - (isoWeekday(anchor) - 1);
  return (day) => {
    const week = Math.floor((day - monday) / 7);
    return week % every === 0 ? day : monday + (week + every - (week % every)) * 7;
  };
}

/** The validity window as instants: launches fall in [start, end). */
export function validity(s: Recurring): { start: number; end: number } {
  const from = s.validFrom === undefined ? undefined : parseLocal(s.validFrom);
  const until = s.validUntil === undefined ? undefined : parseLocal(s.validUntil);
  return {
    start: from ? instantOf(s.timezone, from) : -Infinity,
    end: !until
      ? Infinity
      : until.dateOnly
        ? instantOf(s.timezone, { ...until, day: until.day + 1 })
        : instantOf(s.timezone, until) + 1,
  };
}

/**
 * The launch instants (epoch ms) strictly after `after`, in order, for as long as the caller reads them.
 * croner finds the wall-clock slots in the zone and applies the daylight-saving rule: a slot in a
 * spring-forward gap launches at the first instant after the gap, and a slot that occurs twice launches
 * once, at its first occurrence (`fixedTimeRule: 'no-wildcard'` makes that hold for lists of times too).
 * Slots that fall on the same instant launch once.
 */
export function* launchesAfter(s: Schedule, after: number): Generator<number, void> {
  if (s.frequency === 'asap' || s.frequency === 'signal') return;
  if (s.frequency === 'once') {
    const at = instantOf(s.timezone, parseLocal(s.at)!);
    if (at > after) yield at;
    return;
  }
  const crons = cronPatterns(s).map(
    (pattern) =>
      new Cron(pattern, {
        timezone: s.timezone,
        mode: '5-part',
        fixedTimeRule: 'no-wildcard',
        domAndDow: true,
      }),
  );
  const keep = periodFilter(s);
  const { start, end } = validity(s);
  let cursor = Math.max(after, start - 1);
  for (;;) {
    let next = Infinity;
    for (const cron of crons) {
      const run = cron.nextRun(new Date(cursor));
      if (run && run.getTime() < next) next = run.getTime();
    }
    if (next >= end) return;
    const day = epochDay(localTimeAt(s.timezone, next));
    const inPhase = keep ? keep(day) : day;
    if (inPhase === day) {
      cursor = next;
      yield next;
    } else cursor = instantOf(s.timezone, { ...dateOfEpochDay(inPhase), hour: 0, minute: 0 }) - 1;
  }
}
