import { sql, type RawBuilder } from 'kysely';
import { parseDate, parseDatetime } from '../../../data/cell-values.ts';
import { formatSqliteDatetime } from '../../../db/bulk-values.ts';
import { MS_PER_DAY, msToDate, type Value, type ValueType } from '../../values.ts';
import type { FunctionDef, ParamType, SqlArg, SqlContext, SqliteUdf } from './types.ts';

/**
 * Dates and times. Everything is UTC, and "now" is the run's time (`ctx.now`), never the database's
 * clock, so SQL and memory agree. Supported values lie in the years 0001-9999, the range imports accept;
 * a result outside it is NULL on all three sides rather than whatever each side would make of it.
 *
 * In memory, values are epoch milliseconds (a date at its midnight UTC). SQLite works on the stored text
 * with its date modifiers ('floor' makes month arithmetic clamp to the month's last day, as PostgreSQL
 * does). PostgreSQL works on `timestamp` values read in UTC, so the session time zone never matters.
 */

type Temporal = 'date' | 'datetime';

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;
const SECOND_MS = 1000;

/** Midnight UTC of a calendar day; setUTCFullYear, unlike Date.UTC, does not move years 0-99 to 19xx. */
function civilToMs(year: number, month: number, day: number): number {
  return new Date(0).setUTCFullYear(year, month - 1, day);
}

const MIN_MS = civilToMs(1, 1, 1);
const MAX_MS = civilToMs(10_000, 1, 1) - 1;

interface Civil {
  year: number;
  month: number;
  day: number;
}

function civilOf(ms: number): Civil {
  const date = new Date(ms);
  return { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() };
}

function startOfDay(ms: number): number {
  return Math.floor(ms / MS_PER_DAY) * MS_PER_DAY;
}

function daysInMonth(year: number, month: number): number {
  return new Date(civilToMs(year, month + 1, 0)).getUTCDate();
}

/** A temporal argument as epoch milliseconds (a date at its midnight UTC). */
function instant(value: Value, type: ValueType): number {
  if (type === 'datetime') return value as number;
  const text = value as string;
  return civilToMs(Number(text.slice(0, 4)), Number(text.slice(5, 7)), Number(text.slice(8, 10)));
}

/** An instant as a result of `type`; NULL outside the years 0001-9999. */
function asResult(ms: number | null, type: Temporal): Value {
  if (ms === null || !(ms >= MIN_MS && ms <= MAX_MS)) return null;
  return type === 'date' ? msToDate(ms) : ms;
}

/** Calendar months later (or earlier), the day clamped to the target month's last day. */
function addMonths(ms: number, months: number): number | null {
  const { year, month, day } = civilOf(ms);
  const index = year * 12 + month - 1 + months;
  const targetYear = Math.floor(index / 12);
  if (!(targetYear >= 1 && targetYear <= 9999)) return null;
  const targetMonth = index - targetYear * 12 + 1;
  const clamped = Math.min(day, daysInMonth(targetYear, targetMonth));
  return civilToMs(targetYear, targetMonth, clamped) + (ms - startOfDay(ms));
}

function monthIndex(ms: number): number {
  const { year, month } = civilOf(ms);
  return year * 12 + month;
}

/**
 * Whole months from `start` to `end`, counted like an age: the largest m with AddMonths(start, m) <= end
 * when end is later, and minus the same count from `end` to `start` otherwise, so swapping the arguments
 * only flips the sign.
 */
function monthsBetween(end: number, start: number): number {
  const months = monthIndex(end) - monthIndex(start);
  if (end >= start) return months - (addMonths(start, months)! > end ? 1 : 0);
  return months + (addMonths(end, -months)! > start ? 1 : 0);
}

/** Integer division truncated toward zero, exact, and never -0. */
function truncDiv(dividend: number, divisor: number): number {
  return (dividend - (dividend % divisor)) / divisor;
}

/**
 * Text read as an import reads a date or date-time cell (src/data/cell-values.ts): surrounding
 * whitespace ignored, then the strict form. JavaScript's trim() and `\s` know the same characters.
 */
function textToDate(text: string): string | null {
  const trimmed = text.trim();
  return parseDate(trimmed).ok ? trimmed : null;
}

function textToDatetime(text: string): number | null {
  const parsed = parseDatetime(text.trim());
  return parsed.ok ? (parsed.value as number) : null;
}

// ---------------------------------------------------------------------------------------------------
// SQL building blocks

const SQLITE_DATETIME_FORMAT = sql`'%Y-%m-%d %H:%M:%f'`;

