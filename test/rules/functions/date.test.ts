import { beforeAll, describe, expect, it } from 'vitest';
import { DATE_FUNCTIONS } from '../../../src/rules/expression/functions/date.ts';
import { describeEachDatabase, type TestDatabase } from '../../helpers/databases.ts';
import {
  expectAgree,
  HARNESS_NOW,
  loadHarness,
  typeOf,
  type ExpressionRun,
} from '../../helpers/expressions.ts';

const at = (iso: string) => Date.parse(iso);

/** The values by row id, for comparing whole columns. */
const rows = (values: Map<number, unknown>) => Object.fromEntries(values);

/** The value of an expression that does not depend on the row (asserted the same for every row). */
async function constant(t: TestDatabase, source: string, run: ExpressionRun = {}): Promise<unknown> {
  const values = [...(await expectAgree(t, source, run)).values()];
  expect(new Set(values).size, source).toBe(1);
  return values[0];
}

const quote = (text: string) => `'${text.replaceAll("'", "''")}'`;

/** An expression giving row n the n-th text: not a constant, so PostgreSQL cannot fold it while planning. */
function perRow(texts: string[]): string {
  return `Case(${texts.map((text, i) => `When(id = ${i + 1}, ${quote(text)})`).join(', ')})`;
}

/** Texts ToDateTime reads, and what it makes of them (epoch ms, or null for an invalid one). */
const DATETIME_TEXTS: Array<[string, number | null]> = [
  ['2024-02-29T10:00:00Z', at('2024-02-29T10:00:00Z')],
  ['2024-02-29t10:00:00z', at('2024-02-29T10:00:00Z')],
  ['2024-02-29 10:00', at('2024-02-29T10:00:00Z')],
  ['2024-02-29T10:00:00.1', at('2024-02-29T10:00:00.100Z')],
  ['2024-02-29T10:00:00,123456789+01:00', at('2024-02-29T09:00:00.123Z')],
  ['2024-02-29T23:59:59.999-00:30', at('2024-03-01T00:29:59.999Z')],
  ['2024-02-29T10:00:00+0530', at('2024-02-29T04:30:00Z')],
  ['2024-02-29T10:00:00 +05', at('2024-02-29T05:00:00Z')],
  ['2024-02-29T10:00:00\u00a0Z', at('2024-02-29T10:00:00Z')],
  ['2024-02-29', at('2024-02-29T00:00:00Z')],
  ['2024-02-29Z', at('2024-02-29T00:00:00Z')],
  ['2024-02-29 -02:00', at('2024-02-29T02:00:00Z')],
  ['0001-01-01T00:00:00-01:00', at('0001-01-01T01:00:00Z')],
  ['9999-12-31T23:59:59.999Z', at('9999-12-31T23:59:59.999Z')],
  ['0001-01-01T00:00:00+01:00', null],
  ['9999-12-31T23:30:00-01:00', null],
  ['0000-01-01T00:00:00Z', null],
  ['2023-02-29T10:00:00Z', null],
  ['2024-04-31', null],
  ['2024-13-01', null],
  ['2024-02-29T24:00:00Z', null],
  ['2024-02-29T10:60:00Z', null],
  ['2024-02-29T10:00:60Z', null],
  ['2024-02-29T10:00:00+24:00', null],
  ['2024-02-29T10:00:00+05:60', null],
  ['2024-02-29T10:00:00.', null],
  ['2024-02-29T10:00:00.1234567890', null],
  ['2024-02-29T10', null],
  ['2024-02-29T1000', null],
  [' 2024-02-29', at('2024-02-29T00:00:00Z')],
  ['\t2024-02-29T10:00:00Z\n', at('2024-02-29T10:00:00Z')],
  ['\u30002024-02-29 10:00 +01:00\u00a0', at('2024-02-29T09:00:00Z')],
  ['2024-2-29', null],
  ['２０２４-02-29', null],
  ['   ', null],
  ['', null],
  ['tomorrow', null],
  ["it's 2024-02-29", null],
];

