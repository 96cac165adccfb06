import { describe, expect, it } from 'vitest';
import { formatProblem, formatReader, type ReadFormatted } from '../../src/data/value-formats.ts';
import type { ColumnType } from '../../src/schema/types.ts';

function reader(type: ColumnType, format: string): ReadFormatted {
  const read = formatReader(type, format);
  if (typeof read === 'string') throw new Error(read);
  return read;
}

describe('declared value formats', () => {
  it('rewrites dates and date-times written in a pattern into the canonical forms', () => {
    expect(reader('date', 'DD/MM/YYYY')('31/12/2026')).toEqual({ text: '2026-12-31' });
    expect(reader('date', 'DD/MM/YYYY')(' 1/2/2026 ')).toEqual({ text: '2026-02-01' });
    expect(reader('date', 'MM-DD-YYYY')('12-31-2026')).toEqual({ text: '2026-12-31' });
    expect(reader('date', 'YYYYMMDD')('20261231')).toEqual({ text: '2026-12-31' });
    expect(reader('date', 'DD.MM.YYYY')('31-12-2026')).toEqual({
      reason: 'expected a date written DD.MM.YYYY',
    });
    expect(reader('datetime', 'DD/MM/YYYY HH:mm')('25/12/2026 18:30')).toEqual({
      text: '2026-12-25T18:30:00Z',
    });
    expect(reader('datetime', 'YYYY-MM-DD HH:mm:ss')('2026-12-25 08:05:09')).toEqual({
      text: '2026-12-25T08:05:09Z',
    });
  });

  it('reads numbers with the separators of the example, grouped or not', () => {
    const european = reader('decimal', '1.000,00');
    expect(european('1.234,56')).toEqual({ text: '1234.56' });
    expect(european('-1.234.567,5')).toEqual({ text: '-1234567.5' });
    expect(european('1234,5')).toEqual({ text: '1234.5' });
    expect(european('12')).toEqual({ text: '12' });
    expect(european('1,234.56')).toEqual({ reason: 'expected a number written like 1.000,00' });
    expect(european('1.23,4')).toEqual({ reason: 'expected a number written like 1.000,00' });
    expect(reader('decimal', '1 000,00')('12 345,5')).toEqual({ text: '12345.5' });
    expect(reader('decimal', "1'000.00")("1'000'000.25")).toEqual({ text: '1000000.25' });
    expect(reader('decimal', '1000,00')('3,25')).toEqual({ text: '3.25' });
    expect(reader('integer', '1.000')('1.234.567')).toEqual({ text: '1234567' });
    expect(reader('integer', '1.000')('12,5')).toEqual({ reason: 'expected a number written like 1.000' });
  });

  it('reads booleans by their two words, in any case', () => {
    const french = reader('boolean', 'oui/non');
    expect(french('OUI')).toEqual({ text: 'true' });
    expect(french(' non ')).toEqual({ text: 'false' });
    expect(french('yes')).toEqual({ reason: 'expected oui or non' });
  });

  it('names what is wrong with a format', () => {
    expect(formatProblem('date', 'DD/MM/YYYY')).toBeUndefined();
    expect(formatProblem('date', 'DD/MM')).toBe('the format DD/MM has no YYYY');
    expect(formatProblem('date', 'DD/MM/YYYY HH:mm')).toBe(
      'the format DD/MM/YYYY HH:mm is for a date: YYYY, MM and DD only',
    );
    expect(formatProblem('date', 'DD/MM/YYYY/DD')).toBe('DD appears twice in the format DD/MM/YYYY/DD');
    expect(formatProblem('datetime', 'DD/MM/YYYY')).toBe('the format DD/MM/YYYY has no HH, mm');
    expect(formatProblem('date', 'D/M/Y')).toMatch(/^"D" in the format D\/M\/Y is not one of YYYY, MM, DD/);
    expect(formatProblem('decimal', '1.000.00')).toBe(
      'the format 1.000.00 uses . both between thousands and before decimals',
    );
    expect(formatProblem('decimal', '1,5')).toMatch(/^a decimal format shows how 1000 is written/);
    expect(formatProblem('boolean', 'yes')).toMatch(/^a boolean format is the word for true/);
    expect(formatProblem('boolean', 'y/Y')).toBe('the format y/Y uses one word for true and false');
    expect(formatProblem('string', 'x')).toBe('a text column is read as it is: it takes no format');
  });
});