/** PostgreSQL: a temporal argument as a `timestamp` holding its UTC wall-clock time. */
function pgLocal(x: SqlArg): RawBuilder<unknown> {
  return x.type === 'date' ? sql`CAST(${x.sql} AS timestamp)` : sql`(${x.sql} AT TIME ZONE 'UTC')`;
}

/** The calendar day (UTC) of a temporal argument, as a date. */
function dateSql(x: SqlArg, ctx: SqlContext): RawBuilder<unknown> {
  if (x.type === 'date') return x.sql;
  return ctx.kind === 'postgres' ? sql`CAST(${pgLocal(x)} AS date)` : sql`substr(${x.sql}, 1, 10)`;
}

/** Today (UTC) of the run's clock, as a date argument. */
function today(ctx: SqlContext): SqlArg {
  return { sql: dateSql({ sql: ctx.now(), type: 'datetime' }, ctx), type: 'date' };
}

/**
 * `value`, or NULL when it is not above `justBelow` or not below `high`. LEAST / GREATEST turn anything
 * beyond the two sentinels (and a NULL) into a sentinel, which NULLIF then empties: the value's SQL is
 * written once however big it is.
 */
function pgWithin(
  value: RawBuilder<unknown>,
  justBelow: RawBuilder<unknown>,
  high: RawBuilder<unknown>,
): RawBuilder<unknown> {
  return sql`NULLIF(NULLIF(LEAST(GREATEST(${value}, ${justBelow}), ${high}), ${justBelow}), ${high})`;
}

/**
 * SQLite gives NULL past 9999 by itself but writes years before 0001 as `0000-…` or `-0001-…`, which
 * sort before this marker.
 */
function sqliteFromYearOne(value: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`NULLIF(max(${value}, '0001-01-00'), '0001-01-00')`;
}

interface Step {
  /** Fixed length in milliseconds, or calendar months. */
  ms?: number;
  months?: number;
  /** SQLite's modifier word, with its leading space. */
  sqlite: RawBuilder<unknown>;
  pg: RawBuilder<unknown>;
  /**
   * 10,000 years in this unit: a larger count always leaves 0001-9999, and a smaller one, added to a
   * value shifted 6000 years ahead, stays inside PostgreSQL's range (4713 BC onwards) instead of raising.
   */
  limit: number;
}

const STEPS = {
  year: { months: 12, sqlite: sql`' years'`, pg: sql`INTERVAL '1 year'`, limit: 10_000 },
  month: { months: 1, sqlite: sql`' months'`, pg: sql`INTERVAL '1 month'`, limit: 120_000 },
  day: { ms: MS_PER_DAY, sqlite: sql`' days'`, pg: sql`INTERVAL '1 day'`, limit: 3_660_000 },
  hour: { ms: HOUR_MS, sqlite: sql`' hours'`, pg: sql`INTERVAL '1 hour'`, limit: 87_840_000 },
  minute: { ms: MINUTE_MS, sqlite: sql`' minutes'`, pg: sql`INTERVAL '1 minute'`, limit: 5_270_400_000 },
  second: { ms: SECOND_MS, sqlite: sql`' seconds'`, pg: sql`INTERVAL '1 second'`, limit: 316_224_000_000 },
} satisfies Record<string, Step>;

type Unit = keyof typeof STEPS;

/** `x` moved by `n` units (`sign` -1 subtracts), as a `returns`; NULL outside 0001-9999. */
function shiftSql(
  x: SqlArg,
  n: RawBuilder<unknown>,
  step: Step,
  sign: 1 | -1,
  returns: Temporal,
  ctx: SqlContext,
): RawBuilder<unknown> {
  if (ctx.kind === 'sqlite') {
    const count = sign < 0 ? sql`(- ${n})` : n;
    const modifier = step.months ? sql`${count} || ${step.sqlite}, 'floor'` : sql`${count} || ${step.sqlite}`;
    return sqliteFromYearOne(
      returns === 'date'
        ? sql`date(${x.sql}, ${modifier})`
        : sql`strftime(${SQLITE_DATETIME_FORMAT}, ${x.sql}, ${modifier})`,
    );
  }
  // Doubles, because bigint * interval does not exist and 10,000 years of seconds overflow an integer.
  const count = sql`CAST(CASE WHEN ${n} BETWEEN ${sql.lit(-step.limit)} AND ${sql.lit(step.limit)} THEN ${n} END AS double precision)`;
  const unit = sign < 0 ? sql`(- ${step.pg})` : step.pg;
  // 6000 years is 15 cycles of 400 years: the calendar repeats exactly, Feb 29 included.
  const shifted = sql`(${pgLocal(x)} + INTERVAL '6000 years' + ${count} * ${unit})`;
  const inRange = pgWithin(
    shifted,
    sql`TIMESTAMP '6000-12-31 23:59:59.999999'`,
    sql`TIMESTAMP '16000-01-01 00:00:00'`,
  );
  const back = sql`(${inRange} - INTERVAL '6000 years')`;
  return returns === 'date' ? sql`CAST(${back} AS date)` : sql`(${back} AT TIME ZONE 'UTC')`;
}

