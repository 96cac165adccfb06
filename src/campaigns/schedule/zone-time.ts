/**
 * Wall-clock time in an IANA time zone, through Intl only (no Temporal on Node 20). Schedules are written
 * in local time ("09:00 in Europe/Rome"); these helpers turn such a time into an instant and back with the
 * same daylight-saving rule croner applies to launches, so `once` and the validity window agree with the
 * recurring launches: a local time in a spring-forward gap is the first instant after the gap, and a local
 * time that occurs twice in a fall-back overlap is its first occurrence.
 */

const MINUTE = 60_000;
const DAY = 86_400_000;

/** A calendar date and a time of day, as a clock on a wall in the zone shows it. */
export interface LocalTime {
  year: number;
  /** 1–12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):([0-5]\d)$/;

function isCalendarDate(year: number, month: number, day: number): boolean {
  const d = new Date(Date.UTC(year, month - 1, day));
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

/** A local "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM" (midnight for a date), or undefined when malformed. */
export function parseLocal(text: string): (LocalTime & { dateOnly: boolean }) | undefined {
  const m = DATE_TIME.exec(text) ?? DATE.exec(text);
  if (!m) return undefined;
  const n = (group: number) => Number(m[group] ?? 0);
  const [year, month, day] = [n(1), n(2), n(3)];
  if (!isCalendarDate(year, month, day)) return undefined;
  return { year, month, day, hour: n(4), minute: n(5), dateOnly: m[4] === undefined };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** Whether Intl knows the zone (IANA names, including aliases such as Asia/Calcutta). */
export function isTimeZone(zone: string): boolean {
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

function partsAt(zone: string, instant: number): LocalTime & { second: number } {
  const parts: Record<string, number> = {};
  for (const p of formatter(zone).formatToParts(instant))
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return {
    year: parts.year!,
    month: parts.month!,
    day: parts.day!,
    hour: parts.hour!,
    minute: parts.minute!,
    second: parts.second!,
  };
}

/** The wall-clock time at an instant (seconds dropped). */
export function localTimeAt(zone: string, instant: number): LocalTime {
  const { year, month, day, hour, minute } = partsAt(zone, instant);
  return { year, month, day, hour, minute };
}

/** The zone's offset from UTC at an instant, in milliseconds (positive east of Greenwich). */
function offsetAt(zone: string, instant: number): number {
  const p = partsAt(zone, instant);
  const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return wall - Math.floor(instant / 1000) * 1000;
}

/**
 * The instant a wall-clock time names. Offsets are taken a day either side, which holds while a zone
 * changes its offset at most once in two days (true of every zone since the 1990s).
 */
export function instantOf(zone: string, local: LocalTime): number {
  const wall = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute);
  const before = offsetAt(zone, wall - DAY);
  const after = offsetAt(zone, wall + DAY);
  const valid = [wall - before, wall - after].filter((i) => offsetAt(zone, i) === wall - i);
  if (valid.length > 0) return Math.min(...valid);
  // In a gap: the wall time is skipped, so take the transition itself, the first instant after the gap.
  let lo = wall - after;
  let hi = wall - before;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetAt(zone, mid) === before) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** Days since 1970-01-01 of a calendar date: for counting days and weeks between dates. */
export function epochDay(local: Pick<LocalTime, 'year' | 'month' | 'day'>): number {
  return Date.UTC(local.year, local.month - 1, local.day) / DAY;
}

export function dateOfEpochDay(day: number): Pick<LocalTime, 'year' | 'month' | 'day'> {
  const d = new Date(day * DAY);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** 1 = Monday … 7 = Sunday (ISO 8601). */
export function isoWeekday(day: number): number {
  // 1970-01-01 was a Thursday.
  return ((((day + 3) % 7) + 7) % 7) + 1;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** `2026-03-29T03:00+02:00`: the wall-clock time with its offset, for previews. */
export function formatLocal(zone: string, instant: number): string {
  const t = localTimeAt(zone, instant);
  const offset = Math.round(offsetAt(zone, instant) / MINUTE);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return (
    `${t.year}-${pad(t.month)}-${pad(t.day)}T${pad(t.hour)}:${pad(t.minute)}` +
    `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  );
}