/** Texts ToDate reads, and what it makes of them. */
const DATE_TEXTS: Array<[string, string | null]> = [
  ['2024-02-29', '2024-02-29'],
  ['0001-01-01', '0001-01-01'],
  ['9999-12-31', '9999-12-31'],
  ['2023-02-29', null],
  ['2024-04-31', null],
  ['2024-00-10', null],
  ['2024-01-00', null],
  ['0000-01-01', null],
  ['2024-2-29', null],
  ['2024-02-29T10:00:00Z', null],
  [' 2024-02-29 ', '2024-02-29'],
  ['\u3000\t2024-02-29\r\n', '2024-02-29'],
  ['2024-02-29 x', null],
  ['2024 -02-29', null],
  ['20240229', null],
  ['', null],
  ['29/02/2024', null],
  ['2460000', null],
];

describe('date functions: catalogue and types', () => {
  it('has every date function once, each with a summary and an example calling it', () => {
    const names = DATE_FUNCTIONS.map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
    expect([...names].sort()).toEqual(
      [
        ...['Days', 'Hours', 'Minutes', 'Months', 'Seconds', 'Years'].flatMap((u) => [`Add${u}`, `Sub${u}`]),
        ...['GetDate', 'DaysAgo', 'MonthsAgo', 'YearsAgo'],
        ...['DaysDiff', 'HoursDiff', 'MinutesDiff', 'SecondsDiff', 'MonthsDiff', 'YearsDiff'],
        ...['DaysOld', 'MonthsOld', 'YearsOld'],
        ...['Day', 'Month', 'Year', 'Hour', 'Minute', 'Second', 'WeekDay', 'DayOfYear'],
        ...['ToDate', 'ToDateTime', 'TruncDate', 'DateOnly'],
        ...['TruncWeek', 'TruncMonth', 'TruncQuarter', 'TruncYear', 'YearAndMonth'],
      ].sort(),
    );
    for (const f of DATE_FUNCTIONS) {
      expect(f.category, f.name).toBe('date');
      expect(f.summary, f.name).toMatch(/^\S.*\S$/);
      expect(f.summary, f.name).not.toContain('\n');
      expect(f.example.startsWith(`${f.name}(`), f.name).toBe(true);
    }
  });

  it('types results from the arguments', () => {
    const cases: Array<[string, string]> = [
      ['AddDays(dt, 1)', 'date'],
      ['AddDays(ts, 1)', 'datetime'],
      ['SubMonths(dt, i)', 'date'],
      ['AddYears(ts, -1)', 'datetime'],
      ['AddMonths(NULL, 1)', 'date'],
      ['AddHours(dt, 1)', 'datetime'],
      ['SubSeconds(ts, i2)', 'datetime'],
      ['GetDate()', 'datetime'],
      ['DaysAgo(1)', 'date'],
      ['MonthsAgo(i)', 'date'],
      ['DaysDiff(dt, ts)', 'integer'],
      ['HoursDiff(dt, ts)', 'integer'],
      ['MonthsDiff(dt, dt2)', 'integer'],
      ['YearsDiff(ts, dt)', 'integer'],
      ['YearsOld(dt)', 'integer'],
      ['Hour(dt)', 'integer'],
      ['WeekDay(ts)', 'integer'],
      ['ToDate(s)', 'date'],
      ['ToDate(ts)', 'date'],
      ['ToDateTime(s)', 'datetime'],
      ['ToDateTime(dt)', 'datetime'],
      ['TruncWeek(ts)', 'date'],
      ['DateOnly(ts)', 'date'],
      ['YearAndMonth(dt)', 'integer'],
      ['addDAYS(dt, 1)', 'date'],
    ];
    for (const [source, type] of cases) expect(typeOf(source), source).toBe(type);
  });

  it('refuses a wrong number or type of arguments', () => {
    const wrong = [
      'AddDays(dt)',
      'AddDays(dt, 1, 2)',
      'AddDays(dt, 1.5)',
      'AddDays(dt, d)',
      'AddDays(s, 1)',
      "AddDays(dt, '1')",
      'AddMonths(i, 1)',
      'AddHours(b, 1)',
      'SubYears(dt, b)',
      'GetDate(1)',
      'DaysAgo()',
      'DaysAgo(dt)',
      'MonthsAgo(1.5)',
      'DaysDiff(dt)',
      'DaysDiff(dt, i)',
      'HoursDiff(ts, s)',
      'MonthsDiff(dt, b)',
      'YearsDiff(dt, dt, dt)',
      'YearsOld()',
      'DaysOld(s)',
      'Year(i)',
      'Month(s)',
      'Hour(s)',
      'WeekDay(b)',
      'DayOfYear(d)',
      'ToDate(i)',
      'ToDate(b)',
      'ToDate(dt, 1)',
      'ToDateTime(d)',
      "DateOnly('2024-01-01')",
      'TruncMonth(s)',
      'YearAndMonth(i)',
    ];
    for (const source of wrong) expect(() => typeOf(source), source).toThrow(/does not match/);
    expect(() => typeOf('AddDays(dt, 1.5)')).toThrow(
      'AddDays(date, decimal) does not match AddDays(temporal, integer)',
    );
  });
});