/** A `timestamp` holding a UTC wall-clock time as a datetime; NULL outside 0001-9999. */
function pgUtcInRange(local: RawBuilder<unknown>): RawBuilder<unknown> {
  const inRange = pgWithin(
    local,
    sql`TIMESTAMP '0001-12-31 23:59:59.999999 BC'`,
    sql`TIMESTAMP '10000-01-01 00:00:00'`,
  );
  return sql`(${inRange} AT TIME ZONE 'UTC')`;
}

/** Whether integers make a calendar date, without anything that could raise an error. */
function pgValidDate(
  year: RawBuilder<unknown>,
  month: RawBuilder<unknown>,
  day: RawBuilder<unknown>,
): RawBuilder<unknown> {
  const leap = sql`((${year} % 4 = 0 AND ${year} % 100 <> 0) OR ${year} % 400 = 0)`;
  // 31 for months 1, 3, 5, 7, 8, 10, 12, else 30.
  const lastDay = sql`CASE WHEN ${month} = 2 THEN CASE WHEN ${leap} THEN 29 ELSE 28 END ELSE 30 + (${month} + ${month} / 8) % 2 END`;
  return sql`(${year} >= 1 AND ${month} BETWEEN 1 AND 12 AND ${day} BETWEEN 1 AND ${lastDay})`;
}

/**
 * PostgreSQL: `body` over the captures of `pattern` in `text` (a NULL array when it does not match),
 * matched once however often the body uses them. Casts that could raise only run on checked captures.
 */
function pgWithMatch(
  text: RawBuilder<unknown>,
  pattern: string,
  ctx: SqlContext,
  body: (capture: (i: number) => RawBuilder<unknown>) => RawBuilder<unknown>,
): RawBuilder<unknown> {
  const capture = (i: number) => sql`baton_match.m[${sql.lit(i)}]`;
  return sql`(SELECT ${body(capture)} FROM (SELECT regexp_match(${text}, ${ctx.param(pattern, 'string')}) AS m) AS baton_match)`;
}

const PG_ISO_DATE = '^([0-9]{4})-([0-9]{2})-([0-9]{2})$';

/** JavaScript's whitespace (`\s`, trim()) spelt out: the databases' own notions depend on the locale. */
const JS_WHITESPACE =
  '\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a' +
  '\u2028\u2029\u202f\u205f\u3000\ufeff';

function trimSql(text: RawBuilder<unknown>, ctx: SqlContext): RawBuilder<unknown> {
  const whitespace = ctx.param(JS_WHITESPACE, 'string');
  return ctx.kind === 'postgres' ? sql`btrim(${text}, ${whitespace})` : sql`trim(${text}, ${whitespace})`;
}

/** The date-time form imports accept (src/data/cell-values.ts), for PostgreSQL. */
const PG_ISO_DATETIME =
  '^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]{1,9}))?)?)?' +
  `[${JS_WHITESPACE}]*([Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)?$`;

function pgToDate(text: RawBuilder<unknown>, ctx: SqlContext): RawBuilder<unknown> {
  return pgWithMatch(trimSql(text, ctx), PG_ISO_DATE, ctx, (m) => {
    const [year, month, day] = [1, 2, 3].map((i) => sql`CAST(${m(i)} AS integer)`) as [
      RawBuilder<unknown>,
      RawBuilder<unknown>,
      RawBuilder<unknown>,
    ];
    return sql`CASE WHEN ${pgValidDate(year, month, day)} THEN make_date(${year}, ${month}, ${day}) END`;
  });
}

