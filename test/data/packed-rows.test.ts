import { describe, expect, it } from 'vitest';
import { postgresDialect, sqliteDialect } from '../../src/db/dialect.ts';
import { ESCAPED, QUOTED } from '../../src/data/csv-scanner.ts';
import {
  NOT_UTF8_REASON,
  NUL_REASON,
  PackedRowsBuilder,
  packedBatch,
} from '../../src/data/import/packed-rows.ts';

const bytes = (text: string) => Buffer.from(text, 'utf8');

describe('packed batches (worker → main thread)', () => {
  it('round-trip every SQLite value, telling NULL from the empty string and from U+0001 text', () => {
    const rows = [
      { line: 2, op: 'u' as const, values: ['1', null, '', '\u0001', '\u0001x', 'tab\tand\nnewline'] },
      { line: 7, op: 'd' as const, values: ['2', 'é🎉', null, null, ' ', '\\N'] },
    ];
    const builder = new PackedRowsBuilder('sqlite', 6);
    for (const row of rows) {
      builder.beginRow();
      for (const value of row.values) {
        if (value === null) builder.nullValue();
        else builder.encodedValue(value);
      }
      builder.endRow(row.line, row.op);
    }
    const batch = packedBatch(builder.take());
    expect(batch.count).toBe(2);
    expect(batch.rows()).toEqual(rows);
    expect(batch.values()).toEqual(rows.flatMap((r) => r.values));
    expect(batch.copyText()).toBeUndefined();
  });

  it('writes PostgreSQL rows as COPY text lines, escaping raw text and un-doubling quotes', () => {
    const builder = new PackedRowsBuilder('postgres', 3);
    builder.beginRow();
    const raw = bytes('a\tb\\c\nd\re');
    expect(builder.stringValue(raw, 0, raw.length, QUOTED)).toBeUndefined();
    builder.nullValue();
    const quoted = bytes('say ""hi""');
    expect(builder.stringValue(quoted, 0, quoted.length, ESCAPED)).toBeUndefined();
    builder.endRow(2, 'u');
    builder.beginRow();
    builder.encodedValue(postgresDialect.encodeForBulk('boolean', true)!);
    builder.encodedValue(postgresDialect.encodeForBulk('integer', 5)!);
    builder.encodedValue('');
    builder.endRow(3, 'd');
    const batch = packedBatch(builder.take());
    expect(Buffer.from(batch.copyText()!).toString('utf8')).toBe(
      'a\\tb\\\\c\\nd\\re\t\\N\tsay "hi"\ntrue\t5\t\n',
    );
    expect(batch.rows().map((r) => [r.line, r.op])).toEqual([
      [2, 'u'],
      [3, 'd'],
    ]);
    expect(batch.rows()[0]!.values.map((v) => postgresDialect.bulkValueText(v))).toEqual([
      'a\tb\\c\nd\re',
      '',
      'say "hi"',
    ]);
  });

  it('refuses NUL and invalid UTF-8 in text, writing nothing of it; a cancelled row leaves no trace', () => {
    for (const kind of ['sqlite', 'postgres'] as const) {
      const builder = new PackedRowsBuilder(kind, 2);
      builder.beginRow();
      builder.encodedValue('kept?');
      const nul = bytes('a\u0000b');
      expect(builder.stringValue(nul, 0, nul.length, QUOTED)).toBe(NUL_REASON);
      const latin1 = Buffer.from('café', 'latin1');
      expect(builder.stringValue(latin1, 0, latin1.length, QUOTED)).toBe(NOT_UTF8_REASON);
      builder.cancelRow();
      builder.beginRow();
      builder.encodedValue('x');
      builder.nullValue();
      builder.endRow(4, 'u');
      const dialect = kind === 'sqlite' ? sqliteDialect : postgresDialect;
      expect(packedBatch(builder.take()).rows()).toEqual([
        { line: 4, op: 'u', values: ['x', dialect.encodeForBulk('string', null)] },
      ]);
    }
  });

  it('starts over empty after take(), and handles empty batches and single-column rows', () => {
    const builder = new PackedRowsBuilder('sqlite', 1);
    expect(packedBatch(builder.take()).rows()).toEqual([]);
    for (const value of ['', null, 'z']) {
      builder.beginRow();
      if (value === null) builder.nullValue();
      else builder.encodedValue(value);
      builder.endRow(9, 'u');
    }
    expect(packedBatch(builder.take()).values()).toEqual(['', null, 'z']);
    expect(builder.count).toBe(0);
    expect(packedBatch(builder.take()).count).toBe(0);
  });
});