describeEachDatabase('date functions', (t) => {
  beforeAll(() => loadHarness(t));

  it('AddDays / SubDays: dates stay dates, date-times keep their time, out of 0001-9999 is empty', async () => {
    expect(rows(await expectAgree(t, 'AddDays(dt, i2)'))).toEqual({
      1: '2024-03-05',
      2: '1899-12-29',
      3: null,
      4: '2027-01-04',
      5: '2000-02-29',
      6: '2023-01-31',
      7: '2000-01-02',
      8: '2026-12-05',
    });
    const datetimes = await expectAgree(t, 'AddDays(ts, i2)');
    expect(datetimes.get(1)).toBe(at('2026-12-03T10:15:30.250Z'));
    expect(datetimes.get(2)).toBe(at('1969-12-29T00:00:00Z'));
    // Row 5 adds 9,007,199,254,740 days.
    expect((await expectAgree(t, 'AddDays(dt, i)')).get(5)).toBeNull();
    await expectAgree(t, 'SubDays(dt, i)');
    await expectAgree(t, 'SubDays(ts2, i2)');
    await expectAgree(t, 'AddDays(dt, i * 1000)');
    await expectAgree(t, 'SubDays(ts, 0 - i * 1000)');
    expect(await constant(t, 'AddDays(#2024-02-28#, 1)')).toBe('2024-02-29');
    expect(await constant(t, 'SubDays(#2024-01-01#, 1)')).toBe('2023-12-31');
    expect(await constant(t, 'AddDays(#9999-12-31#, 1)')).toBeNull();
    expect(await constant(t, 'SubDays(#0001-01-01#, 1)')).toBeNull();
    expect(await constant(t, 'SubDays(#0001-01-02#, 1)')).toBe('0001-01-01');
    expect(await constant(t, 'AddDays(#9999-12-31T23:59:59.999Z#, 0)')).toBe(at('9999-12-31T23:59:59.999Z'));
    expect(await constant(t, 'AddDays(#9999-12-31T00:00:00Z#, 1)')).toBeNull();
    expect(await constant(t, 'SubDays(#0001-01-01T12:00:00Z#, 1)')).toBeNull();
    expect(await constant(t, 'AddDays(#2026-01-01#, 3660001)')).toBeNull();
    expect(await constant(t, 'SubDays(#9999-12-31#, 3652058)')).toBe('0001-01-01');
  });

  it('AddMonths / SubMonths clamp to the last day of the month', async () => {
    expect(rows(await expectAgree(t, 'AddMonths(dt, i2)'))).toEqual({
      1: '2024-07-29',
      2: '1899-10-01',
      3: null,
      4: '2027-04-30',
      5: '2000-03-28',
      6: '2023-01-31',
      7: '2000-02-29',
      8: '2027-06-28',
    });
    const datetimes = await expectAgree(t, 'AddMonths(ts2, i2)');
    expect(datetimes.get(1)).toBe(at('2026-06-30T23:59:59.999Z'));
    expect(datetimes.get(2)).toBe(at('1999-11-29T12:00:00Z'));
    await expectAgree(t, 'SubMonths(dt2, i)');
    await expectAgree(t, 'SubMonths(ts, i2)');
    await expectAgree(t, 'AddMonths(dt, i * 1000)');
    expect(await constant(t, 'AddMonths(#2024-01-31#, 1)')).toBe('2024-02-29');
    expect(await constant(t, 'AddMonths(#2023-01-31#, 1)')).toBe('2023-02-28');
    expect(await constant(t, 'AddMonths(#2023-01-31#, 2)')).toBe('2023-03-31');
    expect(await constant(t, 'SubMonths(#2024-03-31#, 1)')).toBe('2024-02-29');
    expect(await constant(t, 'SubMonths(#2024-03-31#, -1)')).toBe('2024-04-30');
    expect(await constant(t, 'AddMonths(#2024-11-30#, 3)')).toBe('2025-02-28');
    expect(await constant(t, 'AddMonths(#2024-01-31T18:30:00Z#, 1)')).toBe(at('2024-02-29T18:30:00Z'));
    expect(await constant(t, 'AddMonths(#9999-12-01#, 1)')).toBeNull();
    expect(await constant(t, 'SubMonths(#0001-01-31#, 1)')).toBeNull();
    expect(await constant(t, 'SubMonths(#9999-12-31#, 119987)')).toBe('0001-01-31');
  });

  it('AddYears / SubYears: Feb 29 becomes Feb 28 in other years', async () => {
    expect(rows(await expectAgree(t, 'AddYears(dt, i2)'))).toEqual({
      1: '2029-02-28',
      2: '1897-01-01',
      3: null,
      4: '2030-12-31',
      5: '2001-02-28',
      6: '2023-01-31',
      7: '2001-12-31',
      8: '2033-11-28',
    });
    await expectAgree(t, 'SubYears(ts2, i)');
    await expectAgree(t, 'AddYears(dt, 8000)');
    expect(rows(await expectAgree(t, 'SubYears(dt, 2000)'))).toEqual({
      1: '0024-02-29',
      2: null,
      3: null,
      4: '0026-12-31',
      5: null,
      6: '0023-01-31',
      7: null,
      8: '0026-11-28',
    });
    expect(await constant(t, 'AddYears(#2024-02-29#, 1)')).toBe('2025-02-28');
    expect(await constant(t, 'AddYears(#2024-02-29#, 4)')).toBe('2028-02-29');
    expect(await constant(t, 'SubYears(#2000-02-29T06:00:00Z#, 100)')).toBe(at('1900-02-28T06:00:00Z'));
    expect(await constant(t, 'AddYears(#0001-01-01#, 9998)')).toBe('9999-01-01');
    expect(await constant(t, 'AddYears(#0001-01-01#, 9999)')).toBeNull();
    expect(await constant(t, 'SubYears(#9999-12-31T23:59:59.999Z#, 9998)')).toBe(
      at('0001-12-31T23:59:59.999Z'),
    );
  });

  it('AddHours / AddMinutes / AddSeconds and their Sub forms give date-times', async () => {
    const hours = await expectAgree(t, 'AddHours(ts, i)');
    expect(hours.get(1)).toBe(at('2026-11-30T04:15:30.250Z'));
    expect(hours.get(4)).toBe(at('2026-03-28T08:30:00Z'));
    expect(hours.get(5)).toBeNull();
    expect((await expectAgree(t, 'AddMinutes(dt, i)')).get(1)).toBe(at('2024-02-29T00:42:00Z'));
    expect((await expectAgree(t, 'SubSeconds(ts, i)')).get(7)).toBe(at('2000-01-01T00:00:00Z'));
    await expectAgree(t, 'SubHours(ts2, i2)');
    await expectAgree(t, 'SubMinutes(ts, i)');
    await expectAgree(t, 'AddSeconds(ts2, i2)');
    await expectAgree(t, 'AddSeconds(ts, i * 1000)');
    await expectAgree(t, 'SubHours(dt2, i * 1000)');
    expect(await constant(t, 'AddHours(#2024-02-28#, 24)')).toBe(at('2024-02-29T00:00:00Z'));
    expect(await constant(t, 'AddSeconds(#9999-12-31T23:59:59Z#, 1)')).toBeNull();
    expect(await constant(t, 'SubMinutes(#0001-01-01T00:00:00Z#, 1)')).toBeNull();
    expect(await constant(t, 'SubSeconds(#2000-01-01T00:00:00.500Z#, 1)')).toBe(
      at('1999-12-31T23:59:59.500Z'),
    );
    expect(await constant(t, 'AddSeconds(#0001-01-01T00:00:00Z#, 315537897599)')).toBe(
      at('9999-12-31T23:59:59Z'),
    );
  });

  it('GetDate and the *Ago functions use the run clock', async () => {
    expect(await constant(t, 'GetDate()')).toBe(HARNESS_NOW);
    expect(rows(await expectAgree(t, 'DaysAgo(i)'))).toEqual({
      1: '2026-10-17',
      2: '2026-11-28',
      3: null,
      4: '2026-12-15',
      5: null,
      6: '2026-11-21',
      7: '2026-11-29',
      8: '2026-08-20',
    });
    await expectAgree(t, 'MonthsAgo(i2)');
    await expectAgree(t, 'YearsAgo(i)');
    expect(await constant(t, 'DaysAgo(28)')).toBe('2026-10-31');
    expect(await constant(t, 'DaysAgo(-1)')).toBe('2026-11-29');
    expect(await constant(t, 'YearsAgo(2026)')).toBeNull();
    const endOfMarch = { now: at('2026-03-31T23:59:59.999Z') };
    expect(await constant(t, 'GetDate()', endOfMarch)).toBe(endOfMarch.now);
    expect(await constant(t, 'DaysAgo(0)', endOfMarch)).toBe('2026-03-31');
    expect(await constant(t, 'MonthsAgo(1)', endOfMarch)).toBe('2026-02-28');
    expect(await constant(t, 'MonthsAgo(-2)', endOfMarch)).toBe('2026-05-31');
    const leapDay = { now: at('2028-02-29T08:00:00Z') };
    expect(await constant(t, 'YearsAgo(1)', leapDay)).toBe('2027-02-28');
    expect(await constant(t, 'YearsAgo(4)', leapDay)).toBe('2024-02-29');
  });

  it('DaysDiff counts calendar days; Hours/Minutes/SecondsDiff whole units, truncated toward zero', async () => {
    expect(rows(await expectAgree(t, 'DaysDiff(dt, dt2)'))).toEqual({
      1: -1,
      2: -73048,
      3: null,
      4: 364,
      5: -32,
      6: -28,
      7: 0,
      8: 365,
    });
    expect((await expectAgree(t, 'DaysDiff(ts, dt)')).get(8)).toBe(-1);
    await expectAgree(t, 'DaysDiff(ts2, ts)');
    expect(await constant(t, 'DaysDiff(#2026-11-28T00:00:00Z#, #2026-11-27T23:59:59Z#)')).toBe(1);
    expect(await constant(t, 'HoursDiff(#2026-11-28T00:00:00Z#, #2026-11-27T23:59:59Z#)')).toBe(0);
    expect(rows(await expectAgree(t, 'HoursDiff(ts, ts2)'))).toEqual({
      1: 7210,
      2: -264396,
      3: null,
      4: -5039,
      5: 0,
      6: 0,
      7: 23,
      8: -13,
    });
    await expectAgree(t, 'MinutesDiff(ts2, ts)');
    const seconds = await expectAgree(t, 'SecondsDiff(ts, ts2)');
    expect(seconds.get(6)).toBe(0);
    expect(seconds.get(5)).toBe(0);
    expect(seconds.get(7)).toBe(86399);
    await expectAgree(t, 'SecondsDiff(ts, dt)');
    expect(await constant(t, 'SecondsDiff(#2026-01-01T00:00:00Z#, #2026-01-01T00:00:01.999Z#)')).toBe(-1);
    expect(await constant(t, 'MinutesDiff(#2026-01-01T00:00:00Z#, #2025-12-31T23:58:00.001Z#)')).toBe(1);
    expect(await constant(t, 'SecondsDiff(#9999-12-31T23:59:59.999Z#, #0001-01-01T00:00:00Z#)')).toBe(
      315537897599,
    );
  });

  it('MonthsDiff / YearsDiff count whole months like an age, and swapping the arguments flips the sign', async () => {
    const forward = await expectAgree(t, 'MonthsDiff(dt, dt2)');
    expect(rows(forward)).toEqual({ 1: 0, 2: -2399, 3: null, 4: 11, 5: -1, 6: -1, 7: 0, 8: 12 });
    const backward = await expectAgree(t, 'MonthsDiff(dt2, dt)');
    for (const [id, value] of forward)
      expect(backward.get(id), `row ${id}`).toBe(value === null ? null : 0 - (value as number));
    await expectAgree(t, 'MonthsDiff(ts, ts2)');
    await expectAgree(t, 'MonthsDiff(ts2, ts)');
    await expectAgree(t, 'MonthsDiff(ts, dt)');
    await expectAgree(t, 'YearsDiff(dt2, dt)');
    expect(rows(await expectAgree(t, 'YearsDiff(ts, dt)'))).toEqual({
      1: 2,
      2: 70,
      3: null,
      4: 0,
      5: 24,
      6: 0,
      7: 0,
      8: 0,
    });
    const months: Array<[string, number]> = [
      ['#2024-02-29#, #2024-01-31#', 1],
      ['#2024-01-31#, #2024-02-29#', -1],
      ['#2024-02-28#, #2024-01-31#', 0],
      ['#2023-03-30#, #2023-01-31#', 1],
      ['#2023-03-31#, #2023-01-31#', 2],
      ['#2023-03-31#, #2023-02-28#', 1],
      ['#2024-01-01#, #2023-12-31#', 0],
      ['#2024-01-31#, #2023-12-31#', 1],
      ['#2024-02-29T10:00:00Z#, #2024-01-31T11:00:00Z#', 0],
      ['#2024-02-29T11:00:00Z#, #2024-01-31T11:00:00Z#', 1],
      ['#2024-01-31T11:00:00Z#, #2024-02-29T11:00:00Z#', -1],
    ];
    for (const [args, expected] of months)
      expect(await constant(t, `MonthsDiff(${args})`), args).toBe(expected);
    expect(await constant(t, 'YearsDiff(#2025-02-28#, #2024-02-29#)')).toBe(1);
    expect(await constant(t, 'YearsDiff(#2025-02-27#, #2024-02-29#)')).toBe(0);
    expect(await constant(t, 'YearsDiff(#2024-02-29#, #2025-02-28#)')).toBe(-1);
    expect(await constant(t, 'YearsDiff(#2024-06-01#, #2025-05-31#)')).toBe(0);
    expect(await constant(t, 'YearsDiff(#9999-12-31#, #0001-01-01#)')).toBe(9998);
  });

  it('DaysOld / MonthsOld / YearsOld measure up to today (UTC); a Feb 29 birthday counts on Feb 28', async () => {
    expect(rows(await expectAgree(t, 'DaysOld(dt)'))).toEqual({
      1: 1003,
      2: 46352,
      3: null,
      4: -33,
      5: 9770,
      6: 1397,
      7: 9829,
      8: 0,
    });
    // Row 8's date-time is yesterday 10:15, a day old though less than 24 hours ago.
    expect((await expectAgree(t, 'DaysOld(ts)')).get(8)).toBe(1);
    await expectAgree(t, 'MonthsOld(dt)');
    expect((await expectAgree(t, 'MonthsOld(ts2)')).get(1)).toBe(9);
    expect(rows(await expectAgree(t, 'YearsOld(dt)'))).toEqual({
      1: 2,
      2: 126,
      3: null,
      4: 0,
      5: 26,
      6: 3,
      7: 26,
      8: 0,
    });
    await expectAgree(t, 'YearsOld(ts2)');
    expect(await constant(t, 'YearsOld(#2000-11-28#)')).toBe(26);
    expect(await constant(t, 'YearsOld(#2000-11-29#)')).toBe(25);
    expect(await constant(t, 'DaysOld(#2026-11-27T23:59:59Z#)')).toBe(1);
    expect(await constant(t, 'AddYears(#2000-02-29#, 25)')).toBe('2025-02-28');
    const dayBefore = { now: at('2025-02-27T23:59:59Z') };
    const feb28 = { now: at('2025-02-28T00:00:00Z') };
    const leapYear = { now: at('2028-02-28T12:00:00Z') };
    expect(await constant(t, 'YearsOld(#2000-02-29#)', dayBefore)).toBe(24);
    expect(await constant(t, 'YearsOld(#2000-02-29#)', feb28)).toBe(25);
    expect(await constant(t, 'YearsOld(#2000-02-29#)', leapYear)).toBe(27);
    expect(await constant(t, 'YearsOld(#2000-02-29T23:00:00Z#)', feb28)).toBe(25);
    // Jan 31 plus one month is Feb 28 in 2025, as AddMonths says.
    expect(await constant(t, 'MonthsOld(#2025-01-31#)', feb28)).toBe(1);
    expect(await constant(t, 'MonthsOld(#2025-01-31#)', dayBefore)).toBe(0);
    expect(await constant(t, 'MonthsOld(#2024-12-28#)', feb28)).toBe(2);
    expect(await constant(t, 'DaysOld(#2025-03-01#)', feb28)).toBe(-1);
  });

  it('Day, Month, Year, Hour, Minute, Second, WeekDay and DayOfYear read the UTC calendar', async () => {
    for (const source of ['Day', 'Month', 'Year', 'WeekDay', 'DayOfYear'].flatMap((f) =>
      ['dt', 'dt2', 'ts', 'ts2'].map((c) => `${f}(${c})`),
    )) {
      await expectAgree(t, source);
    }
    for (const source of ['Hour', 'Minute', 'Second'].flatMap((f) =>
      ['dt', 'ts', 'ts2'].map((c) => `${f}(${c})`),
    )) {
      await expectAgree(t, source);
    }
    const parts = ['Year', 'Month', 'Day', 'Hour', 'Minute', 'Second', 'WeekDay', 'DayOfYear'];
    const now = await Promise.all(parts.map((f) => expectAgree(t, `${f}(ts)`).then((v) => v.get(1))));
    expect(now).toEqual([2026, 11, 28, 10, 15, 30, 5, 332]);
    expect(rows(await expectAgree(t, 'Hour(dt)'))).toEqual({
      1: 0,
      2: 0,
      3: null,
      4: 0,
      5: 0,
      6: 0,
      7: 0,
      8: 0,
    });
    expect(rows(await expectAgree(t, 'WeekDay(dt)'))).toEqual({
      1: 3,
      2: 0,
      3: null,
      4: 3,
      5: 0,
      6: 1,
      7: 4,
      8: 5,
    });
    expect(await constant(t, 'WeekDay(#2026-11-29#)')).toBe(6);
    expect(await constant(t, 'WeekDay(#0001-01-01#)')).toBe(0);
    expect(await constant(t, 'DayOfYear(#2024-12-31#)')).toBe(366);
    expect(await constant(t, 'DayOfYear(#2023-12-31#)')).toBe(365);
    expect(await constant(t, 'Second(#2026-01-01T10:20:30.999Z#)')).toBe(30);
    expect(await constant(t, 'Year(#0050-06-01#)')).toBe(50);
  });

  it('ToDate reads a YYYY-MM-DD calendar date and nothing else; of a date-time it takes the UTC day', async () => {
    expect(rows(await expectAgree(t, 'ToDate(ts)'))).toEqual({
      1: '2026-11-28',
      2: '1970-01-01',
      3: null,
      4: '2026-03-29',
      5: '2024-12-31',
      6: '2023-06-15',
      7: '1999-12-31',
      8: '2026-11-27',
    });
    await expectAgree(t, 'ToDate(dt)');
    await expectAgree(t, 'ToDate(s)');
    for (let i = 0; i < DATE_TEXTS.length; i += 8) {
      const chunk = DATE_TEXTS.slice(i, i + 8);
      const values = await expectAgree(t, `ToDate(${perRow(chunk.map(([text]) => text))})`);
      chunk.forEach(([text, expected], j) => expect(values.get(j + 1), text).toBe(expected));
    }
    for (const [text, expected] of DATE_TEXTS) {
      expect(await constant(t, `ToDate(${quote(text)})`), text).toBe(expected);
    }
    const variable = { variables: { x: { type: 'string' as const, value: '2023-02-29' } } };
    expect(await constant(t, 'ToDate(vars.x)', variable)).toBeNull();
  });

  it('ToDateTime reads ISO 8601 as imports do (UTC without an offset) and gives a date its midnight', async () => {
    expect((await expectAgree(t, 'ToDateTime(dt)')).get(1)).toBe(at('2024-02-29T00:00:00Z'));
    await expectAgree(t, 'ToDateTime(ts)');
    await expectAgree(t, 'ToDateTime(s)');
    for (let i = 0; i < DATETIME_TEXTS.length; i += 8) {
      const chunk = DATETIME_TEXTS.slice(i, i + 8);
      const values = await expectAgree(t, `ToDateTime(${perRow(chunk.map(([text]) => text))})`);
      chunk.forEach(([text, expected], j) => expect(values.get(j + 1), text).toBe(expected));
    }
    for (const [text, expected] of DATETIME_TEXTS) {
      expect(await constant(t, `ToDateTime(${quote(text)})`), text).toBe(expected);
    }
    const variable = { variables: { x: { type: 'string' as const, value: '2026-02-30T10:00:00Z' } } };
    expect(await constant(t, 'ToDateTime(vars.x)', variable)).toBeNull();
  });

  it('TruncDate, DateOnly and the Trunc* functions give the first day of the period, as a date', async () => {
    for (const f of ['TruncDate', 'DateOnly', 'TruncWeek', 'TruncMonth', 'TruncQuarter', 'TruncYear']) {
      for (const c of ['dt', 'dt2', 'ts', 'ts2']) await expectAgree(t, `${f}(${c})`);
    }
    expect(rows(await expectAgree(t, 'DateOnly(ts2)'))).toEqual({
      1: '2026-01-31',
      2: '2000-02-29',
      3: null,
      4: '2026-10-25',
      5: '2025-01-01',
      6: '2023-06-15',
      7: '1999-12-31',
      8: '2026-11-28',
    });
    expect(rows(await expectAgree(t, 'TruncWeek(dt)'))).toEqual({
      1: '2024-02-26',
      2: '1900-01-01',
      3: null,
      4: '2026-12-28',
      5: '2000-02-28',
      6: '2023-01-30',
      7: '1999-12-27',
      8: '2026-11-23',
    });
    expect(rows(await expectAgree(t, 'TruncQuarter(dt)'))).toEqual({
      1: '2024-01-01',
      2: '1900-01-01',
      3: null,
      4: '2026-10-01',
      5: '2000-01-01',
      6: '2023-01-01',
      7: '1999-10-01',
      8: '2026-10-01',
    });
    expect(await constant(t, 'TruncDate(#2026-11-28T23:59:59.999Z#)')).toBe('2026-11-28');
    expect(await constant(t, 'TruncWeek(#2026-11-29T23:00:00Z#)')).toBe('2026-11-23');
    expect(await constant(t, 'TruncWeek(#2026-11-30#)')).toBe('2026-11-30');
    expect(await constant(t, 'TruncWeek(#2027-01-01#)')).toBe('2026-12-28');
    expect(await constant(t, 'TruncWeek(#0001-01-07#)')).toBe('0001-01-01');
    expect(await constant(t, 'TruncMonth(#2024-02-29T12:00:00Z#)')).toBe('2024-02-01');
    expect(await constant(t, 'TruncQuarter(#2026-06-30#)')).toBe('2026-04-01');
    expect(await constant(t, 'TruncYear(#2026-12-31T23:59:59Z#)')).toBe('2026-01-01');
  });

  it('YearAndMonth is year * 100 + month', async () => {
    expect(rows(await expectAgree(t, 'YearAndMonth(dt)'))).toEqual({
      1: 202402,
      2: 190001,
      3: null,
      4: 202612,
      5: 200002,
      6: 202301,
      7: 199912,
      8: 202611,
    });
    await expectAgree(t, 'YearAndMonth(ts2)');
    expect(await constant(t, 'YearAndMonth(#0050-03-01#)')).toBe(5003);
  });

  it('a NULL argument gives NULL, from a column or the NULL literal', async () => {
    const calls = [
      'AddDays(NULL, 1)',
      'AddDays(dt, NULL)',
      'SubHours(ts, NULL)',
      'DaysAgo(NULL)',
      'DaysDiff(NULL, dt)',
      'HoursDiff(ts, NULL)',
      'MonthsDiff(NULL, NULL)',
      'YearsOld(NULL)',
      'Year(NULL)',
      'Hour(NULL)',
      'WeekDay(NULL)',
      'ToDate(NULL)',
      'ToDateTime(NULL)',
      'TruncQuarter(NULL)',
      'YearAndMonth(NULL)',
    ];
    for (const call of calls) expect(await constant(t, call), call).toBeNull();
    for (const call of ['AddMonths(dt, i)', 'MonthsDiff(dt, dt2)', 'ToDate(s)', 'TruncWeek(ts)']) {
      expect((await expectAgree(t, call)).get(3), call).toBeNull();
    }
  });

  it('composes: date functions inside one another and in conditions', async () => {
    await expectAgree(t, 'YearsDiff(AddMonths(dt, i2), TruncYear(ts))');
    await expectAgree(t, "DaysOld(ToDate(Case(When(i > 0, '2024-02-29'), Else('2023-02-29'))))");
    await expectAgree(t, 'TruncWeek(AddDays(ts, i2)) = TruncWeek(ts2)');
    await expectAgree(t, 'YearsOld(dt) >= 18 AND Month(dt) = Month(GetDate())');
    await expectAgree(t, "MonthsDiff(ToDateTime(Case(When(i > 0, '2026-02-28T23:00:00Z'), Else('x'))), ts2)");
  });
});