function pgToDatetime(text: RawBuilder<unknown>, ctx: SqlContext): RawBuilder<unknown> {
  return pgWithMatch(trimSql(text, ctx), PG_ISO_DATETIME, ctx, (m) => {
    const int = (i: number) => sql`CAST(${m(i)} AS integer)`;
    const orZero = (i: number) => sql`COALESCE(${int(i)}, 0)`;
    // The fraction is truncated to milliseconds, as imports do.
    const millis = sql`COALESCE(CAST(rpad(substr(${m(7)}, 1, 3), 3, '0') AS integer), 0)`;
    // `Z`, `+05`, `+0530` or `+05:30`: the digits, if any, are hours then minutes.
    const zoneDigits = sql`replace(substr(${m(8)}, 2), ':', '')`;
    const zoneHours = sql`COALESCE(CAST(NULLIF(substr(${zoneDigits}, 1, 2), '') AS integer), 0)`;
    const zoneMinutes = sql`COALESCE(CAST(NULLIF(substr(${zoneDigits}, 3, 2), '') AS integer), 0)`;
    const zoneSign = sql`CASE WHEN left(${m(8)}, 1) = '-' THEN -1 ELSE 1 END`;
    const valid = sql`${pgValidDate(int(1), int(2), int(3))} AND ${orZero(4)} <= 23 AND ${orZero(5)} <= 59 AND ${orZero(6)} <= 59 AND ${zoneHours} <= 23 AND ${zoneMinutes} <= 59`;
    const local = sql`(make_timestamp(${int(1)}, ${int(2)}, ${int(3)}, ${orZero(4)}, ${orZero(5)}, 0) + (${orZero(6)} * 1000 + ${millis}) * INTERVAL '1 millisecond' - ${zoneSign} * (${zoneHours} * 60 + ${zoneMinutes}) * INTERVAL '1 minute')`;
    return sql`CASE WHEN ${valid} THEN ${pgUtcInRange(local)} END`;
  });
}

type Field = 'year' | 'month' | 'day' | 'hour' | 'minute' | 'second';

/** Where each field sits in SQLite's fixed-width text (`YYYY-MM-DD HH:MM:SS.SSS`). */
const SQLITE_FIELD_AT: Record<Field, [number, number]> = {
  year: [1, 4],
  month: [6, 2],
  day: [9, 2],
  hour: [12, 2],
  minute: [15, 2],
  second: [18, 2],
};

function fieldSql(x: SqlArg, field: Field, ctx: SqlContext): RawBuilder<unknown> {
  if (ctx.kind === 'sqlite') {
    const [start, length] = SQLITE_FIELD_AT[field];
    return sql`CAST(substr(${x.sql}, ${sql.lit(start)}, ${sql.lit(length)}) AS INTEGER)`;
  }
  const value = sql`extract(${sql.raw(field)} from ${pgLocal(x)})`;
  // Seconds come with their fraction.
  return field === 'second' ? sql`CAST(floor(${value}) AS bigint)` : sql`CAST(${value} AS bigint)`;
}

function fieldOf(ms: number, field: Field): number {
  const timeOfDay = ms - startOfDay(ms);
  switch (field) {
    case 'hour':
      return Math.floor(timeOfDay / HOUR_MS);
    case 'minute':
      return Math.floor((timeOfDay % HOUR_MS) / MINUTE_MS);
    case 'second':
      return Math.floor((timeOfDay % MINUTE_MS) / SECOND_MS);
    default:
      return civilOf(ms)[field];
  }
}

/** Calendar days from `start`'s day to `end`'s day. */
function daysDiffSql(end: SqlArg, start: SqlArg, ctx: SqlContext): RawBuilder<unknown> {
  if (ctx.kind === 'postgres') return sql`CAST(${dateSql(end, ctx)} - ${dateSql(start, ctx)} AS bigint)`;
  return sql`((unixepoch(substr(${end.sql}, 1, 10)) - unixepoch(substr(${start.sql}, 1, 10))) / 86400)`;
}

function daysBetween(end: number, start: number): number {
  return (startOfDay(end) - startOfDay(start)) / MS_PER_DAY;
}

/** See monthsBetween; both arguments have the same type. */
function monthsDiffSql(end: SqlArg, start: SqlArg, ctx: SqlContext): RawBuilder<unknown> {
  if (ctx.kind === 'postgres') {
    const [e, s] = [pgLocal(end), pgLocal(start)];
    const index = (x: RawBuilder<unknown>) => sql`(extract(year from ${x}) * 12 + extract(month from ${x}))`;
    const m = sql`CAST(${index(e)} - ${index(s)} AS integer)`;
    return sql`CAST(CASE WHEN ${e} >= ${s}
      THEN ${m} - CASE WHEN ${s} + make_interval(months => ${m}) > ${e} THEN 1 ELSE 0 END
      ELSE ${m} + CASE WHEN ${e} - make_interval(months => ${m}) > ${s} THEN 1 ELSE 0 END END AS bigint)`;
  }
  const [e, s] = [end.sql, start.sql];
  const index = (x: RawBuilder<unknown>) =>
    sql`(CAST(substr(${x}, 1, 4) AS INTEGER) * 12 + CAST(substr(${x}, 6, 2) AS INTEGER))`;
  const m = sql`(${index(e)} - ${index(s)})`;
  const plusMonths = (x: RawBuilder<unknown>, count: RawBuilder<unknown>) =>
    end.type === 'date'
      ? sql`date(${x}, ${count} || ' months', 'floor')`
      : sql`strftime(${SQLITE_DATETIME_FORMAT}, ${x}, ${count} || ' months', 'floor')`;
  return sql`(CASE WHEN ${e} >= ${s}
    THEN ${m} - (${plusMonths(s, m)} > ${e})
    ELSE ${m} + (${plusMonths(e, sql`(- ${m})`)} > ${s}) END)`;
}

