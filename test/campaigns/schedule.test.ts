import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkCampaign } from '../../src/campaigns/document.ts';
import {
  dueLaunch,
  nextLaunches,
  parseSchedule,
  previewLaunches,
  scheduleProblems,
  type Schedule,
} from '../../src/campaigns/schedule.ts';
import { DEMO_SCHEMA_FILE } from '../../src/data/demo/load-demo.ts';
import { ValidationError } from '../../src/errors.ts';
import { parseSchemaText } from '../../src/schema/parse.ts';

function problems(raw: unknown): string[] {
  try {
    parseSchedule(raw);
    return [];
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return error.issues.map((i) => `${i.path}: ${i.message}`);
  }
}

/** The next launches after `after`, as ISO instants. */
function launches(raw: unknown, after: string, count = 6): string[] {
  return nextLaunches(parseSchedule(raw), new Date(after), count).map((d) => d.toISOString());
}

const ROME = { timezone: 'Europe/Rome' };
const NEW_YORK = { timezone: 'America/New_York' };

describe('schedule documents', () => {
  it('fills in the defaults: UTC, every day, every 1, all months, no parameters', () => {
    expect(parseSchedule({ frequency: 'daily', at: '09:00' })).toEqual({
      frequency: 'daily',
      at: '09:00',
      days: 'every',
      every: 1,
      timezone: 'UTC',
    });
    expect(parseSchedule({ frequency: 'monthly', at: '09:00', day: 'last' })).toMatchObject({
      months: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
      timezone: 'UTC',
    });
    expect(parseSchedule({ frequency: 'signal' })).toEqual({ frequency: 'signal', parameters: [] });
    expect(parseSchedule({ frequency: 'asap' })).toEqual({ frequency: 'asap' });
  });

  it('names every problem at once, each with its path under schedule', () => {
    expect(
      problems({
        frequency: 'daily',
        at: '9:00',
        days: ['mon', 'mon'],
        every: 0,
        validFrom: '2026-02-30',
        timezone: 'Mars/Base',
        extra: 1,
      }),
    ).toEqual([
      'schedule.at: expected a time "HH:MM" from 00:00 to 23:59, such as "09:00"',
      'schedule.days: a day is listed twice',
      'schedule.every: expected a number of days from 1 to 365',
      'schedule.timezone: unknown time zone "Mars/Base": use an IANA name such as Europe/Rome, America/New_York or UTC',
      'schedule.validFrom: expected a date "YYYY-MM-DD" or a date-time "YYYY-MM-DDTHH:MM", without an offset (timezone says where it is); got "2026-02-30"',
      'schedule.extra: unknown key "extra" for a daily schedule (known: frequency, at, days, every, timezone, validFrom, validUntil)',
    ]);
    expect(problems({ frequency: 'hourly' })).toEqual([
      'schedule.frequency: expected one of asap, once, daily, several-times-a-day, weekly, monthly, signal',
    ]);
    expect(problems('daily')).toEqual([
      'schedule: expected a schedule such as { frequency: daily, at: "09:00", timezone: Europe/Rome }',
    ]);
    expect(problems({ frequency: 'weekly' })).toEqual([
      'schedule.at: missing: expected a time "HH:MM" such as "09:00"',
      'schedule.days: missing: expected a list of days such as [mon, wed, fri]',
    ]);
  });

  it('checks time zones with Intl: IANA names and their aliases, not offsets', () => {
    for (const timezone of ['+01:00', '', 'Europe/Atlantis'])
      expect(problems({ frequency: 'once', at: '2026-12-01T09:00', timezone })).toEqual([
        `schedule.timezone: unknown time zone ${JSON.stringify(timezone)}: use an IANA name such as Europe/Rome, America/New_York or UTC`,
      ]);
    for (const timezone of ['Asia/Calcutta', 'UTC', 'Australia/Lord_Howe'])
      expect(problems({ frequency: 'once', at: '2026-12-01T09:00', timezone })).toEqual([]);
    expect(problems({ frequency: 'once', at: '2026-12-01T09:00Z' })).toEqual([
      'schedule.at: expected a date-time "YYYY-MM-DDTHH:MM" such as "2026-12-01T09:00", without an offset (timezone says where it is); got "2026-12-01T09:00Z"',
    ]);
    expect(problems({ frequency: 'once', at: '2026-12-01T09:00', validFrom: '2026-11-01' })).toEqual([
      'schedule.validFrom: unknown key "validFrom" for a once schedule (known: frequency, at, timezone)',
    ]);
  });

  it('refuses launches closer than 15 minutes, across midnight too', () => {
    expect(problems({ frequency: 'several-times-a-day', every: { minutes: 5 } })).toEqual([
      'schedule.every.minutes: expected a number of minutes from 15 (the shortest interval) to 720',
    ]);
    expect(
      problems({ frequency: 'several-times-a-day', hours: ['09:00', '09:10', '12:00', '12:00'] }),
    ).toEqual([
      'schedule.hours: 09:00 and 09:10 are 10 minutes apart; launches must be at least 15 minutes apart',
      'schedule.hours: 12:00 is listed twice',
    ]);
    expect(problems({ frequency: 'several-times-a-day', hours: ['23:55', '00:05'] })).toEqual([
      'schedule.hours: the last launch of a day (23:55) and the first of the next (00:05) are 10 minutes apart; launches must be at least 15 minutes apart',
    ]);
    expect(problems({ frequency: 'several-times-a-day', every: { minutes: 17 } })).toEqual([
      'schedule.every: the last launch of a day (23:48) and the first of the next (00:00) are 12 minutes apart; launches must be at least 15 minutes apart',
    ]);
    expect(problems({ frequency: 'several-times-a-day', every: { minutes: 15 } })).toEqual([]);
  });

  it('wants one form of each choice, and windows that start before they end', () => {
    expect(problems({ frequency: 'several-times-a-day', between: ['20:00', '08:00'] })).toEqual([
      'schedule.hours: give either hours (a list of times) or every (a period, with between), one of the two',
      'schedule.between: between bounds a periodic schedule (every)',
      'schedule.between: the window must start before it ends (20:00 – 08:00), within one day',
    ]);
    expect(problems({ frequency: 'several-times-a-day', every: { minutes: 30, hours: 1 } })).toEqual([
      'schedule.every: give either minutes or hours',
    ]);
    expect(problems({ frequency: 'monthly', at: '09:00', day: 1, weekdays: ['mon'] })).toEqual([
      'schedule.day: give either day (a day of the month, last, every or an nth weekday) or weekdays, one of the two',
    ]);
    expect(
      problems({ frequency: 'daily', at: '09:00', validFrom: '2026-03-01', validUntil: '2026-02-28T23:00' }),
    ).toEqual([
      'schedule.validUntil: the validity window ends (2026-02-28T23:00) before it starts (2026-03-01)',
    ]);
    // A date as validUntil is the whole day, so a one-day window is fine.
    expect(
      problems({ frequency: 'daily', at: '09:00', validFrom: '2026-03-01', validUntil: '2026-03-01' }),
    ).toEqual([]);
  });

  it('checks monthly days: impossible days, nth weekdays, months', () => {
    expect(problems({ frequency: 'monthly', at: '09:00', months: [2, 4], day: 31 })).toEqual([
      'schedule.day: none of the chosen months has a day 31; use day: last for the last day of each month',
    ]);
    expect(problems({ frequency: 'monthly', at: '09:00', months: [2], day: 29 })).toEqual([]);
    expect(problems({ frequency: 'monthly', at: '09:00', day: { nth: 6, weekday: 'fri' } })).toEqual([
      'schedule.day.nth: expected 1 to 5, or last',
    ]);
    expect(problems({ frequency: 'monthly', at: '09:00', day: 'lst', months: [0, 3, 3] })).toEqual([
      'schedule.months[0]: expected months as numbers, 1 (January) to 12 (December)',
      'schedule.months: a month is listed twice',
      'schedule.day: expected a day of the month (1 to 31), last, every, or { nth: 1 to 5 or last, weekday } such as { nth: 1, weekday: mon }',
    ]);
  });

  it('counts every n days or weeks from validFrom, and keeps days of the week for weekly', () => {
    expect(problems({ frequency: 'weekly', at: '09:00', days: ['mon'], every: 2 })).toEqual([
      'schedule.validFrom: every 2 weeks counts from a first week: set validFrom to a day of it',
    ]);
    expect(
      problems({ frequency: 'daily', at: '09:00', every: 2, days: 'weekdays', validFrom: '2026-01-01' }),
    ).toEqual([
      'schedule.every: every 2 days counts calendar days and cannot be combined with days; for chosen days of the week use a weekly schedule',
    ]);
  });

  it('checks signal parameters: names, types, defaults and test values of that type', () => {
    expect(
      problems({
        frequency: 'signal',
        parameters: [
          { name: 'coupon', type: 'string', required: true },
          { name: 'limit', type: 'integer', default: 1.5, required: true },
          { name: 'limit', type: 'date', testValue: '2026-02-30' },
          { name: '1a', type: 'money', default: 3 },
          { name: 'from', type: 'datetime', testValue: '2026-12-01T09:00' },
        ],
      }),
    ).toEqual([
      'schedule.parameters[1].default: expected a whole number (integer)',
      'schedule.parameters[1].required: a parameter with a default is never missing: drop required or the default',
      'schedule.parameters[2].testValue: expected a date "YYYY-MM-DD" (date)',
      'schedule.parameters[3].name: a parameter name is letters, digits and _, starting with a letter or _ (at most 63)',
      'schedule.parameters[3].type: expected a type: string, integer, decimal, boolean, date, datetime',
      'schedule.parameters[4].testValue: expected a date-time with an offset, such as "2026-12-01T09:00:00+01:00" (datetime)',
      'schedule.parameters[2].name: parameter limit is declared twice',
    ]);
    const schedule = parseSchedule({
      frequency: 'signal',
      parameters: [
        { name: 'ratio', type: 'decimal', default: 0.5 },
        { name: 'day', type: 'date', testValue: '2028-02-29' },
        { name: 'at', type: 'datetime', testValue: '2026-12-01T09:00:00+01:00', description: 'when' },
        { name: 'vip', type: 'boolean', required: true, testValue: false },
      ],
    });
    expect(schedule).toMatchObject({ parameters: [{ required: false }, {}, {}, { required: true }] });
    expect(nextLaunches(schedule, new Date('2026-01-01T00:00:00Z'), 10)).toEqual([]);
  });

  it('reports schedule problems in a campaign document, with the other problems', () => {
    const schema = parseSchemaText(readFileSync(DEMO_SCHEMA_FILE, 'utf8'));
    const campaign = (schedule: unknown) => ({
      id: 'c',
      name: 'C',
      schedule,
      activities: { a: { type: 'build-audience', dimension: 'profiles' } },
    });
    expect(() =>
      checkCampaign(schema, campaign({ frequency: 'once', at: '2026-12-01T09:00', ...ROME })),
    ).not.toThrow();
    try {
      checkCampaign(schema, { ...campaign({ frequency: 'weekly', at: '25:00', days: [] }), layout: 1 });
      expect.unreachable();
    } catch (error) {
      expect((error as ValidationError).issues).toEqual([
        { path: 'schedule.at', message: 'expected a time "HH:MM" from 00:00 to 23:59, such as "09:00"' },
        { path: 'schedule.days', message: 'name at least one day' },
        { path: 'layout', message: 'expected a map of activity id → { x, y }' },
      ]);
    }
  });
});

