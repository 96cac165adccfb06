import { describe, expect, it } from 'vitest';
import { formatIsoDatetime, formatSqliteDatetime } from '../../src/db/bulk-values.ts';
import { postgresDialect, sqliteDialect } from '../../src/db/dialect.ts';

describe('datetime formatting', () => {
  it('matches Date#toISOString from year 1 to 9999, at odd times of day', () => {
    // About 13.4 days plus a few seconds: over 250,000 points, every month, weekday and time of day.
    const step = 1_155_172_321;
    for (
      let ms = Date.parse('0001-01-01T00:00:00.017Z');
      ms < Date.parse('9999-12-31T00:00:00Z');
      ms += step
    ) {
      const iso = new Date(ms).toISOString();
      expect(formatIsoDatetime(ms)).toBe(iso);
      expect(formatSqliteDatetime(ms)).toBe(`${iso.slice(0, 10)} ${iso.slice(11, 23)}`);
    }
  });

  it('handles the edges of days, leap days and milliseconds', () => {
    for (const iso of [
      '2024-02-29T23:59:59.999Z',
      '2000-01-01T00:00:00.000Z',
      '1969-12-31T23:59:59.001Z',
      '0001-01-01T00:00:00.000Z',
    ]) {
      expect(formatIsoDatetime(Date.parse(iso))).toBe(iso);
    }
  });
});

describe('bulk encoding', () => {
  it('PostgreSQL COPY text escapes what COPY needs and reads back as the same text', () => {
    const tricky = 'tab\there\nnew\\line\rcr \\N';
    const encoded = postgresDialect.encodeForBulk('string', tricky);
    expect(encoded).toBe('tab\\there\\nnew\\\\line\\rcr \\\\N');
    expect(postgresDialect.bulkValueText(encoded)).toBe(tricky);
    expect(postgresDialect.encodeForBulk('string', null)).toBe('\\N');
    expect(postgresDialect.bulkValueText('\\N')).toBe('');
    expect(postgresDialect.encodeForBulk('boolean', false)).toBe('false');
    expect(postgresDialect.encodeForBulk('datetime', Date.parse('2026-03-01T09:30:00Z'))).toBe(
      '2026-03-01T09:30:00.000Z',
    );
  });

  it('SQLite stores text that its column affinity turns into the right values', () => {
    expect(sqliteDialect.encodeForBulk('boolean', true)).toBe('1');
    expect(sqliteDialect.encodeForBulk('integer', 9223372036854775807n)).toBe('9223372036854775807');
    expect(sqliteDialect.encodeForBulk('datetime', Date.parse('2026-03-01T09:30:00.5Z'))).toBe(
      '2026-03-01 09:30:00.500',
    );
    expect(sqliteDialect.encodeForBulk('string', null)).toBeNull();
  });
});