/** Whole units between two datetimes, truncated toward zero. */
function unitsDiffSql(end: SqlArg, start: SqlArg, unitMs: number, ctx: SqlContext): RawBuilder<unknown> {
  if (ctx.kind === 'postgres') {
    // extract(epoch) is numeric: exact.
    return sql`CAST(trunc((extract(epoch from ${end.sql}) - extract(epoch from ${start.sql})) / ${sql.lit(unitMs / 1000)}) AS bigint)`;
  }
  // julianday's doubles are within a microsecond; rounding gives the exact milliseconds, and SQLite's
  // integer division truncates toward zero.
  return sql`(CAST(round((julianday(${end.sql}) - julianday(${start.sql})) * 86400000) AS INTEGER) / ${sql.lit(unitMs)})`;
}

// ---------------------------------------------------------------------------------------------------
// The catalogue

interface DateFunction {
  name: string;
  summary: string;
  example: string;
  signatures: Array<{ params: ParamType[]; returns: ValueType | ((args: ValueType[]) => ValueType) }>;
  sql(args: SqlArg[], ctx: SqlContext): RawBuilder<unknown>;
  evaluate(args: Value[], now: number, types: ValueType[]): Value;
}

/**
 * Every date function returns NULL for a NULL argument. With a NULL literal the SQL is a plain NULL,
 * as the literal itself is: PostgreSQL could not type an untyped NULL inside extract() or an interval.
 */
function define(f: DateFunction): FunctionDef {
  return {
    ...f,
    category: 'date',
    sql: (args, ctx) => (args.some((a) => a.type === 'null') ? sql`NULL` : f.sql(args, ctx)),
    evaluate: (args, ctx, types) => f.evaluate(args, ctx.now, types),
  };
}

const sameTypeAsFirst = (types: ValueType[]): ValueType => (types[0] === 'datetime' ? 'datetime' : 'date');

const arg = (args: SqlArg[], i: number): SqlArg => args[i]!;

function shiftFunction(verb: 'Add' | 'Sub', plural: string, unit: Unit, exampleArgs: string): FunctionDef {
  const step: Step = STEPS[unit];
  const sign = verb === 'Add' ? 1 : -1;
  const onDates = step.months !== undefined || unit === 'day';
  const what = `n ${plural.toLowerCase()} ${verb === 'Add' ? 'later' : 'earlier'}`;
  return define({
    name: `${verb}${plural}`,
    summary: onDates
      ? `the date or date-time ${what}${step.months ? ", the day clamped to the month's last day" : ''}`
      : `the date-time ${what}`,
    example: `${verb}${plural}(${exampleArgs})`,
    signatures: [
      {
        params: [onDates ? 'temporal' : 'datetime', 'integer'],
        returns: onDates ? sameTypeAsFirst : 'datetime',
      },
    ],
    sql: (args, ctx) => {
      const x = arg(args, 0);
      return shiftSql(x, arg(args, 1).sql, step, sign, x.type === 'date' ? 'date' : 'datetime', ctx);
    },
    evaluate: ([x, n], _now, types) => {
      const from = instant(x!, types[0]!);
      const count = sign * (n as number);
      const moved = step.months ? addMonths(from, count * step.months) : from + count * step.ms!;
      return asResult(moved, types[0] === 'date' ? 'date' : 'datetime');
    },
  });
}

const SHIFTS: FunctionDef[] = (
  [
    ['Days', 'day', 'last_purchase_date, 30'],
    ['Hours', 'hour', 'sent_at, 2'],
    ['Minutes', 'minute', 'sent_at, 45'],
    ['Months', 'month', 'subscribed_on, 1'],
    ['Seconds', 'second', 'sent_at, 90'],
    ['Years', 'year', 'birth_date, 18'],
  ] as const
).flatMap(([plural, unit, exampleArgs]) =>
  (['Add', 'Sub'] as const).map((verb) => shiftFunction(verb, plural, unit, exampleArgs)),
);