describe('launch times', () => {
  it('once: a local date-time in the zone, and nothing after it', () => {
    const once = { frequency: 'once', at: '2026-12-01T09:00', ...ROME };
    expect(launches(once, '2026-01-01T00:00:00Z')).toEqual(['2026-12-01T08:00:00.000Z']);
    expect(launches(once, '2026-12-01T08:00:00Z')).toEqual([]);
    expect(launches({ frequency: 'asap' }, '2026-01-01T00:00:00Z')).toEqual([]);
  });

  it('once in a DST gap runs when the gap ends, in an overlap at the first occurrence', () => {
    const once = (at: string, zone: object) =>
      launches({ frequency: 'once', at, ...zone }, '2026-01-01T00:00:00Z');
    // Europe/Rome: 02:00 → 03:00 on 2026-03-29, 03:00 → 02:00 on 2026-10-25.
    expect(once('2026-03-29T02:30', ROME)).toEqual(['2026-03-29T01:00:00.000Z']);
    expect(once('2026-10-25T02:30', ROME)).toEqual(['2026-10-25T00:30:00.000Z']);
    // America/New_York: 02:00 → 03:00 on 2026-03-08, 02:00 → 01:00 on 2026-11-01.
    expect(once('2026-03-08T02:30', NEW_YORK)).toEqual(['2026-03-08T07:00:00.000Z']);
    expect(once('2026-11-01T01:30', NEW_YORK)).toEqual(['2026-11-01T05:30:00.000Z']);
  });

  it('daily keeps its wall-clock time across DST changes', () => {
    const daily = (at: string, zone: object, after: string) =>
      launches({ frequency: 'daily', at, ...zone }, after, 3);
    expect(daily('02:30', ROME, '2026-03-27T12:00:00Z')).toEqual([
      '2026-03-28T01:30:00.000Z',
      '2026-03-29T01:00:00.000Z', // 02:30 does not exist: 03:00 CEST
      '2026-03-30T00:30:00.000Z',
    ]);
    expect(daily('02:30', ROME, '2026-10-23T12:00:00Z')).toEqual([
      '2026-10-24T00:30:00.000Z',
      '2026-10-25T00:30:00.000Z', // 02:30 happens twice: the first (CEST) only
      '2026-10-26T01:30:00.000Z',
    ]);
    expect(daily('09:00', NEW_YORK, '2026-03-06T20:00:00Z')).toEqual([
      '2026-03-07T14:00:00.000Z',
      '2026-03-08T13:00:00.000Z',
      '2026-03-09T13:00:00.000Z',
    ]);
    expect(daily('01:30', NEW_YORK, '2026-10-31T12:00:00Z')).toEqual([
      '2026-11-01T05:30:00.000Z',
      '2026-11-02T06:30:00.000Z',
      '2026-11-03T06:30:00.000Z',
    ]);
  });

  it('daily on weekdays, on chosen days, and every n days from validFrom', () => {
    // 2026-01-02 is a Friday.
    expect(
      launches({ frequency: 'daily', at: '09:00', days: 'weekdays' }, '2026-01-02T00:00:00Z', 3),
    ).toEqual(['2026-01-02T09:00:00.000Z', '2026-01-05T09:00:00.000Z', '2026-01-06T09:00:00.000Z']);
    expect(
      launches({ frequency: 'daily', at: '18:45', days: ['sat', 'sun'] }, '2026-01-02T00:00:00Z', 3),
    ).toEqual(['2026-01-03T18:45:00.000Z', '2026-01-04T18:45:00.000Z', '2026-01-10T18:45:00.000Z']);
    const everyThree = {
      frequency: 'daily',
      at: '09:00',
      every: 3,
      validFrom: '2026-01-30',
      validUntil: '2026-02-10',
    };
    expect(launches(everyThree, '2026-01-01T00:00:00Z', 10)).toEqual([
      '2026-01-30T09:00:00.000Z',
      '2026-02-02T09:00:00.000Z',
      '2026-02-05T09:00:00.000Z',
      '2026-02-08T09:00:00.000Z',
    ]);
    // The phase stays that of validFrom when the series is read from later on.
    expect(launches(everyThree, '2026-02-03T00:00:00Z', 10)).toEqual([
      '2026-02-05T09:00:00.000Z',
      '2026-02-08T09:00:00.000Z',
    ]);
    // Every 365 days runs across a leap year's 366.
    expect(
      launches(
        { frequency: 'daily', at: '09:00', every: 365, validFrom: '2027-01-01' },
        '2026-06-01T00:00:00Z',
        3,
      ),
    ).toEqual(['2027-01-01T09:00:00.000Z', '2028-01-01T09:00:00.000Z', '2028-12-31T09:00:00.000Z']);
  });

  it('several times a day at chosen hours, across DST days in New York', () => {
    const hours = { frequency: 'several-times-a-day', hours: ['09:00', '02:30', '01:30'], ...NEW_YORK };
    expect(launches(hours, '2026-03-08T00:00:00Z', 4)).toEqual([
      '2026-03-08T06:30:00.000Z', // 01:30 EST
      '2026-03-08T07:00:00.000Z', // 02:30 does not exist: 03:00 EDT
      '2026-03-08T13:00:00.000Z', // 09:00 EDT
      '2026-03-09T05:30:00.000Z',
    ]);
    expect(launches(hours, '2026-11-01T00:00:00Z', 4)).toEqual([
      '2026-11-01T05:30:00.000Z', // 01:30 EDT, not again at 01:30 EST
      '2026-11-01T07:30:00.000Z', // 02:30 EST
      '2026-11-01T14:00:00.000Z', // 09:00 EST
      '2026-11-02T06:30:00.000Z',
    ]);
    expect(
      launches({ ...hours, hours: ['12:00', '09:00'], days: ['tue'] }, '2026-01-01T00:00:00Z', 3),
    ).toEqual(['2026-01-06T14:00:00.000Z', '2026-01-06T17:00:00.000Z', '2026-01-13T14:00:00.000Z']);
  });

  it('several times a day, periodic within a window, on wall-clock slots across DST days in Rome', () => {
    const periodic = {
      frequency: 'several-times-a-day',
      every: { minutes: 30 },
      between: ['01:00', '04:00'],
      ...ROME,
    };
    // Spring forward: 02:00 and 02:30 do not exist; they merge into one launch at 03:00 CEST.
    expect(launches(periodic, '2026-03-28T22:00:00Z', 6)).toEqual([
      '2026-03-29T00:00:00.000Z', // 01:00 CET
      '2026-03-29T00:30:00.000Z', // 01:30 CET
      '2026-03-29T01:00:00.000Z', // 03:00 CEST
      '2026-03-29T01:30:00.000Z', // 03:30 CEST
      '2026-03-29T02:00:00.000Z', // 04:00 CEST
      '2026-03-29T23:00:00.000Z', // 01:00 CEST the next day
    ]);
    // Fall back: 02:00 and 02:30 happen twice and run once, in the first (CEST) hour.
    expect(launches(periodic, '2026-10-24T22:00:00Z', 8)).toEqual([
      '2026-10-24T23:00:00.000Z', // 01:00 CEST
      '2026-10-24T23:30:00.000Z', // 01:30 CEST
      '2026-10-25T00:00:00.000Z', // 02:00 CEST
      '2026-10-25T00:30:00.000Z', // 02:30 CEST
      '2026-10-25T02:00:00.000Z', // 03:00 CET
      '2026-10-25T02:30:00.000Z', // 03:30 CET
      '2026-10-25T03:00:00.000Z', // 04:00 CET
      '2026-10-26T00:00:00.000Z', // 01:00 CET the next day
    ]);
    // A period that does not divide the hour restarts at the window's start each day.
    expect(
      launches(
        { frequency: 'several-times-a-day', every: { minutes: 45 }, between: ['08:00', '10:00'] },
        '2026-01-01T00:00:00Z',
      ),
    ).toEqual([
      '2026-01-01T08:00:00.000Z',
      '2026-01-01T08:45:00.000Z',
      '2026-01-01T09:30:00.000Z',
      '2026-01-02T08:00:00.000Z',
      '2026-01-02T08:45:00.000Z',
      '2026-01-02T09:30:00.000Z',
    ]);
    expect(
      launches(
        {
          frequency: 'several-times-a-day',
          every: { hours: 4 },
          between: ['08:00', '20:00'],
          days: 'weekdays',
        },
        '2026-01-02T12:00:00Z',
      ),
    ).toEqual([
      '2026-01-02T16:00:00.000Z',
      '2026-01-02T20:00:00.000Z',
      '2026-01-05T08:00:00.000Z',
      '2026-01-05T12:00:00.000Z',
      '2026-01-05T16:00:00.000Z',
      '2026-01-05T20:00:00.000Z',
    ]);
  });

  it('weekly every n weeks, anchored on the week of validFrom (weeks start on Monday)', () => {
    // 2026-01-07 is a Wednesday: its week starts on Monday 2026-01-05, which is before validFrom.
    const fortnightly = {
      frequency: 'weekly',
      at: '09:00',
      days: ['thu', 'mon'],
      every: 2,
      validFrom: '2026-01-07',
      ...ROME,
    };
    expect(launches(fortnightly, '2026-01-01T00:00:00Z')).toEqual([
      '2026-01-08T08:00:00.000Z',
      '2026-01-19T08:00:00.000Z',
      '2026-01-22T08:00:00.000Z',
      '2026-02-02T08:00:00.000Z',
      '2026-02-05T08:00:00.000Z',
      '2026-02-16T08:00:00.000Z',
    ]);
    // Read from within an off week, the series resumes in the next on week; across the spring change too.
    expect(launches(fortnightly, '2026-03-24T00:00:00Z', 3)).toEqual([
      '2026-03-30T07:00:00.000Z',
      '2026-04-02T07:00:00.000Z',
      '2026-04-13T07:00:00.000Z',
    ]);
    expect(launches({ frequency: 'weekly', at: '07:15', days: ['fri'] }, '2026-01-01T00:00:00Z', 2)).toEqual([
      '2026-01-02T07:15:00.000Z',
      '2026-01-09T07:15:00.000Z',
    ]);
  });

  it('monthly on day n skips months without it; last is the last day, leap days included', () => {
    expect(
      launches({ frequency: 'monthly', at: '09:00', day: 31, ...ROME }, '2026-01-01T00:00:00Z', 4),
    ).toEqual([
      '2026-01-31T08:00:00.000Z',
      '2026-03-31T07:00:00.000Z',
      '2026-05-31T07:00:00.000Z',
      '2026-07-31T07:00:00.000Z',
    ]);
    expect(launches({ frequency: 'monthly', at: '09:00', day: 'last' }, '2028-01-15T00:00:00Z', 4)).toEqual([
      '2028-01-31T09:00:00.000Z',
      '2028-02-29T09:00:00.000Z',
      '2028-03-31T09:00:00.000Z',
      '2028-04-30T09:00:00.000Z',
    ]);
    expect(
      launches({ frequency: 'monthly', at: '09:00', months: [2], day: 'last' }, '2026-01-01T00:00:00Z', 3),
    ).toEqual(['2026-02-28T09:00:00.000Z', '2027-02-28T09:00:00.000Z', '2028-02-29T09:00:00.000Z']);
    // A leap day, yearly.
    expect(
      launches({ frequency: 'monthly', at: '09:00', months: [2], day: 29 }, '2026-01-01T00:00:00Z', 3),
    ).toEqual(['2028-02-29T09:00:00.000Z', '2032-02-29T09:00:00.000Z', '2036-02-29T09:00:00.000Z']);
    expect(
      launches({ frequency: 'monthly', at: '09:00', months: [12], day: 'every' }, '2026-12-30T00:00:00Z', 3),
    ).toEqual(['2026-12-30T09:00:00.000Z', '2026-12-31T09:00:00.000Z', '2027-12-01T09:00:00.000Z']);
  });

  it('monthly on the nth or last weekday, or on chosen weekdays of chosen months', () => {
    const monthly = (day: unknown, count = 3, extra = {}) =>
      launches({ frequency: 'monthly', at: '09:00', day, ...extra }, '2026-01-01T00:00:00Z', count);
    expect(monthly({ nth: 1, weekday: 'mon' })).toEqual([
      '2026-01-05T09:00:00.000Z',
      '2026-02-02T09:00:00.000Z',
      '2026-03-02T09:00:00.000Z',
    ]);
    expect(monthly({ nth: 'last', weekday: 'fri' })).toEqual([
      '2026-01-30T09:00:00.000Z',
      '2026-02-27T09:00:00.000Z',
      '2026-03-27T09:00:00.000Z',
    ]);
    // Months without a fifth Monday are skipped.
    expect(monthly({ nth: 5, weekday: 'mon' }, 4)).toEqual([
      '2026-03-30T09:00:00.000Z',
      '2026-06-29T09:00:00.000Z',
      '2026-08-31T09:00:00.000Z',
      '2026-11-30T09:00:00.000Z',
    ]);
    expect(monthly({ nth: 2, weekday: 'tue' }, 2, { months: [6, 12], ...NEW_YORK })).toEqual([
      '2026-06-09T13:00:00.000Z',
      '2026-12-08T14:00:00.000Z',
    ]);
    expect(
      launches(
        { frequency: 'monthly', at: '09:00', months: [1], weekdays: ['mon'] },
        '2026-01-20T00:00:00Z',
        3,
      ),
    ).toEqual(['2026-01-26T09:00:00.000Z', '2027-01-04T09:00:00.000Z', '2027-01-11T09:00:00.000Z']);
  });

  it('stays within the validity window: a start in the future, an end that cuts the series', () => {
    const daily = { frequency: 'daily', at: '09:00', ...ROME };
    expect(launches({ ...daily, validFrom: '2026-06-01' }, '2026-01-01T00:00:00Z', 2)).toEqual([
      '2026-06-01T07:00:00.000Z',
      '2026-06-02T07:00:00.000Z',
    ]);
    // A start with a time: a launch at that very minute counts, one before it does not.
    expect(launches({ ...daily, validFrom: '2026-06-01T09:00' }, '2026-01-01T00:00:00Z', 1)).toEqual([
      '2026-06-01T07:00:00.000Z',
    ]);
    expect(launches({ ...daily, validFrom: '2026-06-01T09:01' }, '2026-01-01T00:00:00Z', 1)).toEqual([
      '2026-06-02T07:00:00.000Z',
    ]);
    // An end date is the whole day; an end date-time includes its minute.
    expect(launches({ ...daily, validUntil: '2026-06-02' }, '2026-05-31T12:00:00Z', 10)).toEqual([
      '2026-06-01T07:00:00.000Z',
      '2026-06-02T07:00:00.000Z',
    ]);
    expect(launches({ ...daily, validUntil: '2026-06-02T09:00' }, '2026-05-31T12:00:00Z', 10)).toEqual([
      '2026-06-01T07:00:00.000Z',
      '2026-06-02T07:00:00.000Z',
    ]);
    expect(launches({ ...daily, validUntil: '2026-06-02T08:59' }, '2026-05-31T12:00:00Z', 10)).toEqual([
      '2026-06-01T07:00:00.000Z',
    ]);
    // The reference's example: twice a day at 9:00 and 12:00, 1 Oct 2025 → 1 Jan 2026.
    const twice = parseSchedule({
      frequency: 'several-times-a-day',
      hours: ['09:00', '12:00'],
      validFrom: '2025-10-01',
      validUntil: '2026-01-01',
      ...ROME,
    });
    const all = nextLaunches(twice, new Date('2025-01-01T00:00:00Z'), 1000);
    expect(all).toHaveLength(2 * 93);
    expect([all[0], all.at(-1)].map((d) => d?.toISOString())).toEqual([
      '2025-10-01T07:00:00.000Z',
      '2026-01-01T11:00:00.000Z',
    ]);
  });

  it('is strictly after the given instant, and gives what is asked for', () => {
    const daily = parseSchedule({ frequency: 'daily', at: '09:00' });
    expect(nextLaunches(daily, new Date('2026-01-01T09:00:00Z'), 1)).toEqual([
      new Date('2026-01-02T09:00:00Z'),
    ]);
    expect(nextLaunches(daily, new Date('2026-01-01T08:59:59.999Z'), 1)).toEqual([
      new Date('2026-01-01T09:00:00Z'),
    ]);
    expect(nextLaunches(daily, new Date('2026-01-01T00:00:00Z'), 0)).toEqual([]);
  });
});