function agoFunction(plural: string, unit: 'day' | 'month' | 'year', example: string): FunctionDef {
  const step: Step = STEPS[unit];
  return define({
    name: `${plural}Ago`,
    summary: `today's date (UTC) n ${plural.toLowerCase()} ago${step.months ? ", the day clamped to the month's last day" : ''}`,
    example,
    signatures: [{ params: ['integer'], returns: 'date' }],
    sql: (args, ctx) => shiftSql(today(ctx), arg(args, 0).sql, step, -1, 'date', ctx),
    evaluate: ([n], now) => {
      const count = -(n as number);
      const day = startOfDay(now);
      return asResult(step.months ? addMonths(day, count * step.months) : day + count * step.ms!, 'date');
    },
  });
}

function fieldFunction(name: string, field: Field, summary: string): FunctionDef {
  const onTime = field === 'hour' || field === 'minute' || field === 'second';
  return define({
    name,
    summary,
    example: `${name}(${onTime ? 'sent_at' : 'birth_date'})`,
    // A date is a datetime at midnight for the time fields.
    signatures: [{ params: [onTime ? 'datetime' : 'temporal'], returns: 'integer' }],
    sql: (args, ctx) => fieldSql(arg(args, 0), field, ctx),
    evaluate: ([x], _now, types) => fieldOf(instant(x!, types[0]!), field),
  });
}

function unitsDiffFunction(name: string, unitMs: number, units: string): FunctionDef {
  return define({
    name,
    summary: `the whole ${units} from start to end (negative when end is earlier), truncated toward zero`,
    example: `${name}(opened_at, sent_at)`,
    signatures: [{ params: ['datetime', 'datetime'], returns: 'integer' }],
    sql: (args, ctx) => unitsDiffSql(arg(args, 0), arg(args, 1), unitMs, ctx),
    evaluate: ([end, start]) => truncDiv((end as number) - (start as number), unitMs),
  });
}

const CALENDAR_DIFF_SIGNATURES: DateFunction['signatures'] = [
  { params: ['date', 'date'], returns: 'integer' },
  { params: ['datetime', 'datetime'], returns: 'integer' },
];

/** The first day of the period (UTC) a value falls in. */
function truncFunction(
  name: string,
  summary: string,
  sqlite: (x: RawBuilder<unknown>) => RawBuilder<unknown>,
  pgField: 'week' | 'month' | 'quarter' | 'year',
  first: (day: number) => number,
): FunctionDef {
  return define({
    name,
    summary,
    example: `${name}(last_purchase_date)`,
    signatures: [{ params: ['temporal'], returns: 'date' }],
    sql: (args, ctx) => {
      const x = arg(args, 0);
      return ctx.kind === 'sqlite'
        ? sqlite(x.sql)
        : sql`CAST(date_trunc(${sql.lit(pgField)}, ${pgLocal(x)}) AS date)`;
    },
    evaluate: ([x], _now, types) => msToDate(first(startOfDay(instant(x!, types[0]!)))),
  });
}

/** Monday = 0 … Sunday = 6; 1970-01-01 was a Thursday. */
function weekDayOf(ms: number): number {
  return (((Math.floor(ms / MS_PER_DAY) + 3) % 7) + 7) % 7;
}

const toDateFunction = (name: string, summary: string): FunctionDef =>
  define({
    name,
    summary,
    example: `${name}(created_at)`,
    signatures: [{ params: ['temporal'], returns: 'date' }],
    sql: (args, ctx) => dateSql(arg(args, 0), ctx),
    evaluate: ([x], _now, types) => msToDate(instant(x!, types[0]!)),
  });

export const DATE_FUNCTIONS: FunctionDef[] = [
  ...SHIFTS,
  define({
    name: 'GetDate',
    summary: "the current date-time (the run's time, UTC)",
    example: 'GetDate()',
    signatures: [{ params: [], returns: 'datetime' }],
    sql: (_args, ctx) => ctx.now(),
    evaluate: (_args, now) => now,
  }),
  agoFunction('Days', 'day', 'DaysAgo(30)'),
  agoFunction('Months', 'month', 'MonthsAgo(6)'),
  agoFunction('Years', 'year', 'YearsAgo(18)'),
  define({
    name: 'DaysDiff',
    summary: "the number of calendar days from start's day to end's day (negative when end is earlier)",
    example: 'DaysDiff(delivered_on, ordered_on)',
    signatures: [{ params: ['temporal', 'temporal'], returns: 'integer' }],
    sql: (args, ctx) => daysDiffSql(arg(args, 0), arg(args, 1), ctx),
    evaluate: ([end, start], _now, types) =>
      daysBetween(instant(end!, types[0]!), instant(start!, types[1]!)),
  }),
  unitsDiffFunction('HoursDiff', HOUR_MS, 'hours'),
  unitsDiffFunction('MinutesDiff', MINUTE_MS, 'minutes'),
  unitsDiffFunction('SecondsDiff', SECOND_MS, 'seconds'),
  define({
    name: 'MonthsDiff',
    summary:
      'the whole calendar months from start to end, counted like an age (negative when end is earlier)',
    example: 'MonthsDiff(GetDate(), subscribed_at)',
    signatures: CALENDAR_DIFF_SIGNATURES,
    sql: (args, ctx) => monthsDiffSql(arg(args, 0), arg(args, 1), ctx),
    evaluate: ([end, start], _now, types) =>
      monthsBetween(instant(end!, types[0]!), instant(start!, types[1]!)),
  }),
  define({
    name: 'YearsDiff',
    summary: 'the whole years from start to end, counted like an age (negative when end is earlier)',
    example: 'YearsDiff(first_order_on, birth_date)',
    signatures: CALENDAR_DIFF_SIGNATURES,
    sql: (args, ctx) => sql`(${monthsDiffSql(arg(args, 0), arg(args, 1), ctx)} / 12)`,
    evaluate: ([end, start], _now, types) =>
      truncDiv(monthsBetween(instant(end!, types[0]!), instant(start!, types[1]!)), 12),
  }),
  define({
    name: 'DaysOld',
    summary: "the number of calendar days from the value's day to today (UTC)",
    example: 'DaysOld(last_purchase_date)',
    signatures: [{ params: ['temporal'], returns: 'integer' }],
    sql: (args, ctx) => daysDiffSql(today(ctx), arg(args, 0), ctx),
    evaluate: ([x], now, types) => daysBetween(now, instant(x!, types[0]!)),
  }),
  define({
    name: 'MonthsOld',
    summary: "the whole months from the value's day to today (UTC), counted like an age",
    example: 'MonthsOld(subscribed_on)',
    signatures: [{ params: ['temporal'], returns: 'integer' }],
    sql: (args, ctx) => {
      const x = arg(args, 0);
      return monthsDiffSql(today(ctx), { sql: dateSql(x, ctx), type: 'date' }, ctx);
    },
    evaluate: ([x], now, types) => monthsBetween(startOfDay(now), startOfDay(instant(x!, types[0]!))),
  }),
  define({
    name: 'YearsOld',
    summary: 'the age in whole years today (UTC); a Feb 29 birthday counts on Feb 28 in other years',
    example: 'YearsOld(birth_date)',
    signatures: [{ params: ['temporal'], returns: 'integer' }],
    sql: (args, ctx) => {
      const x = arg(args, 0);
      return sql`(${monthsDiffSql(today(ctx), { sql: dateSql(x, ctx), type: 'date' }, ctx)} / 12)`;
    },
    evaluate: ([x], now, types) =>
      truncDiv(monthsBetween(startOfDay(now), startOfDay(instant(x!, types[0]!))), 12),
  }),
  fieldFunction('Day', 'day', 'the day of the month, 1 to 31'),
  fieldFunction('Month', 'month', 'the month, 1 to 12'),
  fieldFunction('Year', 'year', 'the year'),
  fieldFunction('Hour', 'hour', 'the hour, 0 to 23 (0 for a date)'),
  fieldFunction('Minute', 'minute', 'the minute, 0 to 59 (0 for a date)'),
  fieldFunction('Second', 'second', 'the whole second, 0 to 59 (0 for a date)'),
  define({
    name: 'WeekDay',
    summary: 'the day of the week: 0 = Monday … 6 = Sunday',
    example: 'WeekDay(last_purchase_date)',
    signatures: [{ params: ['temporal'], returns: 'integer' }],
    sql: (args, ctx) => {
      const x = arg(args, 0);
      return ctx.kind === 'sqlite'
        ? sql`((CAST(strftime('%w', ${x.sql}) AS INTEGER) + 6) % 7)`
        : sql`(CAST(extract(isodow from ${pgLocal(x)}) AS bigint) - 1)`;
    },
    evaluate: ([x], _now, types) => weekDayOf(instant(x!, types[0]!)),
  }),
  define({
    name: 'DayOfYear',
    summary: 'the day of the year, 1 to 366',
    example: 'DayOfYear(birth_date)',
    signatures: [{ params: ['temporal'], returns: 'integer' }],
    sql: (args, ctx) => {
      const x = arg(args, 0);
      return ctx.kind === 'sqlite'
        ? sql`CAST(strftime('%j', ${x.sql}) AS INTEGER)`
        : sql`CAST(extract(doy from ${pgLocal(x)}) AS bigint)`;
    },
    evaluate: ([x], _now, types) => {
      const ms = instant(x!, types[0]!);
      return daysBetween(ms, civilToMs(civilOf(ms).year, 1, 1)) + 1;
    },
  }),
  define({
    name: 'ToDate',
    summary: "a date-time's calendar day (UTC), or a YYYY-MM-DD text as a date (empty when not a real date)",
    example: "ToDate('2026-03-01')",
    signatures: [
      { params: ['temporal'], returns: 'date' },
      { params: ['string'], returns: 'date' },
    ],
    sql: (args, ctx) => {
      const x = arg(args, 0);
      if (x.type !== 'string') return dateSql(x, ctx);
      if (ctx.kind === 'postgres') return pgToDate(x.sql, ctx);
      // date() normalises what it accepts, so only a YYYY-MM-DD calendar date comes back unchanged.
      const text = trimSql(x.sql, ctx);
      return sql`(CASE WHEN date(${text}) = ${text} AND ${text} >= '0001' THEN ${text} END)`;
    },
    evaluate: ([x], _now, types) => {
      if (types[0] !== 'string') return msToDate(instant(x!, types[0]!));
      return textToDate(x as string);
    },
  }),
  define({
    name: 'ToDateTime',
    summary:
      "an ISO 8601 text as a date-time (UTC without an offset; empty when invalid), or a date's midnight UTC",
    example: "ToDateTime('2026-03-01T09:30:00+01:00')",
    signatures: [
      { params: ['string'], returns: 'datetime' },
      { params: ['datetime'], returns: 'datetime' },
    ],
    sql: (args, ctx) => {
      const x = arg(args, 0);
      if (x.type !== 'string') return x.sql;
      return ctx.kind === 'postgres' ? pgToDatetime(x.sql, ctx) : sql`baton_to_datetime(${x.sql})`;
    },
    evaluate: ([x], _now, types) => (types[0] === 'string' ? textToDatetime(x as string) : x!),
  }),
  toDateFunction('TruncDate', 'the calendar day (UTC) of a date-time, as a date'),
  toDateFunction('DateOnly', 'the calendar day (UTC) of a date-time, as a date (same as TruncDate)'),
  truncFunction(
    'TruncWeek',
    "the Monday of the value's week, as a date",
    (x) => sql`date(${x}, '-6 days', 'weekday 1')`,
    'week',
    (day) => day - weekDayOf(day) * MS_PER_DAY,
  ),
  truncFunction(
    'TruncMonth',
    "the first day of the value's month, as a date",
    (x) => sql`(substr(${x}, 1, 7) || '-01')`,
    'month',
    (day) => civilToMs(civilOf(day).year, civilOf(day).month, 1),
  ),
  truncFunction(
    'TruncQuarter',
    "the first day of the value's quarter, as a date",
    (x) => sql`date(${x}, 'start of month', ((1 - CAST(substr(${x}, 6, 2) AS INTEGER)) % 3) || ' months')`,
    'quarter',
    (day) => {
      const { year, month } = civilOf(day);
      return civilToMs(year, month - ((month - 1) % 3), 1);
    },
  ),
  truncFunction(
    'TruncYear',
    "the first day of the value's year, as a date",
    (x) => sql`(substr(${x}, 1, 4) || '-01-01')`,
    'year',
    (day) => civilToMs(civilOf(day).year, 1, 1),
  ),
  define({
    name: 'YearAndMonth',
    summary: 'the year and month as one number, year × 100 + month (202611 for November 2026)',
    example: 'YearAndMonth(last_purchase_date)',
    signatures: [{ params: ['temporal'], returns: 'integer' }],
    sql: (args, ctx) => {
      const x = arg(args, 0);
      return ctx.kind === 'sqlite'
        ? sql`CAST(strftime('%Y%m', ${x.sql}) AS INTEGER)`
        : sql`CAST(to_char(${pgLocal(x)}, 'YYYYMM') AS bigint)`;
    },
    evaluate: ([x], _now, types) => {
      const { year, month } = civilOf(instant(x!, types[0]!));
      return year * 100 + month;
    },
  }),
];

export const DATE_SQLITE_UDFS: SqliteUdf[] = [
  {
    // ToDateTime: SQLite's own parsing accepts other forms and normalises invalid days.
    name: 'baton_to_datetime',
    fn: (text: unknown) => {
      const ms = typeof text === 'string' ? textToDatetime(text) : null;
      return ms === null ? null : formatSqliteDatetime(ms);
    },
  },
];