describe('preview and publish checks', () => {
  it('previews the next ten launches with their local time and offset', () => {
    const daily = parseSchedule({ frequency: 'daily', at: '02:30', ...NEW_YORK });
    const preview = previewLaunches(daily, new Date('2026-03-06T12:00:00Z'));
    expect(preview).toHaveLength(10);
    expect(preview.slice(0, 3)).toEqual([
      { at: new Date('2026-03-07T07:30:00Z'), local: '2026-03-07T02:30-05:00' },
      { at: new Date('2026-03-08T07:00:00Z'), local: '2026-03-08T03:00-04:00' },
      { at: new Date('2026-03-09T06:30:00Z'), local: '2026-03-09T02:30-04:00' },
    ]);
    expect(
      previewLaunches(
        parseSchedule({ frequency: 'daily', at: '09:00', timezone: 'Asia/Kolkata' }),
        new Date(0),
        1,
      ),
    ).toEqual([{ at: new Date('1970-01-01T03:30:00Z'), local: '1970-01-01T09:00+05:30' }]);
    expect(previewLaunches(parseSchedule({ frequency: 'signal' }), new Date())).toEqual([]);
  });

  it('rolls a recurring schedule whose first slot has passed to its next slot', () => {
    const weekly = parseSchedule({
      frequency: 'weekly',
      at: '09:00',
      days: ['mon'],
      validFrom: '2026-01-01',
    });
    expect(previewLaunches(weekly, new Date('2026-03-04T10:00:00Z'), 2).map((p) => p.local)).toEqual([
      '2026-03-09T09:00+00:00',
      '2026-03-16T09:00+00:00',
    ]);
    expect(scheduleProblems(weekly, new Date('2026-03-04T10:00:00Z'))).toEqual([]);
  });

  it('refuses to publish a once in the past, an ended window, or a window with no launch left', () => {
    const now = new Date('2026-06-01T10:00:00Z');
    const once = parseSchedule({ frequency: 'once', at: '2026-06-01T12:00', ...ROME });
    expect(previewLaunches(once, now)).toEqual([]);
    expect(scheduleProblems(once, now)).toEqual([
      {
        path: 'schedule.at',
        message:
          '2026-06-01T12:00 (Europe/Rome) is in the past; choose a later time, or use frequency: asap to start the campaign by hand',
      },
    ]);
    expect(
      scheduleProblems(parseSchedule({ frequency: 'once', at: '2026-06-01T12:01', ...ROME }), now),
    ).toEqual([]);
    expect(
      scheduleProblems(parseSchedule({ frequency: 'daily', at: '09:00', validUntil: '2026-05-31' }), now),
    ).toEqual([
      {
        path: 'schedule.validUntil',
        message: 'the validity window ended (2026-05-31, UTC); move validUntil later or remove it',
      },
    ]);
    expect(
      scheduleProblems(parseSchedule({ frequency: 'daily', at: '09:00', validUntil: '2026-06-01' }), now),
    ).toEqual([
      {
        path: 'schedule',
        message:
          'no launch time is left in the validity window (until 2026-06-01); widen the window or change the days',
      },
    ]);
    expect(scheduleProblems(parseSchedule({ frequency: 'asap' }), now)).toEqual([]);
  });
});

describe('missed launches', () => {
  const daily = parseSchedule({ frequency: 'daily', at: '09:00' });
  const due = (schedule: Schedule, last: string | null, now: string, grace?: number) =>
    dueLaunch(schedule, last === null ? null : new Date(last), new Date(now), grace)?.toISOString() ?? null;

  it('launches a slot when it comes, once', () => {
    expect(due(daily, '2026-01-01T09:00:00Z', '2026-01-02T08:59:59Z')).toBeNull();
    expect(due(daily, '2026-01-01T09:00:00Z', '2026-01-02T09:00:05Z')).toBe('2026-01-02T09:00:00.000Z');
    expect(due(daily, '2026-01-02T09:00:00Z', '2026-01-02T09:00:10Z')).toBeNull();
  });

  it('catches up the latest missed slot once, within an hour; older ones are skipped', () => {
    expect(due(daily, '2026-01-01T09:00:00Z', '2026-01-02T09:40:00Z')).toBe('2026-01-02T09:00:00.000Z');
    expect(due(daily, '2026-01-01T09:00:00Z', '2026-01-02T10:00:00Z')).toBe('2026-01-02T09:00:00.000Z');
    expect(due(daily, '2026-01-01T09:00:00Z', '2026-01-02T10:00:01Z')).toBeNull();
    // Down for three days: one run, for the latest slot, not three.
    expect(due(daily, '2026-01-01T09:00:00Z', '2026-01-04T09:10:00Z')).toBe('2026-01-04T09:00:00.000Z');
    // What was skipped, for the record.
    const skipped = nextLaunches(daily, new Date('2026-01-01T09:00:00Z'), 10).filter(
      (d) => d < new Date('2026-01-04T09:00:00Z'),
    );
    expect(skipped.map((d) => d.toISOString())).toEqual([
      '2026-01-02T09:00:00.000Z',
      '2026-01-03T09:00:00.000Z',
    ]);
    expect(due(daily, '2026-01-01T09:00:00Z', '2026-01-04T08:00:00Z')).toBeNull();
    // Another grace period, still capped by half the interval: a daily slot is never run 12 hours late.
    const day = 24 * 3_600_000;
    expect(due(daily, '2026-01-01T09:00:00Z', '2026-01-02T09:20:00Z', 600_000)).toBeNull();
    expect(due(daily, '2026-01-01T09:00:00Z', '2026-01-02T20:00:00Z', day)).toBe('2026-01-02T09:00:00.000Z');
    expect(due(daily, '2026-01-01T09:00:00Z', '2026-01-02T21:00:01Z', day)).toBeNull();
  });

  it('never runs a slot from before publishing: the publish time is the first marker', () => {
    expect(due(daily, '2026-01-01T09:05:00Z', '2026-01-01T09:06:00Z')).toBeNull();
    const once = parseSchedule({ frequency: 'once', at: '2026-01-01T09:00' });
    expect(due(once, '2026-01-01T08:00:00Z', '2026-01-01T09:20:00Z')).toBe('2026-01-01T09:00:00.000Z');
    expect(due(once, null, '2026-01-01T09:20:00Z')).toBe('2026-01-01T09:00:00.000Z');
    expect(due(once, null, '2026-01-01T10:20:00Z')).toBeNull();
  });

  it('gives frequent schedules half their interval: a later run would be nearer the next slot', () => {
    const quarterly = parseSchedule({
      frequency: 'several-times-a-day',
      every: { minutes: 15 },
      between: ['08:00', '20:00'],
    });
    expect(due(quarterly, '2026-01-01T08:00:00Z', '2026-01-01T09:22:30Z')).toBe('2026-01-01T09:15:00.000Z');
    expect(due(quarterly, '2026-01-01T08:00:00Z', '2026-01-01T09:22:31Z')).toBeNull();
    // The last slot of the day is followed by the next morning's: an hour's grace.
    expect(due(quarterly, '2026-01-01T08:00:00Z', '2026-01-01T20:59:00Z')).toBe('2026-01-01T20:00:00.000Z');
    // A slot after the validity window has ended still counts if it is within its grace.
    const ending = parseSchedule({ frequency: 'daily', at: '09:00', validUntil: '2026-01-02T09:00' });
    expect(due(ending, '2026-01-01T09:00:00Z', '2026-01-02T09:30:00Z')).toBe('2026-01-02T09:00:00.000Z');
    expect(due(parseSchedule({ frequency: 'asap' }), null, '2026-01-02T09:30:00Z')).toBeNull();
  });
});
